"""Loihi-2-style fixed-point formats of the ``fixed_pt`` ProcessModels (numpy only, no Lava, no torch).

Every quantity is a signed integer ``q`` standing for the real value ``q · 2^−F`` (``F`` fractional
bits). The formats (docs/lava.md §4):

================================  =======================  ===========================================
quantity                          bits                     fractional bits
================================  =======================  ===========================================
weights (every Dense)             8-bit signed mantissa    per-connection exponent ``e``: ``w ≈ m·2^e``
states ``h``, ``c``, deltas Δ     24-bit signed            ``F_H = 12`` (|h| ≤ 1 uses 13 bits)
gate activations σ, tanh          13 bits (0…4096)         ``F_H = 12``
graded payloads (layer → Dense)   24-bit signed            ``F_H = 12``
input payloads                    24-bit signed            ``F_X = F_H − ⌈log2 x_max⌉₊``
sigma accumulators / Dense out    24-bit signed, wrapping  ``F_S`` per consumer (from its drive bound)
skip-gate ũ, Δũ                   13 bits                  ``F_H = 12``
================================  =======================  ===========================================

Dense (Lava's bit-accurate ``PyDenseModelBitAcc``) computes ``out = (Σ_j W_reg[i,j]·q_j) << weight_exp``
(``>>`` = floor for a negative exponent) with ``W_reg = 2·m`` (Lava's MIXED sign mode doubles the
8-bit mantissa, ``w_scale = 8 − num_weight_bits + weight_exp + isMixed()``). For a payload with
``F_pay`` fractional bits and a consumer with ``F_S``: ``weight_exp = F_S + e − F_pay − 1``.

Nonlinearities: lookup tables indexed at ``F_L = 10`` fractional bits (round half up), output rounded
to ``F_H = 12`` bits, saturated outside ``[−12, 12)`` (σ) and ``[−6, 6)`` (tanh). Error bounds per
evaluation, input exact (checked by a test against float64 over the whole domain):

- σ:    ≤ 2^−11·¼ (index rounding, max slope ¼) + 2^−13 (output rounding) + σ(−12) = 2.5e−4
- tanh: ≤ 2^−11·1 + 2^−13 + (1 − tanh 6) = 6.2e−4

Products of two 24-bit operands are formed at double width (a multiplier's product register) and
rounded straight back: ``round_shift(a·b, 12)``. Rounding is round-half-up on an arithmetic shift,
``(x + 2^(s−1)) >> s``.

>>> cfg = FixedPointConfig()
>>> m, e = quantize_weights(np.array([[0.5, -0.25], [1.5, 0.0]]))
>>> m.tolist(), e
([[32, -16], [96, 0]], -6)
>>> sigma_frac_bits(3.0)  # |S| ≤ 3 → 22 − 2 = 20 fractional bits, |S|·2^20 < 2^23 with room for Δ
20
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Fractional bits of states, deltas, layer payloads and gate activations.
F_H = 12
#: Fractional bits of the lookup-table index.
F_L = 10
#: Width of states, sigma accumulators and graded payloads (Loihi 2 graded spikes: 24-bit signed).
STATE_BITS = 24
#: Width of a weight mantissa.
WEIGHT_BITS = 8
#: Lookup-table domains: σ on [−12, 12), tanh on [−6, 6) (saturated outside).
SIGMOID_RANGE = 12
TANH_RANGE = 6

ONE = 1 << F_H  # 1.0 in Q.F_H


@dataclass(frozen=True)
class FixedPointConfig:
    """User-facing choices of the fixed-point mapping.

    ``input_range``: the largest |x| the input payloads must represent; ``None`` takes max|x| of the
    batch being run (deploy needs a number, default 1.0 there). Inputs beyond it saturate.
    """

    input_range: float | None = None

    def __post_init__(self):
        r = self.input_range
        if r is not None and (isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r) or r <= 0):
            raise ValueError(f"FixedPointConfig.input_range: expected a finite number > 0 or None, got {r!r}")


# ------------------------------------------------------------------------------------------------
# integer helpers (used by the fixed_pt ProcessModels: the one definition of the arithmetic)
# ------------------------------------------------------------------------------------------------


def round_shift(x, s: int):
    """``x · 2^−s`` rounded half up (arithmetic shift); ``s ≤ 0`` shifts left (exact). int64 in/out."""
    x = np.asarray(x, dtype=np.int64)
    if s > 0:
        return (x + (1 << (s - 1))) >> s
    return x << (-s)


def wrap(x, bits: int = STATE_BITS):
    """Two's-complement wrap-around to ``bits`` (what a 24-bit register does on overflow)."""
    x = np.asarray(x, dtype=np.int64)
    half = 1 << (bits - 1)
    return ((x + half) & ((1 << bits) - 1)) - half


