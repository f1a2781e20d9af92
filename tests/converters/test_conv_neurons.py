"""Gate and state neurons of the snnTorch and Norse conversions, and tiny networks, derived by hand."""

import math

import numpy as np
import pytest
import torch

from surnn_neuro.converters import to_norse as N
from surnn_neuro.converters import to_snntorch as S
from surnn_neuro.errors import UserError
from surnn_neuro.ir import (AlwaysGate, COUNT_FIELDS, EventGraph, GlobalGate, InputNode, LayerNode,
                            OscillatorGate, ReadoutNode, ScheduleGate, ThresholdGate)
from surnn_neuro.simulators import simulate

BACKENDS_UNDER_TEST = ("reference", "snntorch", "norse")
F64 = torch.float64


# ------------------------------------------------------------------------------------------------
# gate neurons: strict threshold, memoryless
# ------------------------------------------------------------------------------------------------


def test_snntorch_gate_neuron_is_strict_and_memoryless():
    neuron = S.gate_neuron(0.0)
    drive = torch.tensor([-1.0, 0.0, 1e-300, 0.5], dtype=F64)
    spk, mem = neuron(drive, torch.zeros_like(drive))
    assert spk.tolist() == [0.0, 0.0, 1.0, 1.0]  # fires on drive > 0, not on drive = 0
    assert torch.equal(mem, drive)  # beta = 0: the membrane is the drive, float64 kept
    # threshold 0.5, drive 0.9 at every step: a memoryless neuron fires at every step. (snnTorch's
    # default reset by subtraction would give mem 0.9, 0.4, 0.9, 0.4 and spikes 1, 0, 1, 0.)
    neuron = S.gate_neuron(0.5)
    mem = torch.zeros(1, dtype=F64)
    spikes = []
    for _ in range(4):
        spk, mem = neuron(torch.tensor([0.9], dtype=F64), mem)
        spikes.append(spk.item())
        assert mem.item() == 0.9
    assert spikes == [1.0, 1.0, 1.0, 1.0]
    spk, _ = neuron(torch.tensor([0.5, math.nextafter(0.5, 1.0)], dtype=F64), torch.zeros(2, dtype=F64))
    assert spk.tolist() == [0.0, 1.0]  # ũ = 0.5 does not fire, the next float does


def test_framework_quirks_the_conversions_work_around():
    # Pin the third-party behaviour the converters' docstrings describe, so an upgrade that changes
    # it shows up here. snnTorch: Leaky(beta=0) with the default reset by subtraction is not
    # memoryless: drive 0.9 at threshold 0.5 gives mem 0.9, 0.4, 0.9, 0.4 and spikes 1, 0, 1, 0.
    import snntorch as snn
    from norse.torch.functional.threshold import threshold
    from snntorch._neurons.neurons import SpikingNeuron

    leaky = S._forget(snn.Leaky(beta=0.0, threshold=0.5))
    mem, spikes = torch.zeros(1), []
    for _ in range(4):
        spk, mem = leaky(torch.tensor([0.9]), mem)
        spikes.append(spk.item())
    assert spikes == [1.0, 0.0, 1.0, 0.0]
    assert leaky not in SpikingNeuron.instances
    # snnTorch surrogates return float32 spikes for float64 input (the networks cast them back)
    assert leaky.spike_grad(torch.zeros(1, dtype=F64)).dtype == torch.float32
    # Norse: SuperSpike's backward is 1/(|x| + 1)² whatever alpha is: 1/4 at x = 1
    for alpha in (1.0, 100.0):
        x = torch.ones(1, dtype=F64, requires_grad=True)
        threshold(x, "super", alpha).sum().backward()
        assert x.grad.item() == 0.25


def test_snntorch_surrogates_picklable_and_validated():
    import pickle

    for sg in (S.ATan(3.0), S.StraightThroughSpike()):
        assert pickle.loads(pickle.dumps(sg)) == sg
    with pytest.raises(ValueError, match="ATan: alpha must be a finite number > 0"):
        S.ATan(0.0)
    # ATan backward (α/2)/(1 + (π α x/2)²): at x = 0 it is α/2 = 1.5; STE passes 1
    x = torch.zeros(2, dtype=F64, requires_grad=True)
    (S.ATan(3.0)(x[:1]).sum() + S.StraightThroughSpike()(x[1:]).sum()).backward()
    assert x.grad.tolist() == [1.5, 1.0]


