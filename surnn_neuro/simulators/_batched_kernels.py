"""Numba kernels of the reference simulator's batched path: gates shared by the batch.

When a layer's gate is input-independent (oscillator, schedule, always) the neurons that fire at
step t are the same for every sample, so the delta events of all B samples at step t sit on the
same k_t neurons and need the same k_t rows of ``W.T``. :func:`layer_batch` runs one layer over the
steps ``[t0, t1)`` for all samples at once, step-synchronously:

1. per sample: the input events into ``S_in`` (the sample's own input-node events; layers after
   the first receive the previous layer's events, shared by the batch, as in 2.), the candidates
   of the k_t fired neurons, their delta events ``Δ[b, j]``;
2. the recurrent sigma of every sample, ``S_h[b] += Σ_j W_hh.T[A_j] Δ[b, j]``, by column tiles
   (:func:`add_shared`): four event rows of a tile are read from memory once and stay in L1 while
   they are added into the B samples, so the weight traffic of a step is that of one sample (the
   per-sample engine streams the k_t rows once per sample).

The kernels are serial and release the GIL: the driver runs groups of samples in threads, which
meet only at the end of a chunk. (Threads inside a step, e.g. over column tiles, would meet 2–3
times per step; on a shared machine one descheduled thread then stalls every step.)

Every sum is accumulated event after event in event order, exactly as the per-sample kernel
(:func:`surnn_neuro.simulators._kernels.accumulate`) does, and the candidates use the same
expressions: outputs and states are bit-identical to the per-sample engine (a test checks it).
Counts are the driver's (they depend on k_t only). Arithmetic stays in the array dtype.
"""

from __future__ import annotations

from numba import njit

from surnn_neuro.simulators._kernels import accumulate, candidate

#: target columns of one tile of a batched accumulation: 4 event rows of it stay in L1 (float64:
#: 4 × 6 KB) while the B samples' sigma tiles pass; the column range is cut into equal tiles
TILE = 768


@njit(cache=True, nogil=True)
def _ax4(s, a0, a1, a2, a3, v0, v1, v2, v3):
    """``s += a0 v0 + a1 v1 + a2 v2 + a3 v3``, added in that order (as ``_kernels.accumulate``).
    The arrays arrive as arguments (numba marks those non-aliasing) and are looped over their
    whole length: both are what lets LLVM vectorise the loop."""
    for r in range(s.shape[0]):
        s[r] = (((s[r] + a0[r] * v0) + a1[r] * v1) + a2[r] * v2) + a3[r] * v3


@njit(cache=True, nogil=True)
def _ax1(s, a0, v0):
    for r in range(s.shape[0]):
        s[r] = s[r] + a0[r] * v0


