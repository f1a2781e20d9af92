"""NeuroBench 2.3.0's own harness (TorchModel, Benchmark, SynapticOperations, ActivationSparsity,
ConnectionSparsity) on trained-ish, pruned gru and sugru models through the adapter
(converters/to_neurobench.py), checked against the project's own counts (ir.counting through
metrics.inference_counts). Every expected relation is derived in the comments (docs/energy.md §1).

Notation, per sample (NeuroBench averages over samples, so do we): T steps, H hidden, V inputs,
O outputs; fan_in = nnz(W_ih[:, j]), fan_rec = nnz(W_hh[:, i]), fan_o = nnz(W_o[:, i]) (3 gate blocks
stacked); an "event" is what our semantics sends (docs/semantics.md §3); a "call" is one call of an
nn.Linear / nn.GRUCell on one batch step, which NeuroBench counts as ACs when every value of its
input is in {-1, 0, 1} (its rule is per call) and as MACs otherwise.
"""

import numpy as np
import pytest

from surnn_neuro.converters.to_neurobench import GateSpikes, neurobench_model, to_neurobench
from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.datasets.digits import digits
from surnn_neuro.ir import connection_sparsity
from surnn_neuro.ir.gates import fanout
from surnn_neuro.metrics import inference_counts
from surnn_neuro.simulators import reference

torch = pytest.importorskip("torch")
pytest.importorskip("neurobench")
from neurobench.benchmarks import Benchmark  # noqa: E402
from neurobench.metrics.static import ConnectionSparsity  # noqa: E402
from neurobench.metrics.workload import ActivationSparsity, ClassificationAccuracy, SynapticOperations  # noqa: E402
from neurobench.models import TorchModel  # noqa: E402

H, N, BATCH, T, V, O = 8, 24, 8, 64, 1, 10  # noqa: E741 (O: outputs, as in the docs)


@pytest.fixture(scope="module")
def data():
    return digits()


_TRAINED = {}


def trained_pruned(name, data):
    """A small model after 15 Adam steps on digits, then magnitude-pruned (30 % of W_ih, W_hh and W_o
    set to 0) so that fan-outs differ from the dense shapes and ConnectionSparsity is not 0. Trained
    once per module (a fresh copy each call)."""
    import copy

    if name not in _TRAINED:
        _TRAINED[name] = _train_and_prune(name, data)
    return copy.deepcopy(_TRAINED[name])


