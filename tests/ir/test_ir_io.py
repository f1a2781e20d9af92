"""HDF5 round trips (non-zero biases everywhere) and every malformed-file case -> UserError."""

import h5py
import numpy as np
import pytest

from surnn_neuro.errors import UserError
from surnn_neuro.ir import (
    EventGraph,
    GlobalGate,
    ScheduleGate,
    Trace,
    graphs_equal,
    read_graph,
    read_trace,
    traces_equal,
    write_graph,
    write_trace,
)
from surnn_neuro.ir import io as ir_io
from surnn_neuro.ir.examples import GATE_KINDS, random_graph, random_input
from surnn_neuro.simulators import reference


@pytest.mark.parametrize("gate", GATE_KINDS)
@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
def test_graph_round_trip(tmp_path, cell, gate):
    g = random_graph(cells=(cell, "gru"), gate=(gate, "threshold"), hidden=(5, 3), encoding="delta",
                     readout="mean", seed=11)
    biases = [getattr(n, f) for n in g.nodes for f in ("b_ih", "b_hh", "bias") if hasattr(n, f)]
    assert len(biases) >= 5 and all(np.all(np.asarray(b) != 0) for b in biases)  # zero biases hide bugs
    path = tmp_path / "g.h5"
    write_graph(g, path)
    back = read_graph(path)
    assert graphs_equal(g, back)
    assert [n.name for n in back.nodes] == [n.name for n in g.nodes]  # node order kept
    assert back.node_names == g.node_names


def test_graph_round_trip_scalar_fields(tmp_path):
    base = random_graph(cells=("gru", "rnn"), gate=("global", "schedule"), hidden=(4, 4), seed=2)
    glob = base.node("gate1")
    nodes = []
    for n in base.nodes:
        if n.name == "gate1":
            n = GlobalGate("gate1", weight=glob.weight, bias=-0.25, init_prob=0.3)
        elif n.name == "gate2":
            n = ScheduleGate("gate2", mask=n.mask, periodic=False)
        nodes.append(n)
    g = EventGraph(tuple(nodes), base.edges, {"model": "skiprnn", "nested": {"a": [1, 2.5, None]}})
    write_graph(g, tmp_path / "s.h5")
    back = read_graph(tmp_path / "s.h5")
    assert graphs_equal(g, back)
    assert back.node("gate1").init_prob == 0.3 and back.node("gate1").bias == -0.25
    assert back.node("gate2").periodic is False
    assert back.metadata == {"model": "skiprnn", "nested": {"a": [1, 2.5, None]}}