@njit(cache=True, nogil=True)
def add_shared(s, w_t, idx, val, lo, hi):
    """``s[b] += Σ_{e ∈ [lo, hi)} w_t[idx[e]]·val[b, e]`` for every sample b, ``s (B, N)``: the
    events of one step, shared by the batch, in event order, tile by tile of columns: four event
    rows of a tile are read once for all samples."""
    n_b, n = s.shape
    n_tiles = max(1, (n + TILE - 1) // TILE)
    tile = (n + n_tiles - 1) // n_tiles
    for q in range(n_tiles):
        r0 = q * tile
        r1 = min(n, r0 + tile)
        e = lo
        while e + 4 <= hi:
            a0 = w_t[idx[e], r0:r1]
            a1 = w_t[idx[e + 1], r0:r1]
            a2 = w_t[idx[e + 2], r0:r1]
            a3 = w_t[idx[e + 3], r0:r1]
            for b in range(n_b):
                _ax4(s[b, r0:r1], a0, a1, a2, a3, val[b, e], val[b, e + 1], val[b, e + 2], val[b, e + 3])
            e += 4
        while e < hi:
            a0 = w_t[idx[e], r0:r1]
            for b in range(n_b):
                _ax1(s[b, r0:r1], a0, val[b, e])
            e += 1


@njit(cache=True, nogil=True)
def layer_batch(t0, t1, n_t, shared_in, in_bounds, in_idx, in_val1, in_val2, rebuild, w_in_t, in_bias,
                w_hh_t, b_hh, cell, train_bounds, train_idx, h, c, s_in, s_h, dirty,
                out_bounds, out_idx, out_val, states, record):
    """One selective-update layer with a shared gate over steps ``[t0, t1)``, all samples.

    Input events: ``shared_in`` False: each sample's own, CSR over ``b·n_t + t`` (``in_bounds
    (B·n_t + 1,)``, ``in_idx``, values ``in_val1``); True: the previous layer's events of this
    chunk, ``in_bounds (t1 − t0 + 1,)`` over chunk steps, ``in_idx`` shared, values ``in_val2
    (B, cap)`` (two arguments because numba types both branches).
    ``rebuild``: ``S_in = in_bias + this step's events`` (input-node dense/spikes), with ``dirty
    (B,)`` per sample. The gate train: CSR ``train_bounds (n_t + 1,)``, ``train_idx``. State (kept
    across calls): ``h, c (B, H)``, ``s_in (B, NI)``, ``s_h (B, G·H)``. Outputs: the delta events
    of the chunk, ``out_bounds (t1 − t0 + 1,)``, ``out_idx`` (shared), ``out_val (B, cap)``;
    ``states (B, n_t, H)`` if ``record``.
    """
    n_b, n_h = h.shape
    dt = s_h.dtype.type
    half, one = dt(0.5), dt(1.0)
    n_out = 0
    out_bounds[0] = 0
    for t in range(t0, t1):
        a = train_bounds[t]
        k = train_bounds[t + 1] - a
        for j in range(k):
            out_idx[n_out + j] = train_idx[a + j]
        # 1. input events of step t
        if shared_in:
            lo = in_bounds[t - t0]
            hi = in_bounds[t - t0 + 1]
            if hi > lo:
                add_shared(s_in, w_in_t, in_idx, in_val2, lo, hi)
        for b in range(n_b):
            si = s_in[b]
            if not shared_in:
                if rebuild and dirty[b]:
                    for r in range(si.shape[0]):
                        si[r] = in_bias[r]
                    dirty[b] = False
                lo = in_bounds[b * n_t + t]
                hi = in_bounds[b * n_t + t + 1]
                if hi > lo:
                    accumulate(si, w_in_t, in_idx, in_val1, lo, hi)
                    dirty[b] = True
            # 2. candidates of the fired neurons (as layer_sample), their delta events
            hb, cb, sh, ov = h[b], c[b], s_h[b], out_val[b]
            for j in range(k):
                i = train_idx[a + j]
                h_old = hb[i]
                f = candidate(cell, si, sh, cb, i, n_h, h_old, half, one)
                hb[i] = f
                ov[n_out + j] = f - h_old
            if record:
                for i in range(n_h):
                    states[b, t, i] = hb[i]
        # 3. own delta events into the recurrent sigma (acts from t + 1)
        if k > 0:
            add_shared(s_h, w_hh_t, out_idx, out_val, n_out, n_out + k)
        n_out += k
        out_bounds[t - t0 + 1] = n_out
    return n_out


@njit(cache=True, nogil=True)
def readout_batch(t0, t1, bounds, idx, val, w_o_t, mode, s_o, y_sum, out_all):
    """The readout over steps ``[t0, t1)`` for all samples: ``S_o[b] += W_o[:, i]·Δ[b, i]`` per
    shared delta event of the last layer (CSR over chunk steps, ``val (B, cap)``), in event order.
    ``mode`` 0 last, 1 mean (``y_sum[b] += y_t``), 2 all (``out_all[b, t] = y_t``, float64).
    ``s_o``, ``y_sum`` (B, O) start at the bias and 0 (the caller's)."""
    n_b, n_o = s_o.shape
    for b in range(n_b):
        so = s_o[b]
        vb = val[b]
        for t in range(t0, t1):
            lo = bounds[t - t0]
            hi = bounds[t - t0 + 1]
            if hi > lo:
                accumulate(so, w_o_t, idx, vb, lo, hi)
            if mode == 2:
                for r in range(n_o):
                    out_all[b, t, r] = so[r]
            elif mode == 1:
                for r in range(n_o):
                    y_sum[b, r] += so[r]
