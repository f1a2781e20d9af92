"""The reference simulator's two engines (numba kernels, numpy fallback) give the same events, gate
spikes and counts and the same values up to rounding; engine selection and fallback; kernel units."""

import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from surnn_neuro.ir import COUNT_FIELDS, EventGraph, GlobalGate, InputNode, LayerNode, ReadoutNode, ScheduleGate
from surnn_neuro.ir.examples import GATE_KINDS, random_graph, random_input
from surnn_neuro.ir.nodes import SpikingLayerNode
from surnn_neuro.ir.trace import Trace
from surnn_neuro.simulators import dense, reference

CELLS = ("gru", "rnn", "lstm")
MODES = ("last", "mean", "all")
ENCODINGS = ("dense", "delta", "spikes")

numba_only = pytest.mark.skipif(reference._kernel_module() is None, reason="numba not importable here")


def run_engine(monkeypatch, eng, graph, x, **kw):
    """``reference.run_with_states`` on engine ``eng`` ("numba" / "numpy"), checking it was used."""
    with monkeypatch.context() as m:
        if eng == "numpy":
            m.setenv(reference.ENV_NO_NUMBA, "1")
        else:
            m.delenv(reference.ENV_NO_NUMBA, raising=False)
        assert reference.engine() == eng
        return reference.run_with_states(graph, x, **kw)


def assert_same_run(a, b, sa, sb, atol=1e-12):
    for name in a.layer_names:
        np.testing.assert_array_equal(a.gate_spikes[name], b.gate_spikes[name], err_msg=name)
        if sa is not None:
            np.testing.assert_allclose(sa[name], sb[name], rtol=0, atol=atol, err_msg=name)
    for field in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.outputs.shape == b.outputs.shape and a.outputs.dtype == b.outputs.dtype == np.float64
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=atol)
    assert a.metadata == b.metadata and a.backend == b.backend == "reference"


@numba_only
@pytest.mark.parametrize("seed, cell, gate, mode, encoding",
                         [(k, *c) for k, c in enumerate(itertools.product(CELLS, GATE_KINDS, MODES, ENCODINGS))])
def test_engines_agree_one_layer(monkeypatch, seed, cell, gate, mode, encoding):
    g = random_graph(cells=(cell,), gate=gate, hidden=(5 + seed % 5,), input_size=3, encoding=encoding,
                     readout=mode, seed=seed)
    x = random_input(g, batch=2, steps=40, seed=seed)
    a, sa = run_engine(monkeypatch, "numba", g, x)
    b, sb = run_engine(monkeypatch, "numpy", g, x)
    assert_same_run(a, b, sa, sb)
    d, sd = dense.run_with_states(g, x)
    assert_same_run(a, Trace(**{**vars(d), "backend": "reference"}), sa, sd, atol=1e-9)


@numba_only
@pytest.mark.parametrize("k, cells, gates", [
    (k, c, g) for k, (c, g) in enumerate(itertools.product(
        [("gru", "lstm"), ("lstm", "rnn"), ("rnn", "gru")],
        [("threshold", "global"), ("global", "schedule"), ("schedule", "threshold"), ("oscillator", "always")]))
])
def test_engines_agree_two_and_three_layers(monkeypatch, k, cells, gates):
    g = random_graph(cells=cells, gate=gates, hidden=(9, 6), encoding=ENCODINGS[k % 3], readout=MODES[k % 3],
                     seed=50 + k)
    x = random_input(g, batch=3, steps=35, seed=k)
    assert_same_run(*_pair(monkeypatch, g, x))
    g3 = random_graph(cells=cells + ("gru",), gate=gates + ("threshold",), hidden=(7, 5, 4),
                      encoding=ENCODINGS[k % 3], readout=MODES[(k + 1) % 3], seed=80 + k)
    assert_same_run(*_pair(monkeypatch, g3, random_input(g3, batch=2, steps=30, seed=k)))


def _pair(monkeypatch, g, x, **kw):
    a, sa = run_engine(monkeypatch, "numba", g, x, **kw)
    b, sb = run_engine(monkeypatch, "numpy", g, x, **kw)
    return a, b, sa, sb


