"""Counting (docs/semantics.md §4) and SA-RNN FLOPs on a tiny network, derived by hand."""

import numpy as np
import pytest

from surnn_neuro.ir import (
    EventGraph,
    GlobalGate,
    InputNode,
    LayerNode,
    OscillatorGate,
    ReadoutNode,
    ScheduleGate,
    ThresholdGate,
    count_trace_fields,
    flops_per_sequence,
    input_events,
)

# V = 1, H = 2, GRU (G = 3). Zero weights: W_ih[1, 0] (fan-out of the input 6 -> 5), W_hh[3, 1]
# (fan-out of neuron 1: 6 -> 5), W_o[0, 1] (readout fan-out of neuron 1: 0).
W_IH = np.array([[0.5], [0.0], [-0.3], [0.2], [0.7], [-0.4]])
W_HH = np.array([[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4], [0.5, 0.0], [0.6, -0.3], [0.2, 0.1]])
MASK = np.array([[1, 0], [0, 0], [1, 1]], dtype=bool)  # periodic: t mod 3


def tiny(encoding, mode, gate=None):
    layer = LayerNode("l1", cell="gru", w_ih=W_IH, w_hh=W_HH, b_ih=[0.1, -0.2, 0.3, 0.05, -0.1, 0.2],
                      b_hh=[-0.1, 0.2, 0.1, -0.3, 0.15, 0.05])
    gate = gate or ScheduleGate("g1", mask=MASK, periodic=True)
    ro = ReadoutNode("ro", weight=[[0.8, 0.0]], bias=[0.1], mode=mode)
    return EventGraph.sequential(InputNode("in", size=1, encoding=encoding), [(layer, gate)], ro)


def spikes_of_mask(batch, steps):
    return {"l1": np.broadcast_to(MASK[np.arange(steps) % 3], (batch, steps, 2)).copy()}


def test_input_events_delta_and_dense():
    x = np.array([[[0.5], [0.5], [1.5], [0.0]]])
    mask, val = input_events(x, "delta")
    assert mask[0, :, 0].tolist() == [True, False, True, True]
    assert val[0, :, 0].tolist() == [0.5, 0.0, 1.0, -1.5]
    mask, val = input_events(x, "dense")
    assert mask[0, :, 0].tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="unknown input encoding 'rate'; known: dense, delta, spikes"):
        input_events(x, "rate")


def test_counts_delta_input_by_hand():
    # x = 0.5, 0.5, 1.5, 0.0 -> deltas 0.5, 0, 1.0, -1.5: input events at t = 0, 2, 3 (values 0.5 MAC,
    # 1.0 AC, -1.5 MAC). Gate (mask rows t mod 3): t0 {0}, t1 {}, t2 {0, 1}, t3 {0}.
    # layer synaptic ops: input events x fan-out 5      -> 5, 0, 5, 5
    #                     own delta events: n0 -> 6, n1 -> 5 -> 6, 0, 11, 6      total 11, 0, 16, 11
    # ac ops: only the t = 2 input event (delta 1.0)     -> 0, 0, 5, 0
    # readout synaptic ops: fanout(W_o, 0) = 1, fanout(W_o, 1) = 0 -> 1, 0, 1, 1
    # dense MACs: layer G·H·(V+H) = 3·2·3 = 18 every step; readout 'last': O·H = 2 at t = T-1 only
    x = np.array([[[0.5], [0.5], [1.5], [0.0]]])
    c = count_trace_fields(tiny("delta", "last"), x, spikes_of_mask(1, 4))
    assert c["events"].tolist() == [[1, 0, 1, 1], [1, 0, 2, 1], [0, 0, 0, 0]]
    assert c["synaptic_ops"].tolist() == [[0, 0, 0, 0], [11, 0, 16, 11], [1, 0, 1, 1]]
    assert c["ac_ops"].tolist() == [[0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 0, 0]]
    assert c["neuron_updates"].tolist() == [[0, 0, 0, 0], [1, 0, 2, 1], [0, 0, 0, 0]]
    assert c["dense_macs"].tolist() == [[0, 0, 0, 0], [18, 18, 18, 18], [0, 0, 0, 2]]
    assert all(v.dtype == np.int64 for v in c.values())


