"""Spiking (LIF / CubaLIF) layers: node and graph validation, HDF5 round trip, a hand-derived
trajectory, counts by hand, reference = dense (docs/semantics.md §5)."""

import numpy as np
import pytest

from surnn_neuro.ir import (
    COUNT_FIELDS,
    EventGraph,
    InputNode,
    ReadoutNode,
    count_trace_fields,
    flops_per_sequence,
    graphs_equal,
    read_graph,
    write_graph,
)
from surnn_neuro.ir.examples import random_graph, random_spiking_graph, random_spiking_layer
from surnn_neuro.ir.nodes import AlwaysGate, SpikingLayerNode
from surnn_neuro.metrics import PROFILES, estimate
from surnn_neuro.simulators import dense, reference, simulate


spiking_layer = random_spiking_layer  # random, non-trivial (ir.examples)
spiking_graph = random_spiking_graph


def spiking_input(batch, steps, v=4, seed=0):
    return (np.random.default_rng(seed).random((batch, steps, v)) < 0.3).astype(np.float64)


# ------------------------------------------------------------------------------------------------
# node and graph validation
# ------------------------------------------------------------------------------------------------


def test_defaults_and_constants():
    n = SpikingLayerNode("l", neuron="lif", weight=[[1.0, 2.0]], bias=[0.5], tau_mem=[4e-4], r=[2.0],
                         v_leak=[0.0], v_threshold=[1.0], dt=1e-4)
    assert n.kind == "spiking" and n.role == "layer" and n.gated is False
    assert (n.hidden_size, n.input_size, n.size) == (1, 2, 1)
    np.testing.assert_array_equal(n.tau_syn, [1e-4])  # lif: tau_syn = dt, du = 1
    np.testing.assert_array_equal(n.w_in, [1.0])
    np.testing.assert_array_equal(n.v_reset, [0.0])
    np.testing.assert_array_equal(n.w_rec, [[0.0]])
    assert not n.recurrent
    k = n.constants()
    # du = dt/dt = 1 exactly; dv = 1e-4/4e-4 = 0.25; s = 0.25·2·1·1 = 0.5; c = 0.5·0.5
    assert k.du[0] == 1.0 and k.dv[0] == 0.25 and k.scale[0] == 0.5 and k.c[0] == 0.25
    np.testing.assert_array_equal(k.w_eff, [[0.5, 1.0]])
    assert not n.w_rec.flags.writeable


@pytest.mark.parametrize("kw, fragment", [
    ({"neuron": "izhikevich"}, "field neuron: unknown value 'izhikevich'; known: lif, cubalif"),
    ({"tau_syn": None}, "field tau_syn: required for a cubalif neuron"),
    ({"tau_mem": np.array([1e-3, 0.0])}, "field tau_mem: time constants must be > 0"),
    ({"dt": 0.0}, "field dt: expected a time step > 0"),
    ({"dt": True}, "field dt: expected a finite number"),
    ({"bias": np.ones(3)}, "field bias: expected shape (2,), got (3,)"),
    ({"w_rec": np.ones((2, 3))}, "field w_rec: expected shape (2, 2), got (2, 3)"),
    ({"v_threshold": np.array([1.0, np.nan])}, "field v_threshold: contains non-finite values"),
    ({"neuron": "lif", "tau_syn": np.full(2, 2e-4)}, "field tau_syn: a lif neuron has no synaptic current"),
    ({"neuron": "lif", "tau_syn": None, "w_in": np.full(2, 2.0)}, "field w_in: a lif neuron has no input weight"),
])
def test_node_errors_name_node_and_field(kw, fragment):
    base = dict(neuron="cubalif", weight=np.ones((2, 1)), bias=np.ones(2), tau_mem=np.full(2, 1e-3),
                r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), dt=1e-4, tau_syn=np.full(2, 2e-4))
    base.update(kw)
    with pytest.raises(ValueError) as e:
        SpikingLayerNode("sl", **base)
    assert "SpikingLayerNode 'sl'" in str(e.value) and fragment in str(e.value)


