"""lava-fixed: a hand-derived integer trajectory, the lookup-table error bounds, and agreement with
the float model within the stated quantisation error (docs/lava.md §4)."""

import numpy as np
import pytest

from surnn_neuro.hw_targets.lava import fixed_point as fx
from surnn_neuro.ir import AlwaysGate, EventGraph, InputNode, LayerNode, ReadoutNode
from surnn_neuro.ir.examples import random_graph, random_input
from surnn_neuro.simulators import lava_backend, reference

from lava_event_checks import assert_same_events

#: Stated quantisation error (docs/lava.md §4): arithmetic alone (tables, product and shift
#: rounding) vs a float run with the same 8-bit weights; and with the weight quantisation included.
ARITH_TOL = 2e-3
TOTAL_TOL = 5e-2


def tiny_rnn():
    layer = LayerNode("layer1", cell="rnn", w_ih=[[0.5]], w_hh=[[0.25]], b_ih=[0.125], b_hh=[-0.0625])
    ro = ReadoutNode("readout", weight=[[1.0]], bias=[0.25], mode="all")
    return EventGraph.sequential(InputNode("input", size=1), [(layer, AlwaysGate("gate1", size=1))], ro)


@pytest.mark.lava
def test_hand_derived_integer_trajectory():
    # V = H = O = 1, tanh RNN, always open, x = (1, 0, 0.5), input_range = max|x| = 1.
    #
    # Formats (fixed_point.py):
    #   input payload F_X = 12 - ceil(log2 1)₊ = 12: x_q = 4096, 0, 2048.
    #   layer sigma bound 0.5·1 + 0.125 + 0.25 + 0.0625 = 0.9375 → F_S = 22 - ceil(log2 0.9375) = 22.
    #   W_ih = 0.5: e = ceil(log2(0.5/127)) = -7, m = 64, Dense register 2·64 = 128,
    #     weight_exp = F_S + e - F_X - 1 = 22 - 7 - 12 - 1 = 2 → a_in = (128·x_q) << 2 = 512·x_q.
    #   W_hh = 0.25: e = -8, m = 64, weight_exp = 22 - 8 - 12 - 1 = 1 → r_in = 256·Δ_q.
    #   b_ih = 0.125·2^22 = 524288, b_hh = -0.0625·2^22 = -262144.
    #   readout bound 1 + 0.25 = 1.25 → F_S = 22 - 1 = 21; W_o = 1: e = -6, m = 64,
    #     weight_exp = 21 - 6 - 12 - 1 = 2 → a_in = 512·Δ_q; b_o = 0.25·2^21 = 524288.
    #   tanh table index = round(pre / 2^(22-10)) (round half up), value round(tanh(k/1024)·4096).
    #
    # t = 0: S_in = 524288 + 512·4096 = 2621440; S_h = -262144; pre = 2359296 → k = 576
    #        tanh(0.5625)·4096 = 2088.26 → h = 2088, Δ = 2088; y = 524288 + 512·2088 = 1593344
    # t = 1: S_in = 524288 (x = 0; dense input rebuilds S_in); S_h = -262144 + 256·2088 = 272384;
    #        pre = 796672 → k = (796672 + 2048) >> 12 = 195; tanh(195/1024)·4096 = 770.71 → h = 771,
    #        Δ = 771 - 2088 = -1317; y = 1593344 + 512·(-1317) = 919040
    # t = 2: S_in = 524288 + 512·2048 = 1572864; S_h = 272384 + 256·(-1317) = -64768;
    #        pre = 1508096 → k = (1508096 + 2048) >> 12 = 368; tanh(368/1024)·4096 = 1411.74 → h = 1412,
    #        Δ = 641; y = 919040 + 512·641 = 1247232
    g = tiny_rnn()
    x = np.array([[[1.0], [0.0], [0.5]]])
    tr = lava_backend.run_fixed(g, x)
    assert tr.backend == "lava-fixed"
    y_q = tr.outputs[0, :, 0] * 2 ** 21  # outputs are de-quantised by 2^-F_S(readout)
    np.testing.assert_array_equal(y_q, [1593344, 919040, 1247232])
    assert tr.metadata["fixed_point"]["sigma_frac_bits"] == {"layer1": 22, "readout": 21}
    # and the float network is within the table error of it: h0 = tanh(0.5625) = 0.509830 vs 2088/4096
    ref = reference.run(g, x)
    assert_same_events(ref, tr, g.layer_names)
    np.testing.assert_allclose(tr.outputs, ref.outputs, atol=fx.TANH_ERROR_BOUND * 3)