@pytest.mark.parametrize("hidden", [(5,), (13, 8)])
def test_trace_round_trip_bit_packed(tmp_path, hidden):
    cells = ("gru",) * len(hidden)
    g = random_graph(cells=cells, gate="threshold", hidden=hidden, readout="all", seed=3)
    t = reference.run(g, random_input(g, batch=3, steps=11, seed=3))
    t = Trace(**{**vars(t), "metadata": {"run": "x", "seed": 3}})
    path = tmp_path / "t.h5"
    write_trace(t, path)
    back = read_trace(path)
    assert traces_equal(t, back)
    with h5py.File(path, "r") as f:
        # H = 5 -> 1 byte per (sample, step); H = 13 -> 2 bytes; H = 8 -> 1 byte
        assert [f["gate_spikes"][str(i)].shape for i in range(len(hidden))] == [(3, 11, -(-h // 8)) for h in hidden]
        assert f["gate_spikes"]["0"].dtype == np.uint8


# -- malformed files ------------------------------------------------------------------------------


@pytest.fixture
def graph_file(tmp_path):
    path = tmp_path / "net.h5"
    write_graph(random_graph(cells=("gru",), gate="oscillator", hidden=(4,), seed=1), path)
    return path


def one_line_error_naming(path, fn):
    with pytest.raises(UserError) as e:
        fn(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def test_missing_file(tmp_path):
    msg = one_line_error_naming(tmp_path / "nope.h5", read_graph)
    assert "no such file" in msg
    assert "no such file" in one_line_error_naming(tmp_path / "nope.h5", read_trace)


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.h5"
    path.write_text("hello\n")
    assert "not a readable HDF5 file" in one_line_error_naming(path, read_graph)


def test_truncated_file(graph_file):
    data = graph_file.read_bytes()
    graph_file.write_bytes(data[: len(data) // 2])
    msg = one_line_error_naming(graph_file, read_graph)
    assert "HDF5" in msg or "corrupt" in msg


def test_newer_version(graph_file):
    with h5py.File(graph_file, "a") as f:
        f.attrs["format_version"] = 2
    msg = one_line_error_naming(graph_file, read_graph)
    assert "written by a newer surnn-neuro (version 2 > 1); upgrade" in msg


def test_wrong_format(tmp_path, graph_file):
    assert "not a surnn-neuro trace (format 'surnn-neuro-event-graph'" in one_line_error_naming(graph_file, read_trace)
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=[1, 2])
    assert "no 'format' attribute" in one_line_error_naming(path, read_graph)


def test_missing_field(graph_file):
    with h5py.File(graph_file, "a") as f:
        del f["nodes/layer1/w_hh"]
    msg = one_line_error_naming(graph_file, read_graph)
    assert msg == f"{graph_file}: node 'layer1' (layer): missing field 'w_hh'"


def test_wrong_shape(graph_file):
    with h5py.File(graph_file, "a") as f:
        del f["nodes/layer1/b_hh"]
        f["nodes/layer1/b_hh"] = np.ones(5)
    msg = one_line_error_naming(graph_file, read_graph)
    assert "LayerNode 'layer1': field b_hh: expected shape (12,), got (5,)" in msg


def test_graph_structure_error_in_file(graph_file):
    with h5py.File(graph_file, "a") as f:
        del f["nodes/gate1/bias"]
        f["nodes/gate1/bias"] = np.ones(3)
        del f["nodes/gate1/alpha"]
        f["nodes/gate1/alpha"] = np.ones((3, 3))
        del f["nodes/gate1/phi"]
        f["nodes/gate1/phi"] = np.ones((3, 3))
    assert "gate 'gate1': size 3 != hidden size 4" in one_line_error_naming(graph_file, read_graph)


def test_unknown_kind(graph_file):
    with h5py.File(graph_file, "a") as f:
        f["nodes/gate1"].attrs["kind"] = "tmeporal"
    msg = one_line_error_naming(graph_file, read_graph)
    assert "node 'gate1': unknown kind 'tmeporal'; known: input, layer, oscillator, threshold" in msg


def test_failed_graph_write_leaves_no_file(tmp_path, monkeypatch, graph_file):
    g = read_graph(graph_file)
    def broken(group, node):
        if node.name == "gate1":  # after input and layer1 were written
            raise RuntimeError("disk on fire")
        original(group, node)

    original = ir_io._write_node
    monkeypatch.setattr(ir_io, "_write_node", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_graph(g, tmp_path / "new.h5")
    assert list(tmp_path.iterdir()) == [graph_file]  # no new file, no temporary left
    before = graph_file.read_bytes()
    with pytest.raises(RuntimeError):
        write_graph(g, graph_file)
    assert graph_file.read_bytes() == before  # the old file is untouched


def test_failed_trace_write_leaves_no_file(tmp_path):
    g = random_graph(seed=0)
    t = reference.run(g, random_input(g, 1, 4))
    bad = Trace(**{**vars(t), "metadata": {"array": np.ones(2)}})  # not JSON: fails mid-write
    with pytest.raises(TypeError):
        write_trace(bad, tmp_path / "t.h5")
    assert list(tmp_path.iterdir()) == []


def test_trace_missing_field_and_bad_shape(tmp_path):
    g = random_graph(seed=0)
    t = reference.run(g, random_input(g, 2, 6))
    path = tmp_path / "t.h5"
    write_trace(t, path)
    with h5py.File(path, "a") as f:
        del f["ac_ops"]
    assert f"{path}: missing field 'ac_ops'" == one_line_error_naming(path, read_trace)
    write_trace(t, path)
    with h5py.File(path, "a") as f:
        del f["events"]
        f["events"] = np.zeros((2, 6), dtype=np.int64)
    assert "Trace.events: expected shape" in one_line_error_naming(path, read_trace)