def test_graph_structure_rules():
    inp = InputNode("input", size=4)
    l1 = spiking_layer("l1", 3, 4)
    ro = ReadoutNode("readout", weight=np.ones((1, 3)), bias=[0.5])
    g = EventGraph.sequential(inp, [l1], ro)
    assert g.spiking and g.layer_names == ("l1",) and g.node_names == ("input", "l1", "readout")
    with pytest.raises(ValueError, match="layer 'l1' is a spiking layer; it has no gate"):
        g.gate_of("l1")
    with pytest.raises(ValueError, match="spiking layer 'l1': takes no gate, has edge from 'gate1'"):
        EventGraph.sequential(inp, [(l1, AlwaysGate("gate1", size=3))], ro)
    with pytest.raises(ValueError, match="layer 'l2': field weight: 4 input columns, previous node gives 3"):
        EventGraph.sequential(inp, [l1, spiking_layer("l2", 3, 4)], ro)
    gated = random_graph(cells=("gru",), hidden=(3,), input_size=3, seed=1)
    with pytest.raises(ValueError, match="either all selective-update .gated. or all spiking"):
        EventGraph.sequential(InputNode("input", size=3), [(gated.layers[0], gated.gate_of("layer1")),
                                                           spiking_layer("l2", 3, 3)], ro)
    assert not gated.spiking


def test_hdf5_round_trip(tmp_path):
    g = spiking_graph(mode="mean")
    assert all(np.all(ly.bias != 0) and np.all(ly.v_reset != 0) for ly in g.layers)  # zero biases hide bugs
    write_graph(g, tmp_path / "s.h5")
    assert graphs_equal(read_graph(tmp_path / "s.h5"), g)


# ------------------------------------------------------------------------------------------------
# the semantics by hand
# ------------------------------------------------------------------------------------------------


def two_neuron_graph():
    """Two CubaLIF neurons, one input; dt = 1 s so that every constant is a short binary fraction."""
    layer = SpikingLayerNode(
        "cuba", neuron="cubalif", dt=1.0,
        tau_syn=[2.0, 2.0],  # du = 0.5
        tau_mem=[4.0, 4.0],  # dv = 0.25
        r=[4.0, 4.0], w_in=[2.0, 2.0],  # s = dv·r·du·w_in = 0.25·4·0.5·2 = 1
        weight=[[1.0], [0.25]], bias=[0.25, 0.0],
        w_rec=[[0.0, 0.0], [1.0, 0.0]],  # neuron 0 → neuron 1
        v_leak=[0.0, 0.5], v_threshold=[1.5, 1.0], v_reset=[0.0, -0.5])
    ro = ReadoutNode("out", weight=np.eye(2), bias=np.zeros(2), mode="all")
    return EventGraph.sequential(InputNode("input", size=1, encoding="spikes"), [layer], ro)


# Hand derivation (docs/semantics.md §5), x = 1, 1, 0, 1, 0. Constants: du = 0.5, dv = 0.25, s = 1,
# c = s·b = (0.25, 0), β = dv·(v_leak − v_reset) = (0, 0.25), θ = v_th − v_reset = (1.5, 1.5),
# v̂_{−1} = −v_reset = (0, 0.5). a = W x + W_rec z_{t−1} + c; û = 0.5·û + a; v̂ = 0.75·v̂ + û + β.
#   t  n0: a     û        v̂ (z)                 n1: a    û        v̂ (z)
#   0     1.25  1.25     1.25                       0.25 0.25     0.375 + 0.25 + 0.25 = 0.875
#   1     1.25  1.875    0.9375 + 1.875 = 2.8125 z  0.25 0.375    0.65625 + 0.375 + 0.25 = 1.28125
#   2     0.25  1.1875   0 + 1.1875 = 1.1875        1.0  1.1875   0.9609375 + 1.1875 + 0.25 = 2.3984375 z
#   3     1.25  1.84375  0.890625 + 1.84375 z       0.25 0.84375  0 + 0.84375 + 0.25 = 1.09375
#   4     0.25  1.171875 0 + 1.171875 = 1.171875    1.0  1.421875 0.8203125 + 1.421875 + 0.25 z
# (n1's a at t: 0.25·x_t + z0_{t−1}.) After the reset, v = v̂ + v_reset:
TWO_NEURON_X = np.array([1.0, 1.0, 0.0, 1.0, 0.0])[None, :, None]
TWO_NEURON_SPIKES = np.array([[0, 0], [1, 0], [0, 1], [1, 0], [0, 1]], dtype=bool)
TWO_NEURON_V = np.array([[1.25, 0.375], [0.0, 0.78125], [1.1875, -0.5], [0.0, 0.59375], [1.171875, -0.5]])


@pytest.mark.parametrize("sim", [reference, dense])
def test_two_neuron_cubalif_trajectory_by_hand(sim):
    trace, states = sim.run_with_states(two_neuron_graph(), TWO_NEURON_X)
    np.testing.assert_array_equal(trace.gate_spikes["cuba"][0], TWO_NEURON_SPIKES)
    np.testing.assert_array_equal(states["cuba"][0], TWO_NEURON_V)  # dyadic: exact
    np.testing.assert_array_equal(trace.outputs[0], TWO_NEURON_SPIKES.astype(float))  # identity readout


