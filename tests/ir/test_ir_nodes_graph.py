"""Node and graph validation: every problem is a ValueError naming the node/edge and field."""


import numpy as np
import pytest

from surnn_neuro.ir import (
    NODE_KINDS,
    AlwaysGate,
    EventGraph,
    GlobalGate,
    InputNode,
    LayerNode,
    OscillatorGate,
    ReadoutNode,
    ScheduleGate,
    ThresholdGate,
    graphs_equal,
)
from surnn_neuro.ir.examples import random_graph
from surnn_neuro.errors import UserError


def gru_layer(name="l1", h=2, v=1, rng=None):
    rng = rng or np.random.default_rng(0)
    return LayerNode(name, cell="gru", w_ih=rng.normal(size=(3 * h, v)), w_hh=rng.normal(size=(3 * h, h)),
                     b_ih=rng.normal(size=3 * h), b_hh=rng.normal(size=3 * h))


def test_node_kinds_table_matches_classes():
    for kind, cls in NODE_KINDS.items():
        assert cls.kind == kind
        assert cls.role in ("input", "layer", "gate", "readout")


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: InputNode("x", size=0), "InputNode 'x': field size"),
        (lambda: InputNode("x", size=3, encoding="rate"),
         "InputNode 'x': field encoding: unknown value 'rate'; known: dense, delta, spikes"),
        (lambda: InputNode("a/b", size=3), "field name"),
        (lambda: LayerNode("l", cell="gruu", w_ih=np.ones((6, 1)), w_hh=np.ones((6, 2)),
                           b_ih=np.ones(6), b_hh=np.ones(6)),
         "LayerNode 'l': field cell: unknown value 'gruu'; known: gru, rnn, lstm"),
        (lambda: LayerNode("l", cell="gru", w_ih=np.ones((6, 1)), w_hh=np.ones((6, 3)),
                           b_ih=np.ones(6), b_hh=np.ones(6)),
         "LayerNode 'l': field w_hh"),
        (lambda: LayerNode("l", cell="lstm", w_ih=np.ones((6, 1)), w_hh=np.ones((8, 2)),
                           b_ih=np.ones(8), b_hh=np.ones(8)),
         "LayerNode 'l': field w_ih: expected shape (8, ?), got (6, 1)"),
        (lambda: LayerNode("l", cell="rnn", w_ih=np.ones((2, 1)), w_hh=np.ones((2, 2)),
                           b_ih=np.ones(3), b_hh=np.ones(2)),
         "LayerNode 'l': field b_ih: expected shape (2,), got (3,)"),
        (lambda: LayerNode("l", cell="rnn", w_ih=[[np.nan], [1]], w_hh=np.ones((2, 2)),
                           b_ih=np.ones(2), b_hh=np.ones(2)),
         "LayerNode 'l': field w_ih: contains non-finite"),
        (lambda: OscillatorGate("g", bias=np.ones(2), alpha=np.ones((2, 3)), phi=np.ones((2, 2)), omega=np.ones(3)),
         "OscillatorGate 'g': field phi"),
        (lambda: ThresholdGate("g", w_self=np.ones(2), w_in=np.ones((3, 1)), bias=np.ones(2)),
         "ThresholdGate 'g': field w_in"),
        (lambda: ScheduleGate("g", mask=[[0, 2]]), "ScheduleGate 'g': field mask"),
        (lambda: ScheduleGate("g", mask=[[0, 1]], periodic="yes"), "ScheduleGate 'g': field periodic"),
        (lambda: GlobalGate("g", weight=np.ones(2), bias=0.1, init_prob=1.5), "GlobalGate 'g': field init_prob"),
        (lambda: GlobalGate("g", weight=np.ones(2), bias="a"), "GlobalGate 'g': field bias"),
        (lambda: AlwaysGate("g", size=True), "AlwaysGate 'g': field size"),
        (lambda: ReadoutNode("r", weight=np.ones((2, 3)), bias=np.ones(3)), "ReadoutNode 'r': field bias"),
        (lambda: ReadoutNode("r", weight=np.ones((2, 3)), bias=np.ones(2), mode="max"), "ReadoutNode 'r': field mode"),
    ],
)
def test_node_validation_names_node_and_field(make, fragment):
    with pytest.raises(ValueError) as e:
        make()
    assert fragment in str(e.value)