def test_counts_spike_input_batch_of_two_by_hand():
    # sample 0 spikes at t = 0, 2, 3; sample 1 at t = 2: input events 1, 0, 2, 1, all of value 1 (AC).
    # layer: input ops 5 per event -> 5, 0, 10, 5 (all AC); own events, shared schedule, per sample
    # 6, 0, 11, 6 -> x2 = 12, 0, 22, 12; total 17, 0, 32, 17. Delta events 2, 0, 4, 2.
    # readout 1, 0, 1, 1 per sample -> 2, 0, 2, 2; dense MACs: layer 2·18 = 36, readout 'all' 2·O·H = 4.
    x = np.array([[[1.0], [0.0], [1.0], [1.0]], [[0.0], [0.0], [1.0], [0.0]]])
    c = count_trace_fields(tiny("spikes", "all"), x, spikes_of_mask(2, 4))
    assert c["events"].tolist() == [[1, 0, 2, 1], [2, 0, 4, 2], [0, 0, 0, 0]]
    assert c["synaptic_ops"].tolist() == [[0, 0, 0, 0], [17, 0, 32, 17], [2, 0, 2, 2]]
    assert c["ac_ops"].tolist() == [[0, 0, 0, 0], [5, 0, 10, 5], [0, 0, 0, 0]]
    assert c["neuron_updates"].tolist() == [[0, 0, 0, 0], [2, 0, 4, 2], [0, 0, 0, 0]]
    assert c["dense_macs"].tolist() == [[0, 0, 0, 0], [36, 36, 36, 36], [4, 4, 4, 4]]


def test_counts_gate_fanouts_threshold_and_global():
    # threshold: w_in = [[2], [0]] adds nnz 1 to the input fan-out (5 -> 6); w_self = [0, 3] adds 1 to
    # neuron 1's recurrent fan-out (5 -> 6). Dense gate MACs: H·V + H = 4 -> 22 per step.
    thr = ThresholdGate("g1", w_self=[0.0, 3.0], w_in=[[2.0], [0.0]], bias=[0.1, 0.2])
    x = np.array([[[0.5], [0.0]]])  # dense: one input event at t = 0 (0.5, MAC)
    spikes = {"l1": np.array([[[True, True], [False, True]]])}
    c = count_trace_fields(tiny("dense", "mean", thr), x, spikes)
    # t0: 6 (input) + 6 (n0) + 6 (n1) = 18; t1: n1 -> 6
    assert c["synaptic_ops"][1].tolist() == [18, 6]
    assert c["dense_macs"][1].tolist() == [22, 22]
    # global: weight = [0, 1] adds 1 to neuron 1 only; dense gate MACs H = 2 -> 20 per step
    glob = GlobalGate("g1", weight=[0.0, 1.0], bias=0.0)
    spikes = {"l1": np.array([[[True, True], [False, False]]])}
    c = count_trace_fields(tiny("dense", "mean", glob), x, spikes)
    # t0: 5 (input) + 6 (n0) + 6 (n1) = 17
    assert c["synaptic_ops"][1].tolist() == [17, 0]
    assert c["dense_macs"][1].tolist() == [20, 20]


def test_flops_per_sequence_by_hand():
    # GRU, V = 1, H = 2: m_cell = 3(V+H) + 3 = 12. Mask updates per sample 1, 0, 2, 1 = 4 -> 48.
    f = flops_per_sequence(tiny("dense", "last"), spikes_of_mask(2, 4), 4)
    assert f.tolist() == [48, 48]
    # threshold: + H·(V+1) = 4 per step, T = 4 -> 48 + 16 = 64
    thr = ThresholdGate("g1", w_self=[1.0, 1.0], w_in=[[1.0], [1.0]], bias=[0.0, 0.0])
    assert flops_per_sequence(tiny("dense", "last", thr), spikes_of_mask(1, 4), 4).tolist() == [64]
    # global: updates at t = 0, 2 (all H): 4·12 = 48, + H = 2 at each of the 2 updating steps -> 52
    glob = GlobalGate("g1", weight=[1.0, 1.0], bias=0.0)
    spikes = {"l1": np.array([[[1, 1], [0, 0], [1, 1], [0, 0]]], dtype=bool)}
    assert flops_per_sequence(tiny("dense", "last", glob), spikes, 4).tolist() == [52]
    # oscillator with K = 3: + H·K = 6 per step -> 48 + 24 = 72
    osc = OscillatorGate("g1", bias=[0.0, 0.0], alpha=np.ones((2, 3)), phi=np.zeros((2, 3)), omega=np.ones(3))
    assert flops_per_sequence(tiny("dense", "last", osc), spikes_of_mask(1, 4), 4).tolist() == [72]
    with pytest.raises(ValueError, match="gate_spikes\\['l1'\\]"):
        flops_per_sequence(tiny("dense", "last"), spikes_of_mask(1, 4), 5)


def test_count_rejects_bad_spikes():
    x = np.zeros((1, 4, 1))
    with pytest.raises(ValueError, match="gate_spikes: missing layer 'l1'"):
        count_trace_fields(tiny("dense", "last"), x, {})
    with pytest.raises(ValueError, match="expected \\(B=1, T=4, H=2\\)"):
        count_trace_fields(tiny("dense", "last"), x, spikes_of_mask(2, 4))