@pytest.mark.parametrize("method", N.METHODS)
def test_norse_gate_steps_are_strict(method):
    z, _ = N.threshold_gate_step(torch.tensor([[-1.0, 0.0, 1e-300, 2.0]], dtype=F64),
                                 N.ThresholdGateState(torch.zeros(1, 4, dtype=F64)),
                                 N.ThresholdGateParameters(torch.zeros(4, dtype=F64), method, 1.0))
    assert z.tolist() == [[0.0, 0.0, 1.0, 1.0]] and z.dtype == F64
    state = N.GlobalGateState(u_tilde=torch.tensor([[0.5], [math.nextafter(0.5, 1.0)]], dtype=F64),
                              du=torch.zeros(2, 1, dtype=F64), s=torch.zeros(2, 1, dtype=F64))
    u, _ = N.global_gate_step(state, N.GlobalGateParameters(torch.zeros(3, dtype=F64), torch.tensor(0.0), 1.0, method))
    assert u.tolist() == [[0.0], [1.0]]


def test_norse_unknown_method_fails_loudly():
    graph = _rnn_graph(ScheduleGate("gate", mask=[[1]]))
    with pytest.raises(ValueError, match="unknown threshold method 'superspike'; known: super, heaviside"):
        N.to_norse(graph, method="superspike")


# ------------------------------------------------------------------------------------------------
# the selective-update state neuron, one step by hand
# ------------------------------------------------------------------------------------------------

W_HH = [[0.5, -1.0], [2.0, 0.25]]
B_HH = [0.1, -0.2]


def _snntorch_step(s_in, gate, h):
    neuron = S.SelectiveUpdate("rnn", 2, W_HH, B_HH).double()
    _, _, rec = neuron.init_selective_update(1, h)
    rec = rec + h @ neuron.recurrent.weight.T  # start from h instead of 0: S_rec = W_hh h + b_hh
    delta, h_new, _, rec = neuron(s_in, gate, h, None, rec)
    return delta, h_new, rec


def _norse_step(s_in, gate, h):
    cell = N.SUCell("rnn", 2, W_HH, B_HH).double()
    state = cell.initial_state(h)
    state = state._replace(h=h, rec=state.rec + h @ cell.weight_hh.T)
    delta, state = cell(s_in, gate, state)
    return delta, state.h, state.rec


@pytest.mark.parametrize("step", [_snntorch_step, _norse_step], ids=["snntorch", "norse"])
def test_selective_update_step_by_hand(step):
    # h = [0.3, −0.4]: S_rec = W_hh h + b_hh = [0.15 + 0.4 + 0.1, 0.6 − 0.1 − 0.2] = [0.65, 0.3].
    # S_in = [0.2, 0.7], gate [1, 0]: f_0 = tanh(0.2 + 0.65) = tanh(0.85); neuron 1 is copied.
    # Δ = [tanh(0.85) − 0.3, 0]; S_rec += W_hh[:, 0] Δ_0 = [0.65 + 0.5 Δ_0, 0.3 + 2 Δ_0].
    h = torch.tensor([[0.3, -0.4]], dtype=F64)
    delta, h_new, rec = step(torch.tensor([[0.2, 0.7]], dtype=F64), torch.tensor([[1.0, 0.0]], dtype=F64), h)
    d0 = math.tanh(0.85) - 0.3
    assert delta.tolist() == [[pytest.approx(d0, abs=1e-15), 0.0]]
    assert h_new[0, 1].item() == -0.4  # exact copy
    assert rec.tolist()[0] == [pytest.approx(0.65 + 0.5 * d0, abs=1e-15), pytest.approx(0.3 + 2 * d0, abs=1e-15)]
    # the accumulated sigma equals the dense W_hh h_t + b_hh
    dense = h_new @ torch.tensor(W_HH, dtype=F64).T + torch.tensor(B_HH, dtype=F64)
    torch.testing.assert_close(rec, dense, rtol=0, atol=1e-15)


# ------------------------------------------------------------------------------------------------
# tiny networks on every backend
# ------------------------------------------------------------------------------------------------