def test_node_arrays_are_float64_copies_and_read_only():
    w = np.ones((2, 1), dtype=np.float32)
    r = ReadoutNode("r", weight=w.T, bias=[0.5])
    w[:] = 7.0  # the node does not alias the caller's buffer
    assert r.weight.dtype == np.float64 and np.all(r.weight == 1.0)
    with pytest.raises(ValueError):
        r.weight[0, 0] = 3.0
    s = ScheduleGate("s", mask=[[0, 1], [1, 1]])
    assert s.mask.dtype == bool and s.size == 2 and s.period == 2


def test_layer_sizes_and_gate_sizes():
    layer = LayerNode("l", cell="lstm", w_ih=np.ones((12, 5)), w_hh=np.ones((12, 3)), b_ih=np.ones(12),
                      b_hh=np.ones(12))
    assert (layer.gates_per_cell, layer.hidden_size, layer.input_size) == (4, 3, 5)
    assert OscillatorGate("o", bias=np.ones(4), alpha=np.ones((4, 2)), phi=np.ones((4, 2)), omega=np.ones(2)).size == 4
    assert ThresholdGate("t", w_self=np.ones(4), w_in=np.ones((4, 2)), bias=np.ones(4)).size == 4
    assert GlobalGate("g", weight=np.ones(4), bias=0.0).size == 4
    assert AlwaysGate("a", size=4).size == 4


def test_schedule_and_oscillator_spike_trains():
    s = ScheduleGate("s", mask=[[1, 0], [0, 1], [1, 1]], periodic=True)
    # t mod 3 = 0, 1, 2, 0, 1
    assert s.spike_train(5).tolist() == [[1, 0], [0, 1], [1, 1], [1, 0], [0, 1]]
    once = ScheduleGate("once", mask=[[1, 0], [0, 1]], periodic=False)
    assert once.spike_train(2).tolist() == [[1, 0], [0, 1]]
    with pytest.raises(UserError, match="ScheduleGate 'once'.*2 steps, input has 3"):
        once.spike_train(3)
    # a_t = b + α sin(ω t + φ) with b = (0, -0.5), α = 1, φ = 0, ω = π/2:
    # sin(π/2·t) = 0, 1, 0, -1 (sin(π) and sin(2π) are ±1e-16, so neuron 0 is tested at t = 1, 3 only)
    osc = OscillatorGate("o", bias=[0.0, -0.5], alpha=[[1.0], [1.0]], phi=[[0.0], [0.0]], omega=[np.pi / 2])
    train = osc.spike_train(4)
    assert train[1].tolist() == [True, True] and train[3].tolist() == [False, False]
    assert train[0].tolist() == [False, False]  # a = 0 exactly: strict inequality
    assert AlwaysGate("a", size=3).spike_train(2).all()


def chain(**over):
    parts = {
        "in": InputNode("in", size=1),
        "l1": gru_layer("l1", h=2, v=1),
        "g1": ScheduleGate("g1", mask=[[1, 0]]),
        "l2": gru_layer("l2", h=3, v=2),
        "g2": ThresholdGate("g2", w_self=np.ones(3), w_in=np.ones((3, 2)), bias=np.ones(3)),
        "ro": ReadoutNode("ro", weight=np.ones((1, 3)), bias=np.ones(1)),
    }
    parts.update(over)
    return parts


EDGES = (("in", "l1"), ("g1", "l1"), ("l1", "l2"), ("g2", "l2"), ("l2", "ro"))


def test_graph_accessors_and_order():
    p = chain()
    # nodes deliberately out of order: the structure, not the tuple order, defines the chain
    g = EventGraph(tuple(p[k] for k in ("ro", "g2", "l2", "in", "g1", "l1")), EDGES, {"name": "two", "t": (1, 2)})
    assert g.node_names == ("in", "l1", "l2", "ro")
    assert g.layer_names == ("l1", "l2")
    assert [n.name for n in g.layers] == ["l1", "l2"]
    assert g.input is p["in"] and g.readout is p["ro"]
    assert g.gate_of("l2") is p["g2"] and g.node("g1") is p["g1"]
    assert g.metadata == {"name": "two", "t": [1, 2]}  # stored as its JSON round trip
    with pytest.raises(ValueError, match="no layer 'g1'"):
        g.gate_of("g1")
    with pytest.raises(ValueError, match="no node 'zz'"):
        g.node("zz")
    s = EventGraph.sequential(p["in"], [(p["l1"], p["g1"]), (p["l2"], p["g2"])], p["ro"], {"name": "two", "t": [1, 2]})
    assert graphs_equal(g, s)


