"""The numba engine of the reference simulator over a batch: shared gates batched, others threaded.

- **Shared gates** (every layer's gate input-independent: oscillator, schedule, always):
  :func:`run_batched` runs all samples step-synchronously with
  :mod:`surnn_neuro.simulators._batched_kernels`, in time chunks (so that the delta events of one
  chunk of every layer fit in a bounded buffer), layer after layer within a chunk (layers are
  feed-forward: the argument of :mod:`surnn_neuro.simulators._kernels`). The k_t rows of ``W.T``
  a step needs are read once per group of samples instead of once per sample; the batch is split
  into one group per thread (numba's thread count), the threads meet only at the end.
- **Per-sample gates** (threshold, global, or any mix with them), and batches too small to make
  groups of two samples per thread: :func:`run_threaded` spreads the samples over threads, each
  running the per-sample kernels (which release the GIL) on its own buffers and its own count
  arrays, summed at the end.

Both give the per-sample engine's events, gate spikes and counts exactly, and its outputs and states
bit for bit (same sums in the same order). Counts of the batched path are computed here from the
gate trains (they depend on k_t, the fan-outs and B only).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from surnn_neuro.simulators._sigma import split_by_step

#: Values of one chunk's delta-event buffer (B × events of the chunk), per layer: 32 MB in float64.
CHUNK_VALUES = 1 << 22


def shared_graph(layers) -> bool:
    """Whether every layer's gate is input-independent (its numpy step keeps a precomputed train)."""
    return all(hasattr(ly.gate_step, "bounds") and hasattr(ly.gate_step, "idx") for ly in layers)


def batch_input_events(x: np.ndarray, encoding: str, first_fan: np.ndarray, counts: dict):
    """Input-node events of all samples, ``x: (B, T, V)`` in the engine dtype, as one CSR over
    ``b·T + t`` ``(idx, val, bounds)``, and their counts (those of ``reference._input_events``
    summed over the samples)."""
    n_b, n_t, n_v = x.shape
    if encoding == "delta":
        x = np.diff(x, axis=1, prepend=0.0)  # d_t = x_t − x_{t−1}, x_{−1} = 0, per sample
    flat = x.reshape(n_b * n_t, n_v)
    ev_bt, ev_idx, ev_bounds = split_by_step(flat != 0)
    ev_val = flat[ev_bt, ev_idx]
    ev_t = ev_bt % n_t
    ev_fan = first_fan[ev_idx]
    ev_ac = (ev_val == 1) | (ev_val == -1) | (ev_val == 0)
    np.add.at(counts["events"][0], ev_t, 1)
    np.add.at(counts["synaptic_ops"][1], ev_t, ev_fan)
    np.add.at(counts["ac_ops"][1], ev_t[ev_ac], ev_fan[ev_ac])
    return ev_idx.astype(np.int64), ev_val, ev_bounds.astype(np.int64)


