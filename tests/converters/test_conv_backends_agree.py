"""Every model, every backend: the same gate spikes and counts, outputs within 1e-5 of the torch model.

The torch model runs in float32 (eval mode), the simulators in float64; snnTorch and Norse must
reproduce the reference simulator's gate spikes and all five count arrays exactly, and its outputs to
float64 rounding (they accumulate the same sigmas in another order).
"""

import functools
import itertools

import numpy as np
import pytest
import torch

from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.ir import COUNT_FIELDS
from surnn_neuro.ir.examples import GATE_KINDS, random_graph, random_input
from surnn_neuro.models import MODELS, build
from surnn_neuro.simulators import BACKENDS, simulate

BACKENDS_UNDER_TEST = ("reference", "snntorch", "norse")
MODEL_NAMES = sorted(MODELS)
MODES = ("last", "mean", "all")
ENCODINGS = ("dense", "delta", "spikes")
CELLS = ("gru", "rnn", "lstm")
T_LONG = 500


def test_backend_rows_registered():
    assert BACKENDS["snntorch"] == "surnn_neuro.simulators.snntorch_backend:run"
    assert BACKENDS["norse"] == "surnn_neuro.simulators.norse_backend:run"


@functools.lru_cache(maxsize=None)
def model_case(name: str):
    """Two-layer model (H = 12, B = 2, T = 500); readout mode and input encoding rotate over the
    sorted model names, so each mode and each encoding is seen by at least two models."""
    k = MODEL_NAMES.index(name)
    mode, encoding = MODES[k % 3], ENCODINGS[(k + 1) % 3]
    torch.manual_seed(10 + k)
    model = build(name, 3, 12, 4, seq_len=T_LONG, layers=2, readout=mode).eval()
    if name == "skiprnn":  # its init (b = 1) updates at every step; make it skip
        with torch.no_grad():
            for layer in model.layers:
                layer.gate.bias.fill_(-0.5)
    x = torch.rand(T_LONG, 2, 3)
    if encoding == "spikes":
        x = (x < 0.3).float()
    with torch.no_grad():
        out, gates = model(x)
    out = out.numpy().astype(np.float64)
    if mode == "all":
        out = out.transpose(1, 0, 2)  # (T, B, O) -> (B, T, O) as in the Trace
    graph = to_graph(model, input_encoding=encoding)
    xn = x.transpose(0, 1).numpy().astype(np.float64)  # (B, T, V)
    gates = [g.transpose(0, 1).numpy() > 0 for g in gates]
    return graph, xn, out, gates, simulate(graph, xn, "reference")


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_backends_agree_long_sequence(name, backend):
    torch.set_num_threads(1)
    graph, x, expected, model_gates, ref = model_case(name)
    trace = ref if backend == "reference" else simulate(graph, x, backend)
    assert trace.backend == backend
    assert trace.node_names == graph.node_names
    assert trace.outputs.shape == expected.shape
    for layer, g in zip(graph.layer_names, model_gates):
        np.testing.assert_array_equal(trace.gate_spikes[layer], g, err_msg=f"{layer} vs torch model")
        np.testing.assert_array_equal(trace.gate_spikes[layer], ref.gate_spikes[layer], err_msg=layer)
    for field in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(trace, field), getattr(ref, field), err_msg=field)
    np.testing.assert_allclose(trace.outputs, expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(trace.outputs, ref.outputs, rtol=0, atol=1e-10)
    # the comparison means something: gated models skip, and skip differently per neuron
    rate = trace.update_rate()
    assert (rate == 1.0) if name == "gru" else (0.1 < rate < 0.9)


# Short random graphs: every cell × gate kind, one and two layers, every readout mode and input
# encoding (rotating), non-trivial weights with exact zeros (ir.examples).
ONE_LAYER = [(k, c, g) for k, (c, g) in enumerate(itertools.product(CELLS, GATE_KINDS))]


@pytest.mark.parametrize("backend", ("snntorch", "norse"))
@pytest.mark.parametrize("k, cell, gate", ONE_LAYER)
def test_random_graphs_match_reference(k, cell, gate, backend):
    torch.set_num_threads(1)
    one = random_graph(cells=(cell,), gate=gate, hidden=(5,), encoding=ENCODINGS[k % 3],
                       readout=MODES[(k // 3) % 3], seed=200 + k)
    cell2, gate2 = CELLS[(k + 1) % 3], GATE_KINDS[(k + 2) % len(GATE_KINDS)]
    two = random_graph(cells=(cell, cell2), gate=(gate, gate2), hidden=(6, 4), encoding=ENCODINGS[(k + 1) % 3],
                       readout=MODES[k % 3], seed=300 + k)
    for graph in (one, two):
        x = random_input(graph, batch=2, steps=40, seed=k)
        ref = simulate(graph, x, "reference")
        trace = simulate(graph, x, backend)
        for name in graph.layer_names:
            np.testing.assert_array_equal(trace.gate_spikes[name], ref.gate_spikes[name], err_msg=name)
        for field in COUNT_FIELDS:
            np.testing.assert_array_equal(getattr(trace, field), getattr(ref, field), err_msg=field)
        np.testing.assert_allclose(trace.outputs, ref.outputs, rtol=0, atol=1e-12)
        assert trace.metadata == {"dtype": "float64"}


@pytest.mark.parametrize("backend", ("snntorch", "norse"))
def test_float32_option_and_device(backend):
    # float32 runs the same network in single precision: same decisions here, outputs to ~1e-6
    graph, x, expected, _, ref = model_case("sugru")
    trace = simulate(graph, x, backend, dtype=np.float32, device="auto")
    assert trace.metadata == {"dtype": "float32"}
    assert trace.outputs.dtype == np.float64
    for name in graph.layer_names:
        np.testing.assert_array_equal(trace.gate_spikes[name], ref.gate_spikes[name])
    np.testing.assert_allclose(trace.outputs, expected, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="dtype: expected float64 or float32"):
        simulate(graph, x, backend, dtype=np.int32)
    with pytest.raises(ValueError, match=r"input x: expected shape \(B, T, V=3\)"):
        simulate(graph, x[:, :, :2], backend)