def mul_q(a, b, frac: int = F_H):
    """``round(a·b · 2^−frac)``: product at double width, rounded back (one multiplier)."""
    return round_shift(np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64), frac)


def _lut(fn, half_range: int) -> np.ndarray:
    k = np.arange(-half_range << F_L, (half_range << F_L) + 1, dtype=np.int64)
    return np.round(fn(k / float(1 << F_L)) * ONE).astype(np.int64)


#: σ(k·2^−10)·2^12 rounded, k = −12·1024 … 12·1024 (24 577 entries).
SIGMOID_LUT = _lut(lambda v: 0.5 + 0.5 * np.tanh(0.5 * v), SIGMOID_RANGE)
#: tanh(k·2^−10)·2^12 rounded, k = −6·1024 … 6·1024 (12 289 entries).
TANH_LUT = _lut(np.tanh, TANH_RANGE)
SIGMOID_LUT.flags.writeable = False
TANH_LUT.flags.writeable = False
SIGMOID_ERROR_BOUND = 2.0 ** -13 + 2.0 ** -13 + 1.0 / (1.0 + math.exp(SIGMOID_RANGE))
TANH_ERROR_BOUND = 2.0 ** -11 + 2.0 ** -13 + (1.0 - math.tanh(TANH_RANGE))


def lut_index(x, frac: int, half_range: int):
    """Table index of ``x`` (``frac`` fractional bits): ``round(x·2^(F_L−frac))``, saturated."""
    k = round_shift(x, frac - F_L)
    lim = half_range << F_L
    return np.clip(k, -lim, lim) + lim


def sigmoid_q(x, frac: int):
    """σ of ``x·2^−frac`` in Q.12 (0 … 4096) by table lookup."""
    return SIGMOID_LUT[lut_index(x, frac, SIGMOID_RANGE)]


def tanh_q(x, frac: int):
    """tanh of ``x·2^−frac`` in Q.12 (−4096 … 4096) by table lookup."""
    return TANH_LUT[lut_index(x, frac, TANH_RANGE)]


def gru_q(pre_in, pre_h, h, c, frac: int):
    """Reset-after GRU in integers. ``pre_in, pre_h: (3, n)`` sigmas at ``frac`` bits (biases
    included), ``h: (n,)`` Q.12. ``r, z = σ(·)``; ``n = tanh(gi_n + r·gh_n)``; ``f = n + z·(h − n)``
    (= ``(1 − z)·n + z·h`` with one multiplier)."""
    rz = sigmoid_q(pre_in[:2] + pre_h[:2], frac)
    n = tanh_q(pre_in[2] + mul_q(rz[0], pre_h[2]), frac)
    return n + mul_q(rz[1], h - n), None


def rnn_q(pre_in, pre_h, h, c, frac: int):
    """``f = tanh(gi + gh)`` in Q.12."""
    return tanh_q(pre_in[0] + pre_h[0], frac), None


def lstm_q(pre_in, pre_h, h, c, frac: int):
    """``i, f, o = σ``, ``g = tanh``; ``c' = f·c + i·g`` (two products, one rounding: a MAC);
    ``h' = o·tanh(c')``. ``c`` Q.12, wrapped to 24 bits."""
    p = pre_in + pre_h
    i, f, o = sigmoid_q(p[0], frac), sigmoid_q(p[1], frac), sigmoid_q(p[3], frac)
    g = tanh_q(p[2], frac)
    c_new = wrap(round_shift(f * c + i * g, F_H))
    return mul_q(o, tanh_q(c_new, F_H)), c_new


#: cell kind -> integer candidate ``(pre_in, pre_h, h, c, frac) -> (h', c' or None)``.
CELLS_Q = {"gru": gru_q, "rnn": rnn_q, "lstm": lstm_q}


