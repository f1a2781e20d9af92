"""The event-driven reference and the dense simulator agree, count by hand, and copy closed states exactly."""

import itertools

import numpy as np
import pytest

from surnn_neuro.errors import UserError
from surnn_neuro.ir import (
    COUNT_FIELDS,
    AlwaysGate,
    EventGraph,
    InputNode,
    LayerNode,
    ReadoutNode,
    ScheduleGate,
    count_trace_fields,
)
from surnn_neuro.ir.examples import GATE_KINDS, random_graph, random_input
from surnn_neuro.simulators import BACKENDS, simulate
from surnn_neuro.simulators import dense, reference

CELLS = ("gru", "rnn", "lstm")
MODES = ("last", "mean", "all")
ENCODINGS = ("dense", "delta", "spikes")


def assert_agree(graph, x, atol=1e-9):
    a, sa = reference.run_with_states(graph, x)
    b, sb = dense.run_with_states(graph, x)
    assert a.backend == "reference" and b.backend == "dense"
    assert a.node_names == b.node_names == graph.node_names
    for name in graph.layer_names:
        np.testing.assert_array_equal(a.gate_spikes[name], b.gate_spikes[name], err_msg=name)
        np.testing.assert_allclose(sa[name], sb[name], rtol=0, atol=atol, err_msg=name)
    for field in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.outputs.shape == b.outputs.shape
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=atol)
    return a, b


@pytest.mark.parametrize("seed, cell, gate, mode, encoding",
                         [(k, *c) for k, c in enumerate(itertools.product(CELLS, GATE_KINDS, MODES, ENCODINGS))])
def test_reference_matches_dense_one_layer(seed, cell, gate, mode, encoding):
    h = 5 + seed % 4  # H = 5 … 8
    g = random_graph(cells=(cell,), gate=gate, hidden=(h,), input_size=3, encoding=encoding, readout=mode, seed=seed)
    a, _ = assert_agree(g, random_input(g, batch=2, steps=50, seed=seed))
    expected = (2, 50, 2) if mode == "all" else (2, 2)
    assert a.outputs.shape == expected
    if gate != "always":
        assert 0.0 < a.update_rate() < 1.0