def _rnn_graph(gate, encoding="dense", mode="all", w_ih=1.0, w_hh=0.5, b_ih=0.0, b_hh=0.0):
    """1 input → 1 tanh neuron → readout y = 2 h + 1."""
    layer = LayerNode("layer", cell="rnn", w_ih=[[w_ih]], w_hh=[[w_hh]], b_ih=[b_ih], b_hh=[b_hh])
    ro = ReadoutNode("readout", weight=[[2.0]], bias=[1.0], mode=mode)
    return EventGraph.sequential(InputNode("input", size=1, encoding=encoding), [(layer, gate)], ro)


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
def test_schedule_network_by_hand(backend):
    # mask [1, 0] periodic, x = 1 at every step, h_t = tanh(x_t + 0.5 h_{t-1}) where open:
    #   h_0 = tanh(1), h_1 = h_0, h_2 = tanh(1 + 0.5 tanh(1)), h_3 = h_2;  y_t = 2 h_t + 1
    graph = _rnn_graph(ScheduleGate("gate", mask=[[1], [0]], periodic=True))
    trace = simulate(graph, np.ones((1, 4, 1)), backend)
    h0, h2 = math.tanh(1.0), math.tanh(1.0 + 0.5 * math.tanh(1.0))
    np.testing.assert_allclose(trace.outputs[0, :, 0], [2 * h0 + 1, 2 * h0 + 1, 2 * h2 + 1, 2 * h2 + 1], atol=1e-15)
    assert trace.gate_spikes["layer"][0, :, 0].tolist() == [True, False, True, False]
    # rows input, layer, readout. Input events: x_t = 1 ≠ 0 each step (value 1: ACs).
    # layer synaptic ops: 1 input event · fan-out 1 + own delta events · fan-out 1 = 2, 1, 2, 1
    # dense MACs: G·H·(V + H) = 2 per step (layer), O·H = 1 per step (readout, mode all)
    assert trace.events.tolist() == [[1, 1, 1, 1], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert trace.synaptic_ops.tolist() == [[0, 0, 0, 0], [2, 1, 2, 1], [1, 0, 1, 0]]
    assert trace.ac_ops.tolist() == [[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]]
    assert trace.neuron_updates.tolist() == [[0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert trace.dense_macs.tolist() == [[0, 0, 0, 0], [2, 2, 2, 2], [1, 1, 1, 1]]
    with pytest.raises(UserError, match="non-periodic mask covers 2 steps, input has 3"):
        simulate(_rnn_graph(ScheduleGate("gate", mask=[[1], [0]], periodic=False)), np.ones((1, 3, 1)), backend)


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
def test_threshold_gate_by_hand(backend):
    # w_self = 0, W_in = 1, bias = 0: g_t = [x_t > 0] (strict). Delta encoding: the input sends
    # d = 1, −1, −1, 3, −2 and the accumulated sigma is x_t again exactly: 1, 0, −1, 2, 0.
    gate = ThresholdGate("gate", w_self=[0.0], w_in=[[1.0]], bias=[0.0])
    graph = _rnn_graph(gate, encoding="delta", mode="last")
    x = np.array([1.0, 0.0, -1.0, 2.0, 0.0]).reshape(1, 5, 1)
    trace = simulate(graph, x, backend)
    assert trace.gate_spikes["layer"][0, :, 0].tolist() == [True, False, False, True, False]
    # h_0 = tanh(1); h_3 = tanh(2 + 0.5 h_0); y = 2 h_4 + 1 = 2 h_3 + 1
    assert trace.outputs[0, 0] == pytest.approx(2 * math.tanh(2 + 0.5 * math.tanh(1.0)) + 1, abs=1e-15)
    # input (delta) events: all 5 non-zero; ops into the layer: fan-out [W_ih; W_in] = 2 each,
    # own deltas: fan-out W_hh (1) + w_self (0, not a synapse) = 1
    assert trace.events[0].tolist() == [1, 1, 1, 1, 1]
    assert trace.synaptic_ops[1].tolist() == [3, 2, 2, 3, 2]
    assert trace.ac_ops[1].tolist() == [2, 2, 2, 0, 0]  # d ∈ {−1, 1} at t = 0, 1, 2


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
def test_global_gate_by_hand(backend):
    # w = 0, b = 0: Δũ = σ(0) = 0.5 whatever h is. ũ_0 = 1 → u = 1, ũ_1 = Δũ = 0.5 → u = 0 (0.5 is
    # not > 0.5), ũ_2 = 0.5 + min(0.5, 0.5) = 1 → u = 1, ... so 1, 0, 1, 0, 1, 0 for all neurons.
    layer = LayerNode("layer", cell="gru", w_ih=np.full((6, 1), 0.3), w_hh=np.full((6, 2), -0.2),
                      b_ih=np.full(6, 0.1), b_hh=np.full(6, 0.05))
    gate = GlobalGate("gate", weight=[0.0, 0.0], bias=0.0)
    ro = ReadoutNode("readout", weight=[[1.0, -1.0]], bias=[0.0], mode="mean")
    graph = EventGraph.sequential(InputNode("input", size=1), [(layer, gate)], ro)
    trace = simulate(graph, np.full((2, 6, 1), 0.7), backend)
    assert trace.gate_spikes["layer"].tolist() == [[[u, u] for u in (True, False) * 3]] * 2
    assert trace.outputs.tolist() == [[0.0], [0.0]]  # both neurons see the same drives: h_0 = h_1


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
def test_oscillator_gate_by_hand(backend):
    # ω = π/2. Neuron 0: a = 0.5 + sin(πt/2) = 0.5, 1.5, 0.5, −0.5, …: fires 1, 1, 1, 0 (period 4).
    # Neuron 1: a = −1 + sin(πt/2 + π/2) = −1 + cos(πt/2) = 0, −1, −2, −1, 0, …: never fires, since
    # the drive is exactly 0 at t = 0 and 4 (sin(π/2) = sin(5π/2) = 1.0 in float64) and the rule is strict.
    gate = OscillatorGate("gate", bias=[0.5, -1.0], alpha=[[1.0], [1.0]], phi=[[0.0], [math.pi / 2]],
                          omega=[math.pi / 2])
    layer = LayerNode("layer", cell="rnn", w_ih=[[1.0], [1.0]], w_hh=np.eye(2), b_ih=[0.0, 0.0], b_hh=[0.0, 0.0])
    ro = ReadoutNode("readout", weight=[[1.0, 1.0]], bias=[0.0], mode="all")
    graph = EventGraph.sequential(InputNode("input", size=1, encoding="spikes"), [(layer, gate)], ro)
    trace = simulate(graph, np.ones((1, 8, 1)), backend)
    g = trace.gate_spikes["layer"][0]
    assert g[:, 0].tolist() == [True, True, True, False] * 2
    assert not g[:, 1].any()
    np.testing.assert_array_equal(trace.outputs[0, :, 0] == 0, [False] * 8)  # neuron 0 moves, 1 stays 0


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
def test_always_gate_lstm_matches_torch_lstm_cell(backend):
    # always open: the layer is a plain torch.nn.LSTMCell, run densely here as the expected value
    rng = np.random.default_rng(5)
    cell = torch.nn.LSTMCell(2, 3).double()
    layer = LayerNode("layer", cell="lstm", w_ih=cell.weight_ih.detach().numpy(), w_hh=cell.weight_hh.detach().numpy(),
                      b_ih=cell.bias_ih.detach().numpy(), b_hh=cell.bias_hh.detach().numpy())
    ro = ReadoutNode("readout", weight=rng.normal(size=(2, 3)), bias=[0.1, -0.1], mode="last")
    graph = EventGraph.sequential(InputNode("input", size=2), [(layer, AlwaysGate("gate", size=3))], ro)
    x = rng.normal(size=(2, 30, 2))
    h = c = torch.zeros(2, 3, dtype=F64)
    with torch.no_grad():
        for t in range(30):
            h, c = cell(torch.from_numpy(x[:, t]), (h, c))
    expected = h.numpy() @ ro.weight.T + ro.bias
    trace = simulate(graph, x, backend)
    np.testing.assert_allclose(trace.outputs, expected, rtol=0, atol=1e-13)
    assert trace.update_rate() == 1.0
    assert all(getattr(trace, f).shape == (3, 30) for f in COUNT_FIELDS)
