"""Numba kernels of the event-driven reference simulator (selective-update layers only).

Imported lazily by :mod:`surnn_neuro.simulators.reference` (never at package import, never required):
if numba is missing, fails to import, or ``SURNN_NEURO_NO_NUMBA=1`` is set, the reference runs its
pure-numpy path instead, with the same events, counts and gate spikes.

One call of :func:`layer_sample` runs one selective-update layer over all T steps of one sample,
so there is no per-step Python overhead. Layers are feed-forward (layer l at step t reads only the
delta events layer l − 1 sent at step t, and its own state), so running layer 1 over the whole
sequence, then layer 2 on the events layer 1 produced, and so on, computes exactly what the step-
interleaved numpy loop computes. Events travel between layers in CSR form per step: the events of
step t are ``idx[bounds[t]:bounds[t+1]]`` with values ``val[...]``.

Per step (docs/semantics.md §1–§4):

1. input events: ``S_in += W_in[:, j]·v_j`` (after ``S_in = bias`` for dense/spikes input);
2. gate: schedule/oscillator/always trains are given as CSR index lists, the threshold gate compares
   ``S_self + S_in[GH:] > 0``, the global gate tests ``ũ > 0.5``;
3. candidates for the fired neurons only, from rows ``i, H + i, …`` of the accumulators; closed
   neurons are not touched (exact copy);
4. own delta events ``Δ_i``: ``S_h += W_hh[:, i]·Δ_i`` (acts from step t + 1), plus the gate's own
   accumulators; counts of events, synaptic ops and neuron updates of the step.

Weights are stored transposed (``w_t = W.T``, C order), so the column of one event is one
contiguous row: the cost of an event is one streamed row of ``G·H`` floats. Sums are accumulated
event by event in event order; they differ from the numpy path (BLAS products) only by rounding.
Arithmetic stays in the array dtype (float32 arrays are computed in float32, as numpy does).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: cell codes of :func:`layer_sample`
CELL_CODES = {"gru": 0, "rnn": 1, "lstm": 2}
#: gate codes: 0 = precomputed train (oscillator, schedule, always), 1 = threshold, 2 = global
GATE_TRAIN, GATE_THRESHOLD, GATE_GLOBAL = 0, 1, 2
#: readout codes
READOUT_CODES = {"last": 0, "mean": 1, "all": 2}


@njit(cache=True, nogil=True)
def _sigmoid(x, half):
    """σ(x) = ½(1 + tanh(x/2)) in the order of ``surnn_neuro.ir.cells.sigmoid``: ``tanh(x·½)·½ + ½``."""
    return np.tanh(x * half) * half + half


@njit(cache=True, nogil=True, inline="always")
def candidate(cell, s_in, s_h, c, i, n_h, h_old, half, one):
    """The candidate ``f`` of neuron ``i`` from rows ``i, H + i, …`` of its sigmas (the numba form of
    :data:`surnn_neuro.ir.cells.CELLS`, in the same operation order); an LSTM writes ``c[i]``.
    Shared by the per-sample and the batched kernels."""
    if cell == 0:  # gru, reset-after: r, z, n
        r = _sigmoid(s_in[i] + s_h[i], half)
        z = _sigmoid(s_in[n_h + i] + s_h[n_h + i], half)
        nn = np.tanh(s_in[2 * n_h + i] + r * s_h[2 * n_h + i])
        return (one - z) * nn + z * h_old
    if cell == 1:  # rnn
        return np.tanh(s_in[i] + s_h[i])
    # lstm: i, f, g, o
    ig = _sigmoid(s_in[i] + s_h[i], half)
    fg = _sigmoid(s_in[n_h + i] + s_h[n_h + i], half)
    og = _sigmoid(s_in[3 * n_h + i] + s_h[3 * n_h + i], half)
    c_new = fg * c[i] + ig * np.tanh(s_in[2 * n_h + i] + s_h[2 * n_h + i])
    c[i] = c_new
    return og * np.tanh(c_new)


@njit(cache=True, nogil=True)
def accumulate(s, w_t, idx, val, lo, hi):
    """``s += Σ_{e ∈ [lo, hi)} w_t[idx[e]]·val[e]``, event after event (rows of ``w_t`` = columns of W).

    Four events share one pass over ``s``; inside it the additions stay in event order
    (``((s + a) + b) + …``), so the result is bit-identical to adding one event at a time.
    """
    n = s.shape[0]
    e = lo
    while e + 4 <= hi:
        r0 = w_t[idx[e]]
        r1 = w_t[idx[e + 1]]
        r2 = w_t[idx[e + 2]]
        r3 = w_t[idx[e + 3]]
        v0 = val[e]
        v1 = val[e + 1]
        v2 = val[e + 2]
        v3 = val[e + 3]
        for r in range(n):
            s[r] = (((s[r] + r0[r] * v0) + r1[r] * v1) + r2[r] * v2) + r3[r] * v3
        e += 4
    while e < hi:
        r0 = w_t[idx[e]]
        v0 = val[e]
        for r in range(n):
            s[r] = s[r] + r0[r] * v0
        e += 1


@njit(cache=True, nogil=True)
def layer_sample(n_t, in_bounds, in_idx, in_val, rebuild, w_in_t, in_bias, fan_in, count_in,
                 w_hh_t, b_hh, fan_rec, cell, gate, train_bounds, train_idx, w_self, w_glob, g_bias,
                 init_prob, h, c, s_in, s_h, s_self, fired, out_bounds, out_idx, out_val, spikes, states,
                 record, ev_row, syn_row, upd_row):
    """One selective-update layer over the ``n_t`` steps of one sample (module doc).

    Inputs: ``in_bounds (T+1,)``, ``in_idx``, ``in_val``: the input events (CSR by step);
    ``rebuild``: ``S_in = in_bias + this step's events`` (input-node ``dense``/``spikes``) instead of
    accumulating; ``w_in_t (n_in, NI)`` (NI = G·H, + H for a threshold gate), ``in_bias (NI,)``;
    ``fan_in``: fan-outs of the input columns, added to ``syn_row`` when ``count_in`` (layers > 1:
    the previous layer's delta events land here); ``w_hh_t (H, G·H)``, ``b_hh``, ``fan_rec (H,)``;
    ``cell`` and ``gate``: codes (:data:`CELL_CODES`, ``GATE_*``); ``train_bounds``, ``train_idx``:
    the precomputed gate train (CSR); ``w_self (H,)`` threshold; ``w_glob (H,)``, ``g_bias``,
    ``init_prob``: global gate. Work buffers (overwritten): ``h, c (H,)``, ``s_in (NI,)``,
    ``s_h (G·H,)``, ``s_self (H,)``, ``fired (H,)`` int64.

    Outputs: ``out_bounds (T+1,)``, ``out_idx``, ``out_val`` (capacity T·H): the delta events;
    ``spikes (T, H)`` bool (set where fired, must be False on entry); ``states (T, H)`` (h after
    each step, if ``record``); ``ev_row``, ``syn_row``, ``upd_row (T,)`` int64: counts, added to.
    """
    H = h.shape[0]
    GH = s_h.shape[0]
    half = s_h.dtype.type(0.5)
    one = s_h.dtype.type(1.0)
    zero = s_h.dtype.type(0.0)

    # state at t = −1: h = c = 0, sigmas = biases (W·0 = 0)
    for i in range(H):
        h[i] = zero
        c[i] = zero
        s_self[i] = zero
    for r in range(s_in.shape[0]):
        s_in[r] = in_bias[r]
    for r in range(GH):
        s_h[r] = b_hh[r]
    s_glob = zero
    du = _sigmoid(s_glob + g_bias, half)  # Δũ before any update: σ(w·h_{-1} + b)
    u_tilde = init_prob  # float64, as in the numpy path
    in_dirty = False  # rebuild: S_in differs from in_bias

    n_out = np.int64(0)
    out_bounds[0] = 0
    for t in range(n_t):
        # 1. input events of step t
        lo = in_bounds[t]
        hi = in_bounds[t + 1]
        if rebuild and in_dirty:
            for r in range(s_in.shape[0]):
                s_in[r] = in_bias[r]
            in_dirty = False
        if hi > lo:
            if count_in:
                k = 0
                for e in range(lo, hi):
                    k += fan_in[in_idx[e]]
                syn_row[t] += k
            accumulate(s_in, w_in_t, in_idx, in_val, lo, hi)
            in_dirty = True

        # 2. gate: the neurons that fire at step t -> fired[:n]
        n = 0
        if gate == 0:
            a = train_bounds[t]
            n = train_bounds[t + 1] - a
            for k in range(n):
                fired[k] = train_idx[a + k]
        elif gate == 1:
            for i in range(H):
                if s_self[i] + s_in[GH + i] > zero:
                    fired[n] = i
                    n += 1
        else:
            if u_tilde > 0.5:
                n = H
                for i in range(H):
                    fired[i] = i
            else:
                u_tilde += min(float(du), 1.0 - u_tilde)

        # 3. candidates of the fired neurons; their delta events
        start = n_out
        for k in range(n):
            i = fired[k]
            h_old = h[i]
            f = candidate(cell, s_in, s_h, c, i, H, h_old, half, one)
            h[i] = f
            out_idx[n_out] = i
            out_val[n_out] = f - h_old
            spikes[t, i] = True
            n_out += 1
        out_bounds[t + 1] = n_out

        # 4. own delta events: recurrent sigma (acts from t + 1), gate accumulators, counts
        if n > 0:
            accumulate(s_h, w_hh_t, out_idx, out_val, start, n_out)
            k = 0
            for e in range(start, n_out):
                k += fan_rec[out_idx[e]]
            syn_row[t] += k
            ev_row[t] += n
            upd_row[t] += n
            if gate == 1:
                for e in range(start, n_out):
                    i = out_idx[e]
                    s_self[i] += w_self[i] * out_val[e]
            elif gate == 2:
                acc = zero
                for e in range(start, n_out):
                    acc += out_val[e] * w_glob[out_idx[e]]
                s_glob += acc
                du = _sigmoid(s_glob + g_bias, half)
                u_tilde = float(du)
        if record:
            for i in range(H):
                states[t, i] = h[i]
    return n_out


@njit(cache=True, nogil=True)
def readout_sample(n_t, bounds, idx, val, w_o_t, b_o, fan_o, mode, s_o, y_sum, out_all, syn_row):
    """The readout over one sample: ``S_o += W_o[:, i]·Δ_i`` per delta event of the last layer.

    ``mode`` 0 = last (``s_o`` ends as ``y_{T−1}``), 1 = mean (``y_sum`` = Σ_t y_t, divide by T
    outside), 2 = all (``out_all[t] = y_t``, float64 ``(T, O)``). ``syn_row`` gets the fan-outs.
    """
    for r in range(s_o.shape[0]):
        s_o[r] = b_o[r]
        y_sum[r] = 0.0
    for t in range(n_t):
        lo = bounds[t]
        hi = bounds[t + 1]
        if hi > lo:
            k = 0
            for e in range(lo, hi):
                k += fan_o[idx[e]]
            syn_row[t] += k
            accumulate(s_o, w_o_t, idx, val, lo, hi)
        if mode == 2:
            for r in range(s_o.shape[0]):
                out_all[t, r] = s_o[r]
        elif mode == 1:
            for r in range(s_o.shape[0]):
                y_sum[r] += s_o[r]