@pytest.mark.parametrize("k, cell, gate", [(k, c, g) for k, (c, g) in enumerate(itertools.product(CELLS, GATE_KINDS))])
def test_reference_matches_dense_two_layers(k, cell, gate):
    # second layer: another cell and gate kind; modes and encodings rotate over the cases
    cell2 = CELLS[(k + 1) % 3]
    gate2 = GATE_KINDS[(k + 2) % len(GATE_KINDS)]
    g = random_graph(cells=(cell, cell2), gate=(gate, gate2), hidden=(7, 5), input_size=3,
                     encoding=ENCODINGS[k % 3], readout=MODES[(k // 3) % 3], seed=100 + k)
    assert_agree(g, random_input(g, batch=2, steps=50, seed=k))


def test_reference_matches_dense_long_sequence_gru_oscillator():
    g = random_graph(cells=("gru",), gate="oscillator", hidden=(8,), input_size=3, readout="all", seed=7)
    a, _ = assert_agree(g, random_input(g, batch=1, steps=600, seed=7))
    assert 0.2 < a.update_rate() < 0.8


def test_reference_counts_match_shared_counting():
    # the reference counts inline; the shared function must give the same from its gate spikes
    for k, gate in enumerate(GATE_KINDS):
        g = random_graph(cells=("lstm", "gru"), gate=(gate, "threshold"), hidden=(6, 4), encoding=ENCODINGS[k % 3],
                         readout=MODES[k % 3], seed=k)
        x = random_input(g, batch=3, steps=20, seed=k)
        t = reference.run(g, x)
        shared = count_trace_fields(g, x, t.gate_spikes)
        for field in COUNT_FIELDS:
            np.testing.assert_array_equal(getattr(t, field), shared[field], err_msg=f"{gate} {field}")


@pytest.mark.parametrize("run", [reference.run_with_states, dense.run_with_states])
@pytest.mark.parametrize("gate", ["oscillator", "threshold", "global", "schedule"])
def test_closed_gate_copies_state_bit_for_bit(run, gate):
    g = random_graph(cells=("lstm", "gru"), gate=(gate, gate), hidden=(6, 5), readout="all", seed=21)
    trace, states = run(g, random_input(g, batch=2, steps=40, seed=21))
    for name in g.layer_names:
        h = states[name]
        prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)  # h_{t-1}, h_{-1} = 0
        closed = ~trace.gate_spikes[name]
        assert closed.any()
        assert np.array_equal(h[closed], prev[closed])  # exact equality, not a tolerance
    # readout 'all': no last-layer update at step t -> y_t identical to y_{t-1}
    quiet = ~trace.gate_spikes["layer2"].any(axis=2)  # (B, T)
    quiet[:, 0] = False
    y = trace.outputs
    assert np.array_equal(y[:, 1:][quiet[:, 1:]], y[:, :-1][quiet[:, 1:]])


def tiny_graph(encoding, mode):
    # V = 1, H = 2 GRU; zeros: W_ih[1, 0] (input fan-out 5), W_hh[3, 1] (neuron 1 fan-out 5),
    # W_o[0, 1] (readout fan-out of neuron 1: 0). Schedule mask rows (t mod 3): {0}, {}, {0, 1}.
    layer = LayerNode("l1", cell="gru", w_ih=[[0.5], [0.0], [-0.3], [0.2], [0.7], [-0.4]],
                      w_hh=[[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4], [0.5, 0.0], [0.6, -0.3], [0.2, 0.1]],
                      b_ih=[0.1, -0.2, 0.3, 0.05, -0.1, 0.2], b_hh=[-0.1, 0.2, 0.1, -0.3, 0.15, 0.05])
    gate = ScheduleGate("g1", mask=[[1, 0], [0, 0], [1, 1]], periodic=True)
    ro = ReadoutNode("ro", weight=[[0.8, 0.0]], bias=[0.1], mode=mode)
    return EventGraph.sequential(InputNode("in", size=1, encoding=encoding), [(layer, gate)], ro)


@pytest.mark.parametrize("backend", ["reference", "dense"])
def test_hand_counts_delta_input(backend):
    # Derivation (same network as tests/ir/test_ir_counting.py): x = 0.5, 0.5, 1.5, 0 -> deltas
    # 0.5, 0, 1, -1.5: input events at t = 0, 2, 3, only t = 2 (value 1) is AC. Gate t0 {0}, t1 {},
    # t2 {0, 1}, t3 {0}. Layer ops: 5 per input event + 6 (n0) / 5 (n1) per delta event ->
    # 11, 0, 16, 11. Readout: 1 per event of n0, 0 for n1 -> 1, 0, 1, 1. Dense MACs 3·2·(1+2) = 18,
    # readout 'last' O·H = 2 at t = 3.
    t = simulate(tiny_graph("delta", "last"), np.array([[[0.5], [0.5], [1.5], [0.0]]]), backend=backend)
    assert t.gate_spikes["l1"][0].tolist() == [[1, 0], [0, 0], [1, 1], [1, 0]]
    assert t.events.tolist() == [[1, 0, 1, 1], [1, 0, 2, 1], [0, 0, 0, 0]]
    assert t.synaptic_ops.tolist() == [[0, 0, 0, 0], [11, 0, 16, 11], [1, 0, 1, 1]]
    assert t.ac_ops.tolist() == [[0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 0, 0]]
    assert t.neuron_updates.tolist() == [[0, 0, 0, 0], [1, 0, 2, 1], [0, 0, 0, 0]]
    assert t.dense_macs.tolist() == [[0, 0, 0, 0], [18, 18, 18, 18], [0, 0, 0, 2]]


@pytest.mark.parametrize("backend", ["reference", "dense"])
def test_hand_counts_spikes_batch(backend):
    # sample 0 spikes at t = 0, 2, 3, sample 1 at t = 2: input events 1, 0, 2, 1, all AC (value 1).
    # Layer: 5 per input event (5, 0, 10, 5) + own events per sample 6, 0, 11, 6 twice -> 17, 0, 32, 17.
    # Readout 'all': ops 2, 0, 2, 2; dense MACs 2·O·H = 4 every step; layer 2·18 = 36.
    x = np.array([[[1.0], [0.0], [1.0], [1.0]], [[0.0], [0.0], [1.0], [0.0]]])
    t = simulate(tiny_graph("spikes", "all"), x, backend=backend)
    assert t.events.tolist() == [[1, 0, 2, 1], [2, 0, 4, 2], [0, 0, 0, 0]]
    assert t.synaptic_ops.tolist() == [[0, 0, 0, 0], [17, 0, 32, 17], [2, 0, 2, 2]]
    assert t.ac_ops.tolist() == [[0, 0, 0, 0], [5, 0, 10, 5], [0, 0, 0, 0]]
    assert t.dense_macs.tolist() == [[0, 0, 0, 0], [36, 36, 36, 36], [4, 4, 4, 4]]
    assert t.n_samples == 2 and t.outputs.shape == (2, 4, 1)


@pytest.mark.parametrize("backend", ["reference", "dense"])
def test_hand_values_rnn(backend):
    # H = V = O = 1 tanh RNN, always open: w_ih = 1, w_hh = 0.5, b_ih = 0.1, b_hh = -0.2;
    # x = 1, 0: h0 = tanh(1 + 0.1 - 0.2) = tanh(0.9); h1 = tanh(0 + 0.1 + 0.5·h0 - 0.2).
    # Readout 'all' y = 2h + 0.3.
    layer = LayerNode("l", cell="rnn", w_ih=[[1.0]], w_hh=[[0.5]], b_ih=[0.1], b_hh=[-0.2])
    g = EventGraph.sequential(InputNode("in", size=1), [(layer, AlwaysGate("a", size=1))],
                              ReadoutNode("ro", weight=[[2.0]], bias=[0.3], mode="all"))
    h0 = np.tanh(0.9)
    h1 = np.tanh(0.1 + 0.5 * h0 - 0.2)
    t = simulate(g, np.array([[[1.0], [0.0]]]), backend=backend)
    np.testing.assert_allclose(t.outputs[0, :, 0], [2 * h0 + 0.3, 2 * h1 + 0.3], rtol=0, atol=1e-15)


def test_reference_work_follows_events(monkeypatch):
    # every gathered column of W_hh is one delta event: no work for closed neurons, none for empty steps
    gathered = []
    original = reference._Sigma.product

    def spy(self, idx, v):
        gathered.append((self.w_t.shape, len(idx)))
        return original(self, idx, v)

    monkeypatch.setattr(reference._Sigma, "product", spy)
    g = random_graph(cells=("gru",), gate="schedule", hidden=(8,), encoding="spikes", seed=4)
    x = random_input(g, batch=1, steps=30, seed=4)
    t = reference.run(g, x)
    rec = [n for shape, n in gathered if shape == (8, 24)]  # W_hh^T: (H, 3H)
    assert sum(rec) == t.events[1].sum() and all(n > 0 for n in rec)
    assert len(rec) == int((t.events[1] > 0).sum())


def test_dispatch_and_errors():
    assert {"reference", "dense"} <= set(BACKENDS)
    with pytest.raises(ValueError, match="unknown backend 'nest'; known: ") as e:
        simulate(tiny_graph("dense", "last"), np.zeros((1, 3, 1)), backend="nest")
    assert all(name in str(e.value) for name in BACKENDS)  # other backends join the table later
    with pytest.raises(ValueError, match="input x: expected shape \\(B, T, V=1\\)"):
        simulate(tiny_graph("dense", "last"), np.zeros((1, 3, 2)))
    once = EventGraph.sequential(
        InputNode("in", size=1),
        [(tiny_graph("dense", "last").node("l1"), ScheduleGate("g1", mask=[[1, 1]] * 3, periodic=False))],
        ReadoutNode("ro", weight=[[1.0, 1.0]], bias=[0.0]),
    )
    for backend in ("reference", "dense"):
        with pytest.raises(UserError, match="non-periodic mask covers 3 steps, input has 4"):
            simulate(once, np.ones((1, 4, 1)), backend=backend)


def test_float32_close_to_float64():
    g = random_graph(cells=("gru",), gate="always", hidden=(6,), readout="mean", seed=9)
    x = random_input(g, batch=2, steps=30, seed=9)
    t32 = reference.run(g, x, dtype=np.float32)
    t64 = reference.run(g, x)
    assert t32.outputs.dtype == np.float64 and t32.metadata["dtype"] == "float32"
    np.testing.assert_allclose(t32.outputs, t64.outputs, atol=1e-5)