def _per_step_sum(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``Σ values[bounds[t]:bounds[t+1]]`` for every t (int64)."""
    cs = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
    return cs[bounds[1:]] - cs[bounds[:-1]]


def _chunks(trains, n_b: int, n_t: int):
    """Time chunks ``[t0, t1)`` whose delta events fit ``CHUNK_VALUES`` per layer (≥ 1 step)."""
    per_step = np.max([np.diff(b) for b, _ in trains], axis=0) * n_b  # (T,)
    out, t0, acc = [], 0, 0
    for t in range(n_t):
        if acc and acc + per_step[t] > CHUNK_VALUES:
            out.append((t0, t))
            t0, acc = t, 0
        acc += per_step[t]
    out.append((t0, n_t))
    return out


def run_batched(K, n_threads, x, encoding, layers, ro, ro_sigma, b_o, counts, spikes, states, outputs, dtype):
    """All samples of ``x: (B, T, V)`` on a graph of shared gates (module doc), in up to
    ``n_threads`` groups of samples run by threads; fills ``counts``, ``spikes``, ``states`` (or
    None) and ``outputs`` in place."""
    n_b, n_t, _ = x.shape
    in_idx, in_val, in_bounds = batch_input_events(x, encoding, layers[0].fan_in, counts)
    trains = []
    for row, ly in enumerate(layers, start=1):
        bounds = np.asarray(ly.gate_step.bounds, dtype=np.int64)
        idx = ly.gate_step.idx.astype(np.int64)
        trains.append((bounds, idx))
        k_t = np.diff(bounds)
        counts["events"][row] += n_b * k_t
        counts["neuron_updates"][row] += n_b * k_t
        counts["synaptic_ops"][row] += n_b * _per_step_sum(ly.fan_rec[idx], bounds)
        if row > 1:  # the previous layer's events land in this layer's input synapses
            p_bounds, p_idx = trains[-2]
            counts["synaptic_ops"][row] += n_b * _per_step_sum(ly.fan_in[p_idx], p_bounds)
        train = np.zeros((n_t, ly.H), dtype=bool)
        train[np.repeat(np.arange(n_t), k_t), idx] = True
        spikes[ly.name][:] = train[None]
    last_bounds, last_idx = trains[-1]
    counts["synaptic_ops"][-1] += n_b * _per_step_sum(ro_sigma.fanout[last_idx], last_bounds)

    n_groups = max(1, min(n_threads, n_b))
    edges = np.linspace(0, n_b, n_groups + 1).round().astype(int)
    groups = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]

    def run_group(g0, g1):
        _run_group(K, x, layers, ro, ro_sigma, b_o, states, outputs, dtype, trains, in_idx, in_val,
                   in_bounds, n_t, g0, g1)

    if len(groups) == 1:
        run_group(*groups[0])
    else:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            list(pool.map(lambda g: run_group(*g), groups))


def _run_group(K, x, layers, ro, ro_sigma, b_o, states, outputs, dtype, trains, in_idx, in_val, in_bounds,
               n_t, g0, g1):
    """Samples ``[g0, g1)`` (one thread): their own state and buffers, their slices of the outputs."""
    n_b = g1 - g0
    # the input-node CSR is over b·T + t for all samples: this group's slice, re-based at 0
    lo, hi = in_bounds[g0 * n_t], in_bounds[g1 * n_t]
    b_in0 = in_bounds[g0 * n_t: g1 * n_t + 1] - lo
    i_in0, v_in0 = in_idx[lo:hi], in_val[lo:hi]
    state = []
    for ly in layers:
        state.append(dict(h=np.zeros((n_b, ly.H), dtype=dtype), c=np.zeros((n_b, ly.H), dtype=dtype),
                          s_in=np.tile(ly.in_bias, (n_b, 1)), s_h=np.tile(ly.b_hh, (n_b, 1)),
                          dirty=np.zeros(n_b, dtype=np.bool_)))
    n_o = ro_sigma.w_t.shape[1]
    s_o = np.tile(b_o, (n_b, 1))
    y_sum = np.zeros((n_b, n_o), dtype=dtype)
    mode = K.READOUT_CODES[ro.mode]
    out_all = outputs[g0:g1] if ro.mode == "all" else np.zeros((1, 1, 1))
    no_val1 = np.zeros(0, dtype=dtype)
    no_val2 = np.zeros((n_b, 0), dtype=dtype)
    no_states = np.zeros((1, 1, 1), dtype=dtype)
    for t0, t1 in _chunks(trains, n_b, n_t):
        shared, b_in, i_in, v1, v2 = False, b_in0, i_in0, v_in0, no_val2
        for ly, st, (bounds, idx) in zip(layers, state, trains):
            cap = int(bounds[t1] - bounds[t0])
            out_bounds = np.zeros(t1 - t0 + 1, dtype=np.int64)
            out_idx = np.zeros(cap, dtype=np.int64)
            out_val = np.zeros((n_b, cap), dtype=dtype)
            rec = states[ly.name][g0:g1] if states is not None else no_states
            K.layer_batch(t0, t1, n_t, shared, b_in, i_in, v1, v2, ly.rebuild_input, ly.in_sigma.w_t,
                          ly.in_bias, ly.rec_sigma.w_t, ly.b_hh, K.CELL_CODES[ly.cell_kind], bounds, idx,
                          st["h"], st["c"], st["s_in"], st["s_h"], st["dirty"], out_bounds, out_idx, out_val,
                          rec, states is not None)
            shared, b_in, i_in, v1, v2 = True, out_bounds, out_idx, no_val1, out_val
        K.readout_batch(t0, t1, b_in, i_in, v2, ro_sigma.w_t, mode, s_o, y_sum, out_all)
    if ro.mode == "last":
        outputs[g0:g1] = s_o
    elif ro.mode == "mean":
        outputs[g0:g1] = y_sum / n_t


def run_threaded(n_threads, x, encoding, layers, ro, ro_sigma, b_o, counts, spikes, states, outputs,
                 dtype, input_events, make_work, sample):
    """The per-sample kernels with the samples spread over ``n_threads`` threads (module doc):
    ``input_events(xb, encoding, fan, counts)`` and ``sample(...)`` are the reference's own per-sample
    steps, ``make_work()`` makes one set of buffers; each thread has its own buffers and counts."""
    n_b = x.shape[0]
    n_threads = max(1, min(n_threads, n_b))
    from surnn_neuro.simulators import _kernels as K

    def worker(w):
        own = {name: np.zeros_like(a) for name, a in counts.items()}
        work = make_work()
        for b in range(w, n_b, n_threads):
            ev = input_events(x[b], encoding, layers[0].fan_in, own)
            sample(K, work, b, ev, layers, ro, ro_sigma, b_o, own, states, outputs)
        return own

    if n_threads == 1:
        parts = [worker(0)]
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            parts = list(pool.map(worker, range(n_threads)))
    for own in parts:
        for name, a in own.items():
            counts[name] += a