@pytest.mark.parametrize(
    "nodes, edges, fragment",
    [
        (["in", "l1", "g1", "l2", "g2", "ro", "l1"], EDGES, "duplicate node name 'l1'"),
        (["in", "l1", "g1", "l2", "g2", "ro"], EDGES + (("in", "nope"),), "unknown node 'nope'"),
        (["in", "l1", "g1", "l2", "g2", "ro"], EDGES + (("in", "l1"),), "duplicate"),
        (["in", "l1", "g1", "l2", "g2", "ro"], EDGES[:-1], "exactly one data output"),
        (["in", "l1", "g1", "l2", "g2", "ro"], EDGES[:1] + EDGES[2:], "layer 'l1': needs exactly one gate"),
        (["in", "l1", "g1", "l2", "g2", "ro"], EDGES + (("g1", "l2"),), "gate 'g1': needs exactly one edge"),
        (["in", "l1", "g1", "l2", "g2", "ro"], EDGES + (("l2", "l1"),), "cycle through nodes"),
        (["in", "l1", "g1", "ro"], (("in", "l1"), ("g1", "l1"), ("l1", "ro")), "readout 'ro': field weight: 3 columns"),
        (["in", "g1", "ro"], (("in", "ro"),), "gate 'g1': needs exactly one edge to a layer"),
        (["l1", "g1", "ro"], (("g1", "l1"), ("l1", "ro")), "expected exactly one input node, found 0"),
    ],
)
def test_graph_structure_errors(nodes, edges, fragment):
    p = chain()
    with pytest.raises(ValueError) as e:
        EventGraph(tuple(p[n] for n in nodes), edges)
    assert str(e.value).startswith("EventGraph: ") and fragment in str(e.value)


@pytest.mark.parametrize(
    "over, fragment",
    [
        ({"l2": gru_layer("l2", h=3, v=4)}, "layer 'l2': field w_ih: 4 input columns, previous node gives 2"),
        ({"g1": ScheduleGate("g1", mask=[[1, 0, 1]])}, "gate 'g1': size 3 != hidden size 2 of layer 'l1'"),
        ({"g2": ThresholdGate("g2", w_self=np.ones(3), w_in=np.ones((3, 5)), bias=np.ones(3))},
         "gate 'g2': field w_in: 5 columns, layer 'l2' has 2 inputs"),
    ],
)
def test_graph_size_errors(over, fragment):
    p = chain(**over)
    with pytest.raises(ValueError, match="EventGraph: ") as e:
        EventGraph(tuple(p.values()), EDGES)
    assert fragment in str(e.value)


def test_graph_metadata_must_be_json():
    p = chain()
    with pytest.raises(ValueError, match="field metadata: not JSON-serialisable"):
        EventGraph(tuple(p.values()), EDGES, {"w": np.ones(2)})


def test_graphs_equal_sees_one_changed_value():
    a = random_graph(cells=("gru", "lstm"), gate=("threshold", "global"), hidden=(4, 3), seed=5)
    b = random_graph(cells=("gru", "lstm"), gate=("threshold", "global"), hidden=(4, 3), seed=5)
    assert graphs_equal(a, b)
    l2 = b.node("layer2")
    b_hh = l2.b_hh.copy()
    b_hh[0] = np.nextafter(b_hh[0], np.inf)  # one ulp
    changed = LayerNode("layer2", l2.cell, l2.w_ih, l2.w_hh, l2.b_ih, b_hh)
    c = EventGraph(tuple(changed if n.name == "layer2" else n for n in b.nodes), b.edges, b.metadata)
    assert not graphs_equal(a, c)
    assert not graphs_equal(a, EventGraph(a.nodes, a.edges, {"other": 1}))