def _train_and_prune(name, data):
    from surnn_neuro.models import build

    torch.manual_seed(0)
    model = build(name, V, H, O, seq_len=T)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(15):
        idx = rng.choice(len(data.x_train), 32, replace=False)
        x = torch.tensor(data.x_train[idx]).transpose(0, 1)
        out, _ = model(x)
        loss = torch.nn.functional.cross_entropy(out, torch.tensor(data.y_train[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        for w in (model.layers[0].weight_ih, model.layers[0].weight_hh, model.readout.weight):
            w[w.abs() < w.abs().flatten().quantile(0.3)] = 0.0
    return model


def run_neurobench(model, x, y, pre=()):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                         batch_size=BATCH)
    post = [lambda p: p.argmax(-1)] if not pre else [lambda p: p[0].argmax(-1)]
    bench = Benchmark(model, loader, list(pre), post,
                      [[ConnectionSparsity], [SynapticOperations, ActivationSparsity, ClassificationAccuracy]])
    return bench.run(quiet=True)


def binary_call(a):
    """NeuroBench's per-call AC rule on one batch step ``a: (B, ·)``."""
    return bool(np.all((a == 0) | (a == 1) | (a == -1)))


@pytest.mark.parametrize("name", ["gru", "sugru"])
def test_neurobench_harness_agrees_with_our_counts(name, data):
    model = trained_pruned(name, data)
    graph = to_graph(model)  # dense input encoding, readout "last"
    x, y = data.x_test[:N].astype(np.float64), data.y_test[:N]
    trace, states = reference.run_with_states(graph, x)
    ours = inference_counts(trace)
    nb = run_neurobench(neurobench_model(graph), x, y)

    layer, ro = graph.layers[0], graph.readout
    fan_in, fan_rec, fan_o = fanout(layer.w_ih), fanout(layer.w_hh), fanout(ro.weight)
    g = trace.gate_spikes["layer0"]  # (N, T, H)
    h = states["layer0"]
    delta = np.diff(h, axis=1, prepend=0.0)  # Δ_t = h_t − h_{t−1}, h_{−1} = 0
    # the pruning left fan-outs of every size, and the sugru's gates closed some slots
    assert fan_rec.min() < 3 * H and fan_o.min() < O
    assert (g.mean() == 1.0) == (name == "gru")

    # --- Effective ops. Ours: every input event (x ≠ 0) reaches fan_in synapses, every delta event
    # (one per open gate, even if Δ = 0) fan_rec + fan_o (W_hh when sent, and the readout sigma).
    # NeuroBench sees the same calls (w_ih on x_t, w_hh and the readout on Δ_t) and counts non-zero
    # inputs only: an open gate whose Δ is exactly 0 is ours and not NeuroBench's.
    in_ops = (x[..., 0] != 0) * fan_in[0]  # (N, T), V = 1
    ev_ops = (g * (fan_rec + fan_o)).sum(-1)  # (N, T)
    zero = g & (delta == 0)
    nb_ev_ops = ev_ops - (zero * (fan_rec + fan_o)).sum(-1)
    assert ours["synaptic_ops"] == pytest.approx((in_ops.sum() + ev_ops.sum()) / N)
    # AC/MAC. Ours, per event: input events of value ±1 are ACs, delta events are MACs.
    # NeuroBench, per call: a batch step's x call is ACs if all 8 pixels are in {0, 1} (corner rows of
    # the digits are blank), a Δ call if all Δ are (e.g. every gate closed: 0 ops anyway).
    ac_ours = ((np.abs(x[..., 0]) == 1) * fan_in[0]).sum()
    ac_nb = 0
    for b0 in range(0, N, BATCH):
        sl = slice(b0, b0 + BATCH)
        for t in range(T):
            ac_nb += in_ops[sl, t].sum() * binary_call(x[sl, t]) + nb_ev_ops[sl, t].sum() * binary_call(delta[sl, t])
    total_nb = (in_ops.sum() + nb_ev_ops.sum()) / N
    assert ours["SynapticOperations"]["Effective_ACs"] == pytest.approx(ac_ours / N)
    assert nb["SynapticOperations"]["Effective_ACs"] == pytest.approx(ac_nb / N)
    assert nb["SynapticOperations"]["Effective_MACs"] == pytest.approx(total_nb - ac_nb / N)
    # pixels of value 1 (16/16) are AC events to us; to NeuroBench only whole binary batch steps are,
    # and on digits those are blank rows (0 ops): the two rules differ here by all of ac_ours
    assert ac_ours > 0 and ac_nb < ac_ours

    # --- Dense. Ours: 3H(V + H) per step, the readout O·H once ("last"). NeuroBench runs the same
    # calls with all-one inputs and weights: 3H·V + 3H·H per step, and the readout every step.
    assert ours["SynapticOperations"]["Dense"] == T * 3 * H * (V + H) + O * H
    assert nb["SynapticOperations"]["Dense"] == ours["SynapticOperations"]["Dense"] + (T - 1) * O * H

    # --- ActivationSparsity: the gate decisions (GateSpikes, (B, H) per step) are the activations;
    # NeuroBench's zeros / slots per batch, weighted by batch size, is our 1 − gate spikes / slots.
    assert nb["ActivationSparsity"] == pytest.approx(ours["ActivationSparsity"], abs=1e-12)
    assert nb["ActivationSparsity"] == pytest.approx(1.0 - g.mean(), abs=1e-12)

    # --- ConnectionSparsity: zeros / weights of the nn.Linear synapses W_ih, W_hh, W_o (4 decimals).
    assert nb["ConnectionSparsity"] == round(connection_sparsity(graph), 4)
    assert nb["ConnectionSparsity"] == pytest.approx(0.3, abs=0.02)

    # --- the adapter computes the network: its accuracy is the reference's
    acc = float(np.mean(trace.outputs.argmax(-1) == y))
    assert nb["ClassificationAccuracy"] == pytest.approx(acc)
    out = to_neurobench(graph)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out, trace.outputs, rtol=0, atol=1e-9)


def test_sugru_costs_less_than_gru_in_neurobench_too(data):
    res = {}
    for name in ("gru", "sugru"):
        graph = to_graph(trained_pruned(name, data))
        x, y = data.x_test[:N].astype(np.float64), data.y_test[:N]
        res[name] = run_neurobench(neurobench_model(graph), x, y)["SynapticOperations"]
    # the sugru's gates open ~30 % of the slots (duty 0.3): its recurrent and readout events shrink
    nb_gru = res["gru"]["Effective_MACs"] + res["gru"]["Effective_ACs"]
    nb_su = res["sugru"]["Effective_MACs"] + res["sugru"]["Effective_ACs"]
    assert nb_su < 0.6 * nb_gru
    assert res["sugru"]["Dense"] == res["gru"]["Dense"]  # the same shapes


def test_the_trained_model_alone_shows_neurobench_only_its_readout(data):
    """Issue 13's observation, the reason for the adapter: NeuroBench's hooks on the trainable model
    find one nn.Linear (the readout, called once on h_{T−1}) and no activation module."""
    model = trained_pruned("sugru", data)
    x, y = data.x_test[:N].astype(np.float32), data.y_test[:N]
    nb = run_neurobench(TorchModel(model), x, y, pre=[lambda d: (d[0].transpose(0, 1), d[1])])
    assert nb["SynapticOperations"]["Dense"] == O * H  # the readout, once
    assert nb["ActivationSparsity"] == 0.0


def test_dense_gru_as_torch_cells_three_h_elementwise_products(data):
    """NeuroBench's native GRUCell rule on the same (pruned) dense gru (form="cells"): per step
    W_ih·x and W_hh·h_{t−1} (non-zero h only), plus three element-wise products per neuron, r⊙(W_hn h + b_hn),
    (1 − z)⊙n and z⊙h_{t−1}; the readout Linear once on h_{T−1}.

    With every bias non-zero (binarised to 1) the first two products always count (their factors are
    ≥ 1 after adding the biases) and z⊙h counts where h_{t−1} ≠ 0: 2H + nnz(h_{t−1}) per step.
    Ours (event semantics): H delta events every step (fan_rec each, counted when sent, so the last
    step's too) and the readout sigma fed every step's events (fan_o each)."""
    model = trained_pruned("gru", data)
    graph = to_graph(model)
    layer, ro = graph.layers[0], graph.readout
    assert np.all(layer.b_ih != 0) and np.all(layer.b_hh != 0)  # the precondition of the derivation
    x, y = data.x_test[:N].astype(np.float64), data.y_test[:N]
    trace, states = reference.run_with_states(graph, x)
    ours = inference_counts(trace)
    nb = run_neurobench(neurobench_model(graph, form="cells"), x, y)

    fan_in, fan_rec, fan_o = fanout(layer.w_ih), fanout(layer.w_hh), fanout(ro.weight)
    h = states["layer0"]
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)  # h_{t−1}, (N, T, H)
    in_ops = (x[..., 0] != 0) * fan_in[0]  # (N, T)
    rec_ops = ((h_prev != 0) * fan_rec).sum(-1)
    elementwise = 2 * H + (h_prev != 0).sum(-1)  # 3H per step, 2H at t = 0 (h_{−1} = 0)
    ro_ops = ((h[:, -1] != 0) * fan_o).sum(-1)  # once, (N,)
    cell_ops = in_ops + rec_ops + elementwise  # (N, T): one GRUCell call per batch step
    total = (cell_ops.sum() + ro_ops.sum()) / N
    # ours: H delta events every step, each to fan_rec (W_hh) and fan_o (readout sigma)
    assert ours["synaptic_ops"] == pytest.approx((in_ops.sum() + N * T * (fan_rec.sum() + fan_o.sum())) / N)
    # so with no state exactly 0 (true here), ours − NeuroBench = our last step's recurrent events
    # (sent, never used; NeuroBench's first call sees h_{−1} = 0 instead) + the readout fed T times
    # instead of once − the element-wise products, which we do not call synaptic (3HT − H)
    assert np.all(h != 0)
    assert ours["synaptic_ops"] - total == pytest.approx(fan_rec.sum() + (T - 1) * fan_o.sum() - (3 * H * T - H))
    # NeuroBench's AC rule looks at x only: a batch step with blank pixels makes the whole cell's ops ACs
    ac = sum(cell_ops[b0:b0 + BATCH, t].sum() * binary_call(x[b0:b0 + BATCH, t])
             for b0 in range(0, N, BATCH) for t in range(T))
    assert nb["SynapticOperations"]["Effective_ACs"] == pytest.approx(ac / N)
    assert nb["SynapticOperations"]["Effective_MACs"] == pytest.approx(total - ac / N)
    # Dense: all ones: 3H(V + H) + 3H per step, the readout once; ours has no element-wise products
    assert nb["SynapticOperations"]["Dense"] == T * (3 * H * (V + H) + 3 * H) + O * H
    assert nb["SynapticOperations"]["Dense"] == ours["SynapticOperations"]["Dense"] + 3 * H * T
    assert nb["ActivationSparsity"] == ours["ActivationSparsity"] == 0.0  # every gate open
    # NeuroBench counts an RNN cell's biases among its weights (not a Linear's): E weights of ours
    # (3H(V + H) + O·H) plus 2·3H non-zero biases in the denominator
    entries = 3 * H * (V + H) + O * H
    assert nb["ConnectionSparsity"] == round(connection_sparsity(graph) * entries / (entries + 6 * H), 4)
    out = to_neurobench(graph, form="cells")(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out, trace.outputs, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="layer 'layer0' has a 'oscillator' gate"):
        to_neurobench(to_graph(trained_pruned("sugru", data)), form="cells")


