"""Spiking graphs on Lava's standard processes (RingBuffer, Dense, LIF, sink): identical spikes to the
reference on braille.nir, bit-identical states, latency compensation with a voltage bias, limits."""

import importlib.util
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lava.proc.lif.process", reason="the Lava target needs lava-nc 0.10.0 (Python 3.10)")

from surnn_neuro.converters.nir_io import read_nir  # noqa: E402
from surnn_neuro.errors import UserError  # noqa: E402
from surnn_neuro.hw_targets.lava.spiking import lava_final_states, run_spiking_lava  # noqa: E402
from surnn_neuro.ir import COUNT_FIELDS, EventGraph, InputNode, ReadoutNode  # noqa: E402
from surnn_neuro.ir.examples import random_graph  # noqa: E402
from surnn_neuro.ir.nodes import SpikingLayerNode  # noqa: E402
from surnn_neuro.metrics import PROFILES, estimate  # noqa: E402
from surnn_neuro.simulators import reference  # noqa: E402

_norse = importlib.util.find_spec("norse")
BRAILLE = Path(_norse.submodule_search_locations[0]) / "torch/utils/test/braille.nir" if _norse else None
needs_braille = pytest.mark.skipif(BRAILLE is None or not BRAILLE.exists(),
                                   reason="braille.nir ships in the norse wheel")


@pytest.fixture(scope="module")
def braille():
    return read_nir(BRAILLE)


@needs_braille
def test_braille_reference_and_lava_identical(braille):
    x = (np.random.default_rng(0).random((2, 100, 12)) < 0.2).astype(np.float64)  # B=2, T=100, Bernoulli
    children = set(mp.active_children())
    ref = reference.run(braille, x)
    lava = run_spiking_lava(braille, x)
    assert set(mp.active_children()) <= children  # every Lava process was stopped
    assert lava.backend == "lava" and lava.metadata["latency_steps"] == 2 and lava.metadata["lava_steps"] == 102
    for name in braille.layer_names:
        np.testing.assert_array_equal(lava.gate_spikes[name], ref.gate_spikes[name], err_msg=name)
        assert 0 < ref.gate_spikes[name].sum() < ref.gate_spikes[name].size  # neither silent nor saturated
    for f in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(lava, f), getattr(ref, f), err_msg=f)
    np.testing.assert_array_equal(lava.outputs, ref.outputs)  # identity readout: the lif2 spikes
    np.testing.assert_array_equal(ref.outputs, ref.gate_spikes["lif2"].astype(float))
    # counts (docs/semantics.md §5): every neuron every step; all synaptic ops ACs (binary spikes)
    assert ref.neuron_updates[1:3].sum() == 2 * 100 * (38 + 7)
    assert ref.ac_ops.sum() == ref.synaptic_ops.sum() > 0
    assert ref.dense_macs[1, 0] == 2 * (38 * 12 + 38 * 38) and ref.dense_macs[2, 0] == 2 * 7 * 38
    for p in PROFILES:
        for execution in ("event", "dense"):
            e = estimate(ref, p, execution=execution)
            assert np.isfinite(e.total_pJ) and e.total_pJ > 0, (p, execution)


@needs_braille
def test_braille_lava_states_bit_identical(braille):
    # Lava runs T + L steps; layer l has then done T + L − l steps: compare with the reference on x
    # padded with L zero steps, at its step T + L − 1 − l (v_reset = 0, so v̂ = v).
    x = (np.random.default_rng(1).random((40, 12)) < 0.3).astype(np.float64)
    n_l = len(braille.layers)
    _, states = reference.run_with_states(braille, np.concatenate([x, np.zeros((n_l, 12))])[None])
    for k, (name, (_u, v)) in enumerate(zip(braille.layer_names, lava_final_states(braille, x)), start=1):
        np.testing.assert_array_equal(v, states[name][0, 40 + n_l - 1 - k], err_msg=name)


def test_voltage_bias_and_reset_latency_compensated():
    # v_leak ≠ v_reset gives a constant voltage drive and v̂_{−1} = −v_reset ≠ 0: both must start
    # exactly at each layer's first step. Two layers, the first recurrent; the trajectory of the
    # first layer is the hand-derived one of tests/ir/test_spiking_layers.py (spikes 01010 / 00101).
    l1 = SpikingLayerNode("cuba", neuron="cubalif", dt=1.0, tau_syn=[2.0, 2.0], tau_mem=[4.0, 4.0], r=[4.0, 4.0],
                          w_in=[2.0, 2.0], weight=[[1.0], [0.25]], bias=[0.25, 0.0], w_rec=[[0.0, 0.0], [1.0, 0.0]],
                          v_leak=[0.0, 0.5], v_threshold=[1.5, 1.0], v_reset=[0.0, -0.5])
    l2 = SpikingLayerNode("lif", neuron="lif", dt=1.0, tau_mem=[2.0], r=[1.0], weight=[[1.0, 1.0]], bias=[0.1],
                          v_leak=[0.3], v_threshold=[0.6], v_reset=[0.1])
    g = EventGraph.sequential(InputNode("input", size=1, encoding="spikes"), [l1, l2],
                              ReadoutNode("out", weight=np.eye(1), bias=np.zeros(1), mode="all"))
    x = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0])[None, :, None]
    ref = reference.run(g, x)
    np.testing.assert_array_equal(ref.gate_spikes["cuba"][0, :5], [[0, 0], [1, 0], [0, 1], [1, 0], [0, 1]])
    lava = run_spiking_lava(g, x)
    for name in g.layer_names:
        np.testing.assert_array_equal(lava.gate_spikes[name], ref.gate_spikes[name], err_msg=name)
    assert ref.gate_spikes["lif"].any()


def test_limits_are_user_errors():
    with pytest.raises(UserError, match="needs an event graph of spiking layers"):
        run_spiking_lava(random_graph(seed=0), np.zeros((1, 3, 3)))
    layer = SpikingLayerNode("sl", neuron="lif", dt=1e-4, tau_mem=[1e-3, 2e-3], r=[1.0, 1.0],
                             weight=np.ones((2, 1)), bias=np.zeros(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    g = EventGraph.sequential(InputNode("input", size=1), [layer],
                              ReadoutNode("out", weight=np.eye(2), bias=np.zeros(2)))
    with pytest.raises(UserError, match="spiking layer 'sl': du = dt/tau_syn|spiking layer 'sl': dv = dt/tau_mem"):
        run_spiking_lava(g, np.zeros((1, 3, 1)))