@numba_only
def test_engines_agree_many_events_per_step(monkeypatch):
    # H = 64, every rate from sparse to dense: many events per step (the kernel's 4-event passes and
    # their remainders, and the numpy engine's dense crossover), two layers and a 'mean' readout
    rng = np.random.default_rng(3)
    h, v, t = 64, 4, 120
    layers = []
    for i, (rate, n_in) in enumerate([(0.9, v), (0.3, h)], start=1):
        layer = LayerNode(f"l{i}", cell="gru", w_ih=rng.normal(0, 0.5, (3 * h, n_in)),
                          w_hh=rng.normal(0, 1 / 8, (3 * h, h)), b_ih=rng.normal(0, 0.1, 3 * h),
                          b_hh=rng.normal(0, 0.1, 3 * h))
        layers.append((layer, ScheduleGate(f"g{i}", mask=rng.random((t, h)) < rate, periodic=False)))
    ro = ReadoutNode("ro", weight=rng.normal(0, 0.2, (3, h)), bias=rng.normal(0, 0.1, 3), mode="mean")
    g = EventGraph.sequential(InputNode("in", size=v, encoding="dense"), layers, ro)
    x = rng.normal(size=(2, t, v))
    a, b, sa, sb = _pair(monkeypatch, g, x)
    assert_same_run(a, b, sa, sb)
    assert 0.85 < a.gate_spikes["l1"].mean() < 0.95


@numba_only
def test_global_gate_starting_closed(monkeypatch):
    # init_prob <= 0.5: skipped steps before the first update use Δũ = σ(b) (docs/semantics.md §4)
    rng = np.random.default_rng(5)
    h = 6
    layer = LayerNode("l", cell="lstm", w_ih=rng.normal(size=(4 * h, 2)), w_hh=rng.normal(size=(4 * h, h)) / 3,
                      b_ih=rng.normal(size=4 * h) / 3, b_hh=rng.normal(size=4 * h) / 3)
    gate = GlobalGate("g", weight=rng.normal(size=h), bias=-1.0, init_prob=0.2)
    g = EventGraph.sequential(InputNode("in", size=2), [(layer, gate)],
                              ReadoutNode("ro", weight=rng.normal(size=(2, h)), bias=[0.0, 0.1], mode="all"))
    x = rng.normal(size=(2, 30, 2))
    a, b, sa, sb = _pair(monkeypatch, g, x)
    assert_same_run(a, b, sa, sb)
    assert not a.gate_spikes["l"][:, 0].any() and a.gate_spikes["l"].any()


@numba_only
def test_float32_engines(monkeypatch):
    g = random_graph(cells=("gru", "lstm"), gate=("threshold", "oscillator"), hidden=(8, 6), readout="all", seed=9)
    x = random_input(g, batch=2, steps=30, seed=9)
    a, b, sa, sb = _pair(monkeypatch, g, x, dtype=np.float32)
    assert a.metadata == {"dtype": "float32"} and sa["layer1"].dtype == np.float32
    assert_same_run(a, b, sa, sb, atol=2e-5)
    a64, _ = run_engine(monkeypatch, "numba", g, x)
    np.testing.assert_allclose(a.outputs, a64.outputs, atol=1e-4)


@numba_only
def test_numba_engine_runs_each_layer_once_per_sample(monkeypatch):
    from surnn_neuro.simulators import _kernels

    calls = []
    original = _kernels.layer_sample

    def spy(n_t, *args):
        calls.append(n_t)
        return original(n_t, *args)

    monkeypatch.setattr(_kernels, "layer_sample", spy)
    monkeypatch.delenv(reference.ENV_NO_NUMBA, raising=False)
    g = random_graph(cells=("gru", "rnn"), gate=("schedule", "threshold"), hidden=(6, 5), seed=2)
    t = reference.run(g, random_input(g, batch=3, steps=25, seed=2))
    assert calls == [25] * 6  # 3 samples × 2 layers, each call covers all 25 steps
    assert t.events[1].sum() == t.gate_spikes["layer1"].sum()


def test_engine_selection(monkeypatch):
    monkeypatch.setenv(reference.ENV_NO_NUMBA, "1")
    assert reference.engine() == "numpy"
    monkeypatch.setenv(reference.ENV_NO_NUMBA, "0")
    assert reference.engine() == ("numba" if reference._kernel_module() is not None else "numpy")
    monkeypatch.delenv(reference.ENV_NO_NUMBA)
    # numba broken or missing: numpy, with the reason kept
    monkeypatch.setattr(reference, "_KERNELS", "ImportError: no numba")
    assert reference._kernel_module() is None and reference.engine() == "numpy"
    g = random_graph(cells=("gru",), gate="oscillator", hidden=(5,), seed=1)
    assert reference.run(g, random_input(g, batch=1, steps=10)).total("events") > 0


