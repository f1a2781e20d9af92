"""The reference's batched numba path (shared gates) and threaded per-sample path: the same events,
counts, gate spikes, outputs and states, bit for bit, as one sample after the other."""

import numpy as np
import pytest

from surnn_neuro.ir import COUNT_FIELDS
from surnn_neuro.ir.examples import GATE_KINDS, random_graph, random_input
from surnn_neuro.simulators import _reference_batched, reference

numba_only = pytest.mark.skipif(reference._kernel_module() is None or reference._batched_module() is None,
                                reason="numba not importable here")
SHARED = ("oscillator", "schedule", "always")


def assert_identical(a, sa, b, sb):
    np.testing.assert_array_equal(a.outputs, b.outputs)
    for f in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    for name in a.layer_names:
        np.testing.assert_array_equal(a.gate_spikes[name], b.gate_spikes[name], err_msg=name)
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)


def both(graph, x, dtype=np.float64):
    a, sa = reference.run_with_states(graph, x, dtype, batch=True)
    b, sb = reference.run_with_states(graph, x, dtype, batch=False)
    return a, sa, b, sb


@numba_only
@pytest.mark.parametrize("gate", GATE_KINDS)
@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batched_equals_per_sample_every_gate_and_cell(gate, cell, dtype):
    k = GATE_KINDS.index(gate) * 3 + ["gru", "rnn", "lstm"].index(cell)
    enc, ro = ("dense", "delta", "spikes")[k % 3], ("last", "mean", "all")[(k // 3) % 3]
    g = random_graph(cells=(cell,), gate=gate, hidden=(7,), encoding=enc, readout=ro, seed=k)
    a, sa, b, sb = both(g, random_input(g, 5, 21, seed=k), dtype)
    assert a.total("events") > 0
    assert_identical(a, sa, b, sb)


@numba_only
@pytest.mark.parametrize("cells,gates", [(("gru", "lstm", "rnn"), ("oscillator", "schedule", "always")),
                                         (("gru", "rnn"), ("schedule", "threshold")),
                                         (("rnn", "gru"), ("global", "oscillator"))])
def test_batched_equals_per_sample_stacks(monkeypatch, cells, gates):
    # a small chunk budget: the shared stack runs in many time chunks (state carried across them)
    monkeypatch.setattr(_reference_batched, "CHUNK_VALUES", 40)
    g = random_graph(cells=cells, gate=gates, hidden=(6, 5, 4)[:len(cells)], encoding="delta", seed=11)
    x = random_input(g, 7, 30, seed=11)
    a, sa, b, sb = both(g, x)
    assert_identical(a, sa, b, sb)
    assert len(_reference_batched._chunks([(np.arange(31) * 3, None)], 7, 30)) > 1


@numba_only
def test_batched_path_taken_for_shared_gates_only(monkeypatch):
    calls = {"batched": 0, "threaded": 0}
    real_b, real_t = _reference_batched.run_batched, _reference_batched.run_threaded

    def spy_b(*a, **k):
        calls["batched"] += 1
        return real_b(*a, **k)

    def spy_t(*a, **k):
        calls["threaded"] += 1
        return real_t(*a, **k)

    monkeypatch.setattr(_reference_batched, "run_batched", spy_b)
    monkeypatch.setattr(_reference_batched, "run_threaded", spy_t)
    batch = 2 * reference._threads()  # groups of at least two samples per thread
    for gate in GATE_KINDS:
        g = random_graph(cells=("gru",), gate=gate, hidden=(5,), seed=3)
        reference.run(g, random_input(g, batch, 10, seed=3))
    # oscillator, schedule and always are shared by the batch; threshold and global are not
    assert calls == {"batched": 3, "threaded": 2}
    reference.run(g, random_input(g, 1, 10, seed=3))  # one sample: the per-sample kernel, no threads
    assert calls == {"batched": 3, "threaded": 2}


@numba_only
def test_counts_scale_with_batch_for_shared_gates():
    # a shared gate fires the same neurons in every sample: events and updates of a batch of B are
    # B × those of one sample (the input node's events depend on each sample's own data)
    g = random_graph(cells=("gru",), gate="oscillator", hidden=(8,), seed=4)
    x = random_input(g, 4, 25, seed=4)
    t4 = reference.run(g, x)
    t1 = reference.run(g, x[:1])
    np.testing.assert_array_equal(t4.events[1:], 4 * t1.events[1:])
    np.testing.assert_array_equal(t4.neuron_updates, 4 * t1.neuron_updates)


@numba_only
def test_float32_engine_close_to_float64_with_identical_shared_spikes():
    g = random_graph(cells=("gru", "gru"), gate=("oscillator", "schedule"), hidden=(9, 6), seed=5)
    x = random_input(g, 6, 40, seed=5)
    t64, t32 = reference.run(g, x), reference.run(g, x, np.float32)
    assert t32.metadata["dtype"] == "float32"
    for name in t64.layer_names:
        np.testing.assert_array_equal(t64.gate_spikes[name], t32.gate_spikes[name])
    # float32 rounding over 40 steps of O(1) sigmas: well inside 1e-4
    np.testing.assert_allclose(t32.outputs, t64.outputs, rtol=0, atol=1e-4)
