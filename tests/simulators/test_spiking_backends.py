"""Spiking (LIF / CubaLIF) graphs on the snnTorch and Norse backends: spikes identical to the
reference for every reset rule, a hand-derived trajectory per reset, braille.nir through the
command, and the one-line refusals (unstable dt/τ, Lava and a non-NIR reset)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from surnn_neuro.errors import UserError
from surnn_neuro.ir import COUNT_FIELDS, EventGraph, InputNode, ReadoutNode
from surnn_neuro.ir.io import read_trace
from surnn_neuro.ir.nodes import SpikingLayerNode
from surnn_neuro.ir.spiking import RESETS
from surnn_neuro.simulators import dense, reference, simulate

pytest.importorskip("snntorch")
pytest.importorskip("norse")

TORCH_BACKENDS = ("snntorch", "norse")
_norse = importlib.util.find_spec("norse")
BRAILLE = Path(_norse.submodule_search_locations[0]) / "torch/utils/test/braille.nir"


def layer(name, h, v, neuron, recurrent, seed, reset):
    """Random and non-trivial: biases, v_leak, v_reset, per-neuron r, w_in and time constants."""
    rng = np.random.default_rng(seed)
    p = dict(neuron=neuron, weight=rng.normal(0, 1, (h, v)), bias=rng.normal(0, 0.3, h),
             tau_mem=rng.uniform(8e-4, 2e-3, h), r=rng.uniform(5, 15, h), v_leak=rng.normal(0, 0.2, h),
             v_threshold=np.full(h, 0.8), dt=1e-4, v_reset=np.full(h, -0.1), reset=reset,
             w_rec=rng.normal(0, 0.5, (h, h)) if recurrent else None)
    if neuron == "cubalif":
        p.update(tau_syn=rng.uniform(2e-4, 4e-4, h), w_in=rng.uniform(1, 3, h))
    return SpikingLayerNode(name, **p)


def graph(reset, mode="all", seed=0):
    rng = np.random.default_rng(seed + 100)
    layers = [layer("l1", 6, 4, "cubalif", True, seed, reset), layer("l2", 5, 6, "lif", True, seed + 1, reset),
              layer("l3", 3, 5, "cubalif", False, seed + 2, reset)]
    ro = ReadoutNode("readout", weight=rng.normal(size=(2, 3)), bias=rng.normal(size=2), mode=mode)
    return EventGraph.sequential(InputNode("input", size=4, encoding="spikes"), layers, ro)


def spikes_in(batch, steps, v=4, seed=0):
    return (np.random.default_rng(seed).random((batch, steps, v)) < 0.3).astype(np.float64)


@pytest.mark.parametrize("reset", list(RESETS))
@pytest.mark.parametrize("backend", TORCH_BACKENDS)
def test_torch_backends_give_the_reference_spikes(backend, reset):
    g = graph(reset, mode=("last", "mean", "all")[len(reset) % 3], seed=len(reset))
    x = spikes_in(3, 80, seed=1)
    ref = reference.run(g, x)
    t = simulate(g, x, backend)
    for name in g.layer_names:
        np.testing.assert_array_equal(t.gate_spikes[name], ref.gate_spikes[name], err_msg=name)
        # a real test: every layer is active but not saturated
        assert 0.02 < ref.gate_spikes[name].mean() < 0.95, (name, ref.gate_spikes[name].mean())
    for f in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(t, f), getattr(ref, f), err_msg=f)
    np.testing.assert_allclose(t.outputs, ref.outputs, rtol=0, atol=1e-12)
    assert t.backend == backend


def test_resets_change_the_spikes():
    # the three rules are three networks (else the test above would not tell them apart)
    x = spikes_in(3, 80, seed=1)
    trains = [reference.run(graph(r), x).gate_spikes["l1"] for r in RESETS]
    assert not np.array_equal(trains[0], trains[1]) and not np.array_equal(trains[1], trains[2])


def one_lif_layer(reset):
    """Two LIF neurons, one input; dt = 1, τ = 2: dv = 0.5, r = 2: s = dv·r = 1 (dyadic, exact)."""
    n = SpikingLayerNode("lif", neuron="lif", dt=1.0, tau_mem=[2.0, 2.0], r=[2.0, 2.0], weight=[[0.75], [2.5]],
                         bias=[0.0, 0.0], v_leak=[0.0, 0.0], v_threshold=[1.0, 1.0], reset=reset)
    return EventGraph.sequential(InputNode("input", size=1, encoding="spikes"), [n],
                                 ReadoutNode("out", weight=np.eye(2), bias=np.zeros(2), mode="all"))


# Hand derivation, x_t = 1 for t = 0..5, a = (0.75, 2.5), θ = 1, v̂ = 0.5 v̂ + a (docs/semantics.md §5).
# value:            n0 0.75, 1.125 z→0, 0.75, 1.125 z→0, …;             n1 2.5 z→0 every step
# subtract-delayed: v̂ = 0.5 v̂ + a − z_{t−1}, no reset after the threshold (snnTorch's default):
#                   n0 0.75, 1.125 z, 0.5625+0.75−1 = 0.3125, 0.15625+0.75 = 0.90625, 1.203125 z, 0.3515625
#                   n1 2.5 z, 1.25+2.5−1 = 2.75 z, 2.875 z, 2.9375 z, 2.96875 z, 2.984375 z
# subtract:         ρ = [v̂_{t−1} > 1], v̂' = 0.5 v̂ + a − ρ, z = v̂' > 1, v̂ = v̂' − (z − ρ):
#                   n0 (ρ = 0 always) 0.75, 1.125 z→0.125, 0.8125, 1.15625 z→0.15625, 0.828125, 1.1640625 z→0.1640625
#                   n1 2.5 z→1.5; ρ=1: 0.75+2.5−1 = 2.25 z→2.25; 2.625 z; then 1.3125+2.5−1 = 2.8125 z; 2.90625 z;
#                   2.953125 z (a voltage left above θ keeps θ subtracted, snnTorch's rule)
HAND = {
    "value": ([[0, 1], [1, 1], [0, 1], [1, 1], [0, 1], [1, 1]],
              [[0.75, 0], [0, 0], [0.75, 0], [0, 0], [0.75, 0], [0, 0]]),
    "subtract-delayed": ([[0, 1], [1, 1], [0, 1], [0, 1], [1, 1], [0, 1]],
                         [[0.75, 2.5], [1.125, 2.75], [0.3125, 2.875], [0.90625, 2.9375], [1.203125, 2.96875],
                          [0.3515625, 2.984375]]),
    "subtract": ([[0, 1], [1, 1], [0, 1], [1, 1], [0, 1], [1, 1]],
                 [[0.75, 1.5], [0.125, 2.25], [0.8125, 2.625], [0.15625, 2.8125], [0.828125, 2.90625],
                  [0.1640625, 2.953125]]),
}


@pytest.mark.parametrize("reset", list(RESETS))
def test_reset_trajectories_by_hand_on_every_backend(reset):
    g = one_lif_layer(reset)
    x = np.ones((1, 6, 1))
    want_z, want_v = (np.array(a) for a in HAND[reset])
    for sim in (reference, dense):
        trace, states = sim.run_with_states(g, x)
        np.testing.assert_array_equal(trace.gate_spikes["lif"][0], want_z.astype(bool))
        np.testing.assert_array_equal(states["lif"][0], want_v)  # dyadic: exact
    for backend in TORCH_BACKENDS:
        np.testing.assert_array_equal(simulate(g, x, backend).gate_spikes["lif"][0], want_z.astype(bool))


def test_snntorch_backend_runs_snntorchs_own_neurons():
    import snntorch as snn

    from surnn_neuro.converters.to_snntorch import to_snntorch

    net = to_snntorch(graph("subtract-delayed"))
    neurons = [ly.neuron for ly in net.layers]
    assert [type(n) for n in neurons] == [snn.Synaptic, snn.Leaky, snn.Synaptic]
    assert all(n.reset_mechanism == "subtract" and n.reset_delay for n in neurons)
    assert not any(n in snn.SpikingNeuron.instances for n in neurons)  # no global registry kept


def test_unstable_discretisation_is_refused_in_one_line():
    n = SpikingLayerNode("fast", neuron="lif", dt=1e-3, tau_mem=[1e-5], r=[1.0], weight=[[1.0]], bias=[0.0],
                         v_leak=[0.0], v_threshold=[1.0])  # dt/τ = 100, Norse's τ·dt (norse#411)
    g = EventGraph.sequential(InputNode("input", size=1, encoding="spikes"), [n],
                              ReadoutNode("out", weight=np.eye(1), bias=np.zeros(1), mode="all"))
    for backend in TORCH_BACKENDS:
        with pytest.raises(UserError, match=rf"{backend} backend: spiking layer 'fast': dt/tau_mem = 100 > 1"):
            simulate(g, np.ones((1, 3, 1)), backend)


def test_lava_refuses_a_reset_it_does_not_have():
    pytest.importorskip("lava")
    from surnn_neuro.hw_targets.lava.spiking import check_lava_compatible

    check_lava_compatible(one_lif_layer("value"))
    for reset in ("subtract", "subtract-delayed"):
        with pytest.raises(UserError, match=f"spiking layer 'lif': reset '{reset}' is not Lava's"):
            check_lava_compatible(one_lif_layer(reset))


@pytest.mark.skipif(not BRAILLE.exists(), reason="braille.nir ships in the norse wheel")
def test_simulate_braille_on_snntorch_and_norse_through_the_command(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "surnn_neuro.cli", *args], capture_output=True, text=True)

    r = cli("convert", str(BRAILLE), "--out", str(tmp_path / "braille.h5"))
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "x.npy", (np.random.default_rng(0).random((2, 40, 12)) < 0.2).astype(np.float64))
    traces = {}
    for backend in ("reference",) + TORCH_BACKENDS:
        out = tmp_path / f"{backend}.h5"
        r = cli("simulate", str(tmp_path / "braille.h5"), "--input", str(tmp_path / "x.npy"), "--backend",
                backend, "--out", str(out))
        assert r.returncode == 0, r.stderr
        traces[backend] = read_trace(out)
    for backend in TORCH_BACKENDS:
        for name in ("lif1.lif", "lif2"):
            np.testing.assert_array_equal(traces[backend].gate_spikes[name], traces["reference"].gate_spikes[name])
        np.testing.assert_array_equal(traces[backend].synaptic_ops, traces["reference"].synaptic_ops)
    assert traces["reference"].gate_spikes["lif2"].sum() > 50  # the network is active