def test_nir_forward_euler_equals_lava_form():
    # The same layer in NIR's own variables: I_t = I + du(−I + w_in S_t), v_t = v + dv(v_leak − v + r I_t),
    # spike if v_t > v_th, then v = v_reset. Step 0 of neuron 1 above: S_0 = 0.25, I_0 = 0.5·2·0.25 = 0.25,
    # v_0 = 0 + 0.25·(0.5 − 0 + 4·0.25) = 0.375, as in TWO_NEURON_V.
    g = two_neuron_graph()
    ly = g.layers[0]
    du, dv = ly.dt / ly.tau_syn, ly.dt / ly.tau_mem
    i, v, z = np.zeros(2), np.zeros(2), np.zeros(2)
    for t, x in enumerate(TWO_NEURON_X[0, :, 0]):
        s = ly.weight[:, 0] * x + ly.bias + ly.w_rec @ z
        i = i + du * (-i + ly.w_in * s)
        v = v + dv * (ly.v_leak - v + ly.r * i)
        z = (v > ly.v_threshold).astype(float)
        v = np.where(z > 0, ly.v_reset, v)
        np.testing.assert_array_equal(z > 0, TWO_NEURON_SPIKES[t])
        np.testing.assert_allclose(v, TWO_NEURON_V[t], rtol=0, atol=1e-12)


def test_counts_by_hand():
    g = two_neuron_graph()
    trace = reference.run(g, TWO_NEURON_X)
    # input events x = 1,1,0,1,0; each reaches nnz(W[:, 0]) = 2 synapses; n0's spikes (t = 1, 3) reach
    # nnz(W_rec[:, 0]) = 1; n1's none (W_rec[:, 1] = 0). Readout: one synapse per spike (identity).
    np.testing.assert_array_equal(trace.events, [[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(trace.synaptic_ops, [[0] * 5, [2, 3, 0, 3, 0], [0, 1, 1, 1, 1]])
    np.testing.assert_array_equal(trace.ac_ops, trace.synaptic_ops)  # binary input and spikes: all ACs
    np.testing.assert_array_equal(trace.neuron_updates, [[0] * 5, [2] * 5, [0] * 5])  # every neuron, every step
    # dense: H·V + H·H = 2 + 4 per step (recurrent); readout O·H = 4 every step (mode all)
    np.testing.assert_array_equal(trace.dense_macs, [[0] * 5, [6] * 5, [4] * 5])
    assert flops_per_sequence(g, trace.gate_spikes, 5).tolist() == [2 * 2 * 5]  # two decays per neuron-step
    for f in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(trace, f), count_trace_fields(g, TWO_NEURON_X, trace.gate_spikes)[f])


@pytest.mark.parametrize("mode", ["last", "mean", "all"])
@pytest.mark.parametrize("encoding", ["spikes", "dense", "delta"])
def test_reference_matches_dense_and_counting(mode, encoding):
    g = spiking_graph(mode=mode, encoding=encoding, seed=3)
    x = spiking_input(2, 60, seed=3)
    if encoding == "dense":
        x = x * np.random.default_rng(4).uniform(0.5, 1.5, x.shape)  # graded input: MACs at layer 1
    a, sa = reference.run_with_states(g, x)
    b, sb = dense.run_with_states(g, x)
    for name in g.layer_names:
        np.testing.assert_array_equal(a.gate_spikes[name], b.gate_spikes[name], err_msg=name)
        np.testing.assert_allclose(sa[name], sb[name], rtol=0, atol=1e-12)
        assert 0.0 < a.gate_spikes[name].mean() < 1.0
    counted = count_trace_fields(g, x, a.gate_spikes)
    for f in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(a, f), counted[f], err_msg=f)
        np.testing.assert_array_equal(getattr(b, f), counted[f], err_msg=f)
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=1e-12)
    assert a.outputs.shape == ((2, 60, 2) if mode == "all" else (2, 2))
    assert (a.ac_ops[1] < a.synaptic_ops[1]).any() == (encoding == "dense")
    np.testing.assert_array_equal(a.ac_ops[2:], a.synaptic_ops[2:])  # spikes are binary
    for p in PROFILES:
        e = estimate(a, p)
        assert np.isfinite(e.total_pJ) and e.total_pJ > 0
    assert simulate(g, x, backend="reference").gate_spikes.keys() == a.gate_spikes.keys()