# ------------------------------------------------------------------------------------------------
# quantisation of parameters (host side; the fixed_pt models call the same functions)
# ------------------------------------------------------------------------------------------------


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, int]:
    """``w ≈ m · 2^e`` with ``m`` int8-range mantissas (−128 … 127) and one exponent per matrix.

    ``e = ⌈log2(max|w| / 127)⌉``, so the largest magnitude uses 7 bits; all-zero ``w`` gives e = 0.
    """
    w = np.asarray(w, dtype=np.float64)
    top = float(np.max(np.abs(w))) if w.size else 0.0
    if top == 0.0:
        return np.zeros(w.shape, dtype=np.int64), 0
    e = math.ceil(math.log2(top / 127.0))
    m = np.clip(np.round(w / 2.0 ** e), -128, 127).astype(np.int64)
    return m, int(e)


def quantize_value(x, frac: int, bits: int = STATE_BITS) -> np.ndarray:
    """``round(x · 2^frac)`` saturated to ``bits`` signed (biases, inputs)."""
    lim = (1 << (bits - 1)) - 1
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 2.0 ** frac), -lim - 1, lim).astype(np.int64)


def sigma_frac_bits(bound: float) -> int:
    """Fractional bits ``F_S`` of a sigma whose magnitude is at most ``bound``.

    ``F_S = 22 − ⌈log2 bound⌉``: ``|S| · 2^F_S ≤ 2^22``, half the 24-bit range, so a step's Dense
    output ``W·Δ`` (|Δ| ≤ 2 for states in [−1, 1]) also fits. Clipped to 0 … 30.
    """
    bound = max(float(bound), 2.0 ** -8)
    return int(min(30, max(0, 22 - math.ceil(math.log2(bound)))))


def input_frac_bits(x_max: float) -> int:
    """``F_X = F_H − max(0, ⌈log2 x_max⌉)``: input payloads as large as the state payloads (|q| ≤ 2^12)."""
    x_max = max(float(x_max), 1e-12)
    return F_H - max(0, math.ceil(math.log2(x_max)))


def dense_weight_exp(frac_consumer: int, e: int, frac_payload: int) -> int:
    """Lava Dense ``weight_exp`` mapping payload × ``2·m`` to the consumer's sigma format."""
    return frac_consumer + e - frac_payload - 1


# ------------------------------------------------------------------------------------------------
# the plan of one graph: every weight matrix, sigma and payload format
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WeightFormat:
    """One Dense connection: ``w ≈ mantissa · 2^exponent``; payloads at ``payload_frac`` bits into a
    sigma at ``sigma_frac`` bits. Lava Dense gets ``weights = 2·mantissa`` and ``weight_exp``."""

    mantissa: np.ndarray
    exponent: int
    payload_frac: int
    sigma_frac: int

    @property
    def weight_exp(self) -> int:
        return dense_weight_exp(self.sigma_frac, self.exponent, self.payload_frac)

    @property
    def register_weights(self) -> np.ndarray:
        """What Lava's bit-accurate Dense is given (MIXED sign mode: 2 × the 8-bit mantissa)."""
        return 2 * self.mantissa

    @property
    def dequantized(self) -> np.ndarray:
        return self.mantissa.astype(np.float64) * 2.0 ** self.exponent


@dataclass(frozen=True, eq=False)
class FixedPointPlan:
    """Formats of one graph. ``sigma_frac[node]``: ``F_S`` of the layer / gate / readout sigma;
    ``weights[(node, role)]``: roles ``ih``, ``hh`` (layer), ``in``, ``self`` (threshold gate),
    ``w`` (global gate), ``o`` (readout)."""

    input_range: float
    input_frac: int
    sigma_frac: dict
    weights: dict

    def summary(self) -> dict:
        """JSON-ready: formats and exponents (no matrices)."""
        return {
            "input_range": self.input_range,
            "input_frac_bits": self.input_frac,
            "state_frac_bits": F_H,
            "lut_index_frac_bits": F_L,
            "sigma_frac_bits": dict(self.sigma_frac),
            "weights": {f"{n}:{r}": {"exponent": w.exponent, "weight_exp": w.weight_exp,
                                     "payload_frac_bits": w.payload_frac, "sigma_frac_bits": w.sigma_frac,
                                     "max_abs_mantissa": int(np.max(np.abs(w.mantissa), initial=0))}
                        for (n, r), w in self.weights.items()},
        }


def _row_l1(w, scale=1.0):
    return np.abs(np.asarray(w, dtype=np.float64)).sum(axis=1) * scale