def test_spiking_graph_in_neurobench_equals_our_counts():
    """braille.nir: snnTorch's neurons (NeuroBench hooks snn.SpikingNeuron), binary spikes into every
    nn.Linear: all ACs on both sides, every count equal (the recurrent Linear is called on the spikes
    of step t when they are sent, as we count them; the readout every step, mode all)."""
    import importlib.util
    from pathlib import Path

    from surnn_neuro.converters.nir_io import read_nir

    spec = importlib.util.find_spec("norse")
    braille = Path(spec.submodule_search_locations[0]) / "torch/utils/test/braille.nir"
    if not braille.exists():
        pytest.skip("braille.nir ships in the norse wheel")
    with pytest.warns(UserWarning):  # it follows snnTorch's export convention (reset not in the file)
        graph = read_nir(braille)
    x = (np.random.default_rng(0).random((8, 40, 12)) < 0.2).astype(np.float64)
    ours = inference_counts(reference.run(graph, x))
    model = neurobench_model(graph)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.zeros(8)),
                                         batch_size=4)
    nb = Benchmark(model, loader, [], [], [[ConnectionSparsity], [SynapticOperations, ActivationSparsity]]).run(
        quiet=True)
    assert nb["SynapticOperations"]["Effective_MACs"] == 0
    assert nb["SynapticOperations"]["Effective_ACs"] == pytest.approx(ours["synaptic_ops"])
    assert nb["SynapticOperations"]["Dense"] == pytest.approx(ours["SynapticOperations"]["Dense"])
    assert nb["ActivationSparsity"] == pytest.approx(ours["ActivationSparsity"], abs=1e-12)
    assert nb["ConnectionSparsity"] == round(connection_sparsity(graph), 4)
    assert GateSpikes not in [type(m) for m in model.__net__().modules()]
