"""The converted snnTorch and Norse networks are trainable nn.Modules: gradients, saving, no leaks."""

import copy
import io

import numpy as np
import pytest
import torch

from snntorch._neurons.neurons import SpikingNeuron
from surnn_neuro.converters.to_norse import NorseNetwork, to_norse
from surnn_neuro.converters.to_snntorch import SnnTorchNetwork, StraightThroughSpike, to_snntorch
from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.models import MODELS, build

CONVERTERS = {"snntorch": to_snntorch, "norse": to_norse}
T = 30


def small_model(name, seed=0, **options):
    torch.manual_seed(seed)
    model = build(name, 3, 8, 2, seq_len=T, layers=2, **options).eval()
    if name == "skiprnn":  # b = 1 updates at every step; make the gate skip
        with torch.no_grad():
            for layer in model.layers:
                layer.gate.bias.fill_(-0.5)
    return model


#: models whose gates have trainable parameters (oscillator, threshold, skip); the others' are fixed
LEARNED_GATES = ("sarnn", "skiprnn", "sugru", "surnn")


@pytest.mark.parametrize("framework", sorted(CONVERTERS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_backward_reaches_weights_and_gate_parameters(name, framework):
    torch.set_num_threads(1)
    net = CONVERTERS[framework](to_graph(small_model(name)))
    out, gates = net(torch.rand(T, 2, 3))
    (out ** 2).sum().backward()
    trainable = {n: p for n, p in net.named_parameters() if p.requires_grad}
    assert trainable and all(p.dtype == torch.float32 for p in trainable.values())
    no_grad = [n for n, p in trainable.items() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert no_grad == []  # every weight, bias and gate parameter
    # among them: input and recurrent weights of both layers and the readout, and the gates' own
    assert sum("weight" in n and ".gate." not in n for n in trainable) == 5
    gate_params = [n for n in trainable if ".gate." in n]
    assert bool(gate_params) == (name in LEARNED_GATES), gate_params
    frozen = sorted(n for n, p in net.named_parameters() if not p.requires_grad)
    assert frozen == (["layers.0.gate.omega", "layers.1.gate.omega"] if name in ("sugru", "surnn") else [])


@pytest.mark.parametrize("framework", sorted(CONVERTERS))
@pytest.mark.parametrize("name", ["gru", "random", "phased"])
def test_gradients_equal_torch_model_without_surrogates(name, framework):
    # Fixed-schedule gates have no surrogate: the event-driven network must give the very gradients of
    # the dense torch model (same function, sigmas only reorder the sums). float64 on both sides.
    model = small_model(name, seed=3).double()
    net = CONVERTERS[framework](to_graph(model), dtype=torch.float64)
    x = torch.rand(T, 2, 3, dtype=torch.float64)
    target = torch.randn(2, 2, dtype=torch.float64)
    ((model(x)[0] - target) ** 2).sum().backward()
    ((net(x)[0] - target) ** 2).sum().backward()
    first = model.layers[0]
    if framework == "snntorch":
        layer = net.layers[0]
        pairs = [(first.weight_ih, layer.synapse.weight), (first.bias_ih, layer.synapse.bias),
                 (first.weight_hh, layer.neuron.recurrent.weight), (first.bias_hh, layer.neuron.recurrent.bias),
                 (model.readout.weight, net.readout.weight)]
    else:
        layer = net.layers[0]
        pairs = [(first.weight_ih, layer.input_weight), (first.bias_ih, layer.input_bias),
                 (first.weight_hh, layer.cell.weight_hh), (first.bias_hh, layer.cell.bias_hh),
                 (model.readout.weight, net.readout_weight)]
    for a, b in pairs:
        assert a.grad.abs().sum() > 0
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-9, atol=1e-12)


def test_snntorch_skip_gate_uses_straight_through_like_the_model():
    # Skip RNN: u = round(ũ) with identity gradient in the model; the snnTorch gate neuron is
    # Leaky(threshold 0.5) with snnTorch's straight-through estimator: same values, same gradient.
    model = small_model("skiprnn", seed=4).double()
    net = to_snntorch(to_graph(model), dtype=torch.float64)
    assert isinstance(net.layers[0].gate.neuron.spike_grad, StraightThroughSpike)
    x = torch.rand(T, 2, 3, dtype=torch.float64)
    (model(x)[0].sum()).backward()
    (net(x)[0].sum()).backward()
    torch.testing.assert_close(net.layers[0].gate.weight.grad, model.layers[0].gate.weight.grad, rtol=1e-8, atol=1e-12)
    torch.testing.assert_close(net.layers[0].gate.bias.grad, model.layers[0].gate.bias.grad, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("framework", sorted(CONVERTERS))
def test_a_few_training_steps_lower_the_loss(framework):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    net = CONVERTERS[framework](to_graph(small_model("sugru", seed=1)))
    x, target = torch.rand(T, 4, 3), torch.randn(4, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = ((net(x)[0] - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize("framework", sorted(CONVERTERS))
@pytest.mark.parametrize("name", ["sugru", "sarnn", "skiprnn", "clockwork"])
def test_save_load_deepcopy_round_trip(name, framework):
    net = CONVERTERS[framework](to_graph(small_model(name, seed=2)))
    x = torch.rand(T, 2, 3)
    out, gates = net(x)
    out.sum().backward()  # a forward pass with a graph must leave nothing unpicklable behind
    buf = io.BytesIO()
    torch.save(net, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert isinstance(loaded, SnnTorchNetwork if framework == "snntorch" else NorseNetwork)
    clone = copy.deepcopy(net)
    with torch.no_grad():
        for other in (loaded, clone):
            out2, gates2 = other(x)
            assert torch.equal(out2, out.detach())
            assert all(torch.equal(a, b) for a, b in zip(gates, gates2))


def test_snntorch_instance_registry_not_touched():
    # snnTorch appends every SpikingNeuron to a class-level list; conversions must not grow it
    before = list(SpikingNeuron.instances)
    graph = to_graph(small_model("sarnn"))
    nets = [to_snntorch(graph) for _ in range(3)]
    nets[0](torch.rand(5, 1, 3))
    assert len(SpikingNeuron.instances) == len(before)
    assert all(a is b for a, b in zip(SpikingNeuron.instances, before))


@pytest.mark.parametrize("framework", sorted(CONVERTERS))
def test_conversion_copies_weights_exactly(framework):
    graph = to_graph(small_model("sarnn", seed=5))
    net = CONVERTERS[framework](graph, dtype=torch.float64)
    layer, gate = graph.layers[1], graph.gate_of(graph.layers[1].name)
    if framework == "snntorch":
        got = net.layers[1]
        pairs = [(layer.w_ih, got.synapse.weight), (layer.w_hh, got.neuron.recurrent.weight),
                 (layer.b_hh, got.neuron.recurrent.bias), (gate.w_in, got.gate.synapse.weight),
                 (gate.bias, got.gate.synapse.bias), (gate.w_self, got.gate.w_self),
                 (graph.readout.weight, net.readout.weight)]
    else:
        got = net.layers[1]
        pairs = [(layer.w_ih, got.input_weight), (layer.w_hh, got.cell.weight_hh), (layer.b_hh, got.cell.bias_hh),
                 (gate.w_in, got.gate.input_weight), (gate.bias, got.gate.input_bias), (gate.w_self, got.gate.w_self),
                 (graph.readout.weight, net.readout_weight)]
    for a, b in pairs:
        np.testing.assert_array_equal(b.detach().numpy(), a)
    with pytest.raises(ValueError, match="expected an EventGraph"):
        CONVERTERS[framework]("not a graph")
    with pytest.raises(ValueError, match=r"expected x of shape \(T, B, V=3\)"):
        net(torch.zeros(4, 2, 5, dtype=torch.float64))