def plan_fixed_point(graph, input_range: float) -> FixedPointPlan:
    """Formats for ``graph`` with inputs up to ``input_range`` in magnitude.

    Sigma bounds (states |h| ≤ 1, inputs |x| ≤ input_range), per row ``i``:
    layer ``Σ_j |W_ih,ij|·m + |b_ih,i| + Σ_j |W_hh,ij| + |b_hh,i|`` (its pre-activation), threshold gate
    ``Σ_j |W_in,ij|·m + |bias_i| + |w_self,i|``, skip gate ``Σ|w| + |b|``, readout ``Σ_j |W_o,ij| + |b_o,i|``
    (``m`` = input_range for the first layer, 1 after it); ``F_S = sigma_frac_bits(max over rows)``.
    """
    input_range = float(input_range)
    f_x = input_frac_bits(input_range)
    sig, wts = {}, {}
    pay, m = f_x, input_range
    for layer in graph.layers:
        gate = graph.gate_of(layer.name)
        bound = (_row_l1(layer.w_ih, m) + np.abs(layer.b_ih) + _row_l1(layer.w_hh) + np.abs(layer.b_hh)).max()
        f_s = sig[layer.name] = sigma_frac_bits(bound)
        for role, w, p in (("ih", layer.w_ih, pay), ("hh", layer.w_hh, F_H)):
            mant, e = quantize_weights(w)
            wts[(layer.name, role)] = WeightFormat(mant, e, p, f_s)
        syns = gate.synapses()  # the gate's own synapses share one sigma format
        if syns:
            f_g = sig[gate.name] = sigma_frac_bits(gate.sigma_bound(m))
            for syn in syns:
                mant, e = quantize_weights(syn.matrix)
                wts[(gate.name, syn.role)] = WeightFormat(mant, e, pay if syn.source == "input" else F_H, f_g)
        pay, m = F_H, 1.0
    ro = graph.readout
    f_o = sig[ro.name] = sigma_frac_bits((_row_l1(ro.weight) + np.abs(ro.bias)).max())
    mant, e = quantize_weights(ro.weight)
    wts[(ro.name, "o")] = WeightFormat(mant, e, F_H, f_o)
    return FixedPointPlan(input_range, f_x, sig, wts)


def quantized_graph(graph, plan: FixedPointPlan):
    """The float graph the fixed-point network approximates best: every weight on its 8-bit grid
    (``m·2^e``), every bias on its sigma grid (``round(b·2^F_S)·2^−F_S``). Running it in float isolates
    the arithmetic error (tables, rounding) from the weight quantisation."""
    from dataclasses import replace

    from surnn_neuro.ir.graph import EventGraph

    def b(x, f):
        return quantize_value(x, f).astype(np.float64) * 2.0 ** -f

    nodes = []
    w = plan.weights
    for n in graph.nodes:
        if n.kind == "layer":  # a selective-update layer (the only layer kind of the Lava target)
            f = plan.sigma_frac[n.name]
            n = replace(n, w_ih=w[(n.name, "ih")].dequantized, w_hh=w[(n.name, "hh")].dequantized,
                        b_ih=b(n.b_ih, f), b_hh=b(n.b_hh, f))
        elif n.role == "gate" and n.synapses():
            f = plan.sigma_frac[n.name]
            bias = b(n.bias, f)
            fields = {s.field: s.field_value(w[(n.name, s.role)].dequantized) for s in n.synapses()}
            n = replace(n, bias=float(bias) if np.ndim(n.bias) == 0 else bias, **fields)
        elif n.role == "readout":
            f = plan.sigma_frac[n.name]
            n = replace(n, weight=w[(n.name, "o")].dequantized, bias=b(n.bias, f))
        nodes.append(n)
    return EventGraph(tuple(nodes), graph.edges, graph.metadata)


__all__ = [
    "F_H", "F_L", "FixedPointConfig", "ONE", "SIGMOID_ERROR_BOUND", "SIGMOID_LUT", "STATE_BITS", "TANH_ERROR_BOUND",
    "TANH_LUT", "WEIGHT_BITS", "CELLS_Q", "dense_weight_exp", "gru_q", "lstm_q", "rnn_q", "input_frac_bits",
    "lut_index", "mul_q", "quantize_value",
    "FixedPointPlan", "WeightFormat", "plan_fixed_point", "quantized_graph",
    "quantize_weights", "round_shift", "sigma_frac_bits", "sigmoid_q", "tanh_q", "wrap",
]