def test_instrumented_sigma_forces_numpy(monkeypatch):
    monkeypatch.delenv(reference.ENV_NO_NUMBA, raising=False)
    original = reference._Sigma.product
    monkeypatch.setattr(reference._Sigma, "product", lambda self, idx, v: original(self, idx, v))
    assert reference.engine() == "numpy"


def test_runs_without_numba(tmp_path):
    # numba not importable at all (a fresh interpreter where 'import numba' fails): numpy engine,
    # and the same results as this process (numba or not)
    g = random_graph(cells=("lstm", "gru"), gate=("threshold", "global"), hidden=(6, 5), readout="mean", seed=4)
    x = random_input(g, batch=2, steps=30, seed=4)
    np.save(tmp_path / "x.npy", x)
    code = f"""
import sys, json
sys.modules['numba'] = None  # import numba -> ImportError
import numpy as np
from surnn_neuro.ir.examples import random_graph
from surnn_neuro.simulators import reference
g = random_graph(cells=("lstm", "gru"), gate=("threshold", "global"), hidden=(6, 5), readout="mean", seed=4)
t = reference.run(g, np.load({str(tmp_path / 'x.npy')!r}))
print(json.dumps({{"engine": reference.engine(), "why": reference._KERNELS, "outputs": t.outputs.tolist(),
                  "counts": {{f: getattr(t, f).tolist() for f in {COUNT_FIELDS!r}}},
                  "spikes": {{k: v.tolist() for k, v in t.gate_spikes.items()}}}}))
"""
    env = {k: v for k, v in os.environ.items() if k != reference.ENV_NO_NUMBA}
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                    text=True, env=env).stdout)
    assert out["engine"] == "numpy" and "numba" in out["why"]
    t = reference.run(g, x)
    np.testing.assert_allclose(out["outputs"], t.outputs, rtol=0, atol=1e-12)
    for f in COUNT_FIELDS:
        assert out["counts"][f] == getattr(t, f).tolist(), f
    for k in g.layer_names:
        assert out["spikes"][k] == t.gate_spikes[k].tolist()


def test_spiking_graphs_same_on_both_settings(monkeypatch):
    # spiking layers stay on numpy whatever the engine: the setting changes nothing
    rng = np.random.default_rng(0)
    h, v = 6, 4
    layer = SpikingLayerNode("lif", neuron="cubalif", weight=rng.normal(0, 1, (h, v)), bias=rng.normal(0, 0.3, h),
                             tau_mem=np.full(h, 1e-3), r=rng.uniform(5, 15, h), v_leak=rng.normal(0, 0.2, h),
                             v_threshold=np.full(h, 0.8), dt=1e-4, v_reset=np.full(h, -0.1),
                             w_rec=rng.normal(0, 0.5, (h, h)), tau_syn=np.full(h, 2.5e-4), w_in=rng.uniform(1, 3, h))
    g = EventGraph.sequential(InputNode("in", size=v, encoding="spikes"), [(layer, None)],
                              ReadoutNode("ro", weight=rng.normal(size=(2, h)), bias=rng.normal(size=2), mode="all"))
    x = (rng.random((2, 40, v)) < 0.3).astype(float)
    a, sa = run_engine(monkeypatch, "numpy", g, x)
    assert a.total("events") > 0
    if reference._kernel_module() is not None:
        b, sb = run_engine(monkeypatch, "numba", g, x)
        assert_same_run(a, b, sa, sb, atol=0)


# -- kernel units --------------------------------------------------------------------------------


@numba_only
@pytest.mark.parametrize("n", range(10))
def test_accumulate_event_order(n):
    # four events per pass give exactly the sum of one event at a time; = W[:, idx] @ v up to rounding
    from surnn_neuro.simulators._kernels import accumulate

    rng = np.random.default_rng(n)
    w_t = rng.normal(size=(12, 37))
    idx = rng.choice(12, size=n, replace=False).astype(np.int64)
    val = rng.normal(size=n)
    s = rng.normal(size=37)
    expected = s.copy()
    for j, v in zip(idx, val):
        expected = expected + w_t[j] * v
    got = s.copy()
    accumulate(got, w_t, idx, val, 0, n)
    assert np.array_equal(got, expected)
    np.testing.assert_allclose(got, s + w_t.T[:, idx] @ val, rtol=0, atol=1e-13)
    part = s.copy()  # a window [lo, hi) of the event list
    accumulate(part, w_t, idx, val, min(1, n), n)
    np.testing.assert_allclose(part, s + w_t.T[:, idx[1:]] @ val[1:], rtol=0, atol=1e-13)