def test_lookup_tables_meet_their_error_bounds():
    # every table input at F_S = 16 bits over [-20, 20] (beyond the saturation points), float64 truth
    x_q = np.arange(-20 * 2 ** 16, 20 * 2 ** 16 + 1, 7, dtype=np.int64)
    x = x_q / 2.0 ** 16
    err_s = np.abs(fx.sigmoid_q(x_q, 16) / 4096 - 1 / (1 + np.exp(-x))).max()
    err_t = np.abs(fx.tanh_q(x_q, 16) / 4096 - np.tanh(x)).max()
    assert err_s <= fx.SIGMOID_ERROR_BOUND and err_t <= fx.TANH_ERROR_BOUND
    assert fx.SIGMOID_ERROR_BOUND < 2.6e-4 and fx.TANH_ERROR_BOUND < 6.3e-4
    # hand values: σ(0) = 0.5 → 2048; tanh(0.5625) → 2088 (see the trajectory test); saturation
    assert fx.sigmoid_q(0, 22) == 2048 and fx.tanh_q(2359296, 22) == 2088
    assert fx.sigmoid_q(-(1 << 30), 16) == 0 and fx.tanh_q(1 << 30, 16) == 4096


def test_integer_helpers_by_hand():
    assert fx.round_shift(5, 1) == 3 and fx.round_shift(-5, 1) == -2  # round half up: 2.5 → 3, -2.5 → -2
    assert fx.round_shift(3, -2) == 12
    assert fx.wrap((1 << 23)) == -(1 << 23) and fx.wrap((1 << 23) - 1) == (1 << 23) - 1  # 24-bit wrap
    assert fx.mul_q(2048, 2048) == 1024  # 0.5 · 0.5 = 0.25 in Q.12
    m, e = fx.quantize_weights(np.array([[1.9, -0.5], [0.0, 0.25]]))
    assert e == -6 and m.tolist() == [[122, -32], [0, 16]]  # 1.9·64 = 121.6 → 122
    assert fx.sigma_frac_bits(0.9375) == 22 and fx.sigma_frac_bits(1.25) == 21 and fx.input_frac_bits(16.0) == 8
    with pytest.raises(ValueError, match="input_range"):
        fx.FixedPointConfig(input_range=-1.0)


@pytest.mark.lava
@pytest.mark.parametrize("cells, gates, encoding, mode, seed", [
    (("gru", "lstm"), ("oscillator", "threshold"), "dense", "all", 11),
    (("rnn",), ("global",), "delta", "mean", 12),
])
def test_fixed_agrees_with_float_within_stated_error(cells, gates, encoding, mode, seed):
    g = random_graph(cells=cells, gate=gates, hidden=tuple(8 - i for i in range(len(cells))), input_size=3,
                     encoding=encoding, readout=mode, seed=seed)
    x = random_input(g, batch=2, steps=12, seed=seed)
    fixed = lava_backend.run_fixed(g, x)
    plan = fx.plan_fixed_point(g, float(np.abs(x).max()))
    gq = fx.quantized_graph(g, plan)  # the same 8-bit weights and biases, in float
    flt_q = lava_backend.run(gq, x)
    flt = reference.run(g, x)
    # same decisions and events as the float model with the same weights (input-dependent gates
    # could flip on a near-zero drive; they do not on these graphs)
    assert_same_events(flt_q, fixed, g.layer_names)
    assert np.abs(fixed.outputs - flt_q.outputs).max() <= ARITH_TOL
    assert np.abs(fixed.outputs - flt.outputs).max() <= TOTAL_TOL
    assert fixed.outputs.dtype == np.float64


def test_plan_is_consistent_with_the_lava_dense_convention():
    # a payload q through Dense(2·m, weight_exp) lands in the consumer's sigma format
    g = random_graph(cells=("gru",), gate="threshold", hidden=(6,), seed=4)
    plan = fx.plan_fixed_point(g, 2.0)
    assert plan.input_frac == 11
    for (_node, role), w in plan.weights.items():
        q = np.array([plan.input_frac if role in ("ih", "in") else fx.F_H])  # payload bits
        assert w.payload_frac == q[0]
        assert np.abs(w.mantissa).max() <= 127
        # value check: one payload of 1.0 through column 0
        p = 1 << w.payload_frac
        acc = int(w.register_weights[0, 0]) * p
        out = acc << w.weight_exp if w.weight_exp >= 0 else acc >> -w.weight_exp
        assert abs(out / 2.0 ** w.sigma_frac - w.dequantized[0, 0]) <= 2.0 ** -w.sigma_frac
