"""Event-driven reference simulator (docs/semantics.md §3): work grows with events, not with T × H.

Per layer and sample it keeps sigma accumulators, bias folded in,

    S_in = [W_ih; W_in] x_t + [b_ih; bias_gate]     (G·H [+ H],)   input drive (+ threshold gate)
    S_h  = W_hh h_{t-1} + b_hh                       (G·H,)         recurrent drive
    S_self = w_self ⊙ h_{t-1}  (threshold gate)      S_glob = w_global · h  (global gate)

and changes them only when an event arrives: ``S += W[:, idx] @ values[idx]`` (with W stored
transposed, the column gather is a contiguous row gather). Input-node events (``dense``/``spikes``:
the non-zero entries of ``x_t``) rebuild ``S_in`` each step; ``delta`` input events and the delta
events of the previous layer (same step) accumulate into it. A layer's own delta events
``Δ_i = h_{t,i} − h_{t−1,i}`` of step t accumulate into ``S_h`` after the candidate of step t, so they
act from step t + 1. The candidate is computed only for the neurons whose gate fired, from rows
``i, H + i, …, (G−1)·H + i`` of the accumulators; closed neurons are never written (bit-exact copy).

Gates: oscillator, schedule and always trains are input-independent and precomputed once per call
(``(T, H)``, shared over the batch); threshold fires where ``S_self + S_in[GH:] > 0`` (strict);
global keeps ``ũ``, ``Δũ`` per sample and fires all H neurons when ``ũ > 0.5``.

It counts events and operations inline, by its own means (fan-outs of its own transposed matrices),
independently of :mod:`surnn_neuro.ir.counting`; a test checks the two agree.

Cost per step and sample: O(input events · (G+1)·H + delta events · (G·H + O) + updated neurons ·
cell cost), plus O(G·H) to rebuild the input sigma of ``dense``/``spikes`` input and O(H) for a
threshold gate's comparison; nothing else scales with H. Batch samples run one after the other (the
benchmark case is batch 1). Implementation choices that change no count (sums only by rounding): the
transposed weights are cached per graph, and (numpy engine) when more than ``DENSE_CROSSOVER`` of a
matrix' columns carry events in one step, one product with the scattered event vector replaces the
gather.

Two engines run selective-update graphs, with the same events, gate spikes and counts (values
equal up to the rounding of the sums):

- ``numba`` (default when numba imports): :mod:`surnn_neuro.simulators._kernels` runs each layer
  over all T steps of a sample in one compiled call (layers are feed-forward, so layer 1 over the
  sequence, then layer 2 on its events, … computes what the step-interleaved loop computes); an event
  costs one contiguous row of ``W.T``, there is no per-step Python overhead. Compiled once per
  machine and cached on disk (numba ``cache=True``).
- ``numpy``: the per-step loop below (``_Layer.step`` / ``_Sigma``). Used when numba is missing or
  fails to import, when the environment sets ``SURNN_NEURO_NO_NUMBA=1``, and when ``_Sigma.product``
  has been replaced (an instrumented run that observes the gathers, as a test does).

:func:`engine` tells which one the next call uses.

Spiking graphs (LIF / CubaLIF layers, docs/semantics.md §5) run in :func:`_run_spiking` (numpy, both
engines): per step each layer sums the weight columns of the spikes it receives and does one LIF step,
in the arithmetic and order of Lava's floating-point Dense and LIF (``surnn_neuro.simulators._cells.lif_step``).
"""

from __future__ import annotations

import os
import weakref

import numpy as np

from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import GlobalGate, ThresholdGate
from surnn_neuro.ir.trace import COUNT_FIELDS, Trace
from surnn_neuro.simulators._cells import cell_fn, lif_step, sigmoid, spike_sum, spiking_readout

#: When more than this fraction of a matrix' columns carries events, one dense product over the
#: scattered event vector is cheaper than gathering the columns (same sum up to rounding; zeros add 0).
DENSE_CROSSOVER = 0.4
#: Rows of the transposed matrix gathered at once (128 × 3072 float64 = 3 MB).
GATHER_CHUNK = 128

_EMPTY_IDX = np.zeros(0, dtype=np.intp)

#: Environment variable: a value other than "", "0" makes the reference use the numpy engine.
ENV_NO_NUMBA = "SURNN_NEURO_NO_NUMBA"
#: None: not tried yet; a module: the numba kernels; a str: why they are unavailable.
_KERNELS = None


def _kernel_module():
    """The numba kernel module, or None if numba is missing or fails to import (tried once)."""
    global _KERNELS
    if _KERNELS is None:
        try:
            from surnn_neuro.simulators import _kernels
        except Exception as e:  # noqa: BLE001 - any failure of numba means: use numpy
            _KERNELS = f"{type(e).__name__}: {e}"
        else:
            _KERNELS = _kernels
    return None if isinstance(_KERNELS, str) else _KERNELS


def engine() -> str:
    """``"numba"`` or ``"numpy"``: the engine the next :func:`run` of a selective-update graph uses
    (module doc). Spiking graphs always run on numpy."""
    if os.environ.get(ENV_NO_NUMBA, "").strip() not in ("", "0"):
        return "numpy"
    if _Sigma.product is not _SIGMA_PRODUCT:  # instrumented: observe the numpy gathers
        return "numpy"
    return "numba" if _kernel_module() is not None else "numpy"


def _split_by_step(mask: np.ndarray):
    """``mask: (T, N)`` -> ``(steps, idx, bounds)``: the events of step t are ``idx[bounds[t]:bounds[t+1]]``
    (``steps`` is the step of each event)."""
    tt, ii = np.nonzero(mask)
    bounds = np.searchsorted(tt, np.arange(mask.shape[0] + 1))
    return tt, ii.astype(np.intp), bounds


#: EventGraph -> {(matrix key, dtype): (W.T contiguous, read-only; fan-out of each column)}.
#: Graphs are immutable (frozen, read-only arrays), so the transposes are made once per graph and
#: dtype and live as long as the graph: repeated ``run`` calls (batches of a test set) skip the copy.
_TRANSPOSED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _transposed(graph: EventGraph, key: str, make_w, dtype):
    cache = _TRANSPOSED.setdefault(graph, {})
    k = (key, np.dtype(dtype).str)
    if k not in cache:
        w_t = np.ascontiguousarray(make_w().T, dtype=dtype)  # column j of W is row j of w_t
        w_t.flags.writeable = False
        cache[k] = (w_t, np.count_nonzero(w_t, axis=1).astype(np.int64))
    return cache[k]


class _Sigma:
    """``S += W[:, idx] @ v`` on a transposed weight matrix ``w_t = W.T`` with a reusable buffer.

    Columns are gathered in chunks of ``GATHER_CHUNK`` rows of ``w_t`` into a small buffer that stays
    in cache; ``np.take(..., mode="clip")`` because ``mode="raise"`` buffers ``out`` (about 3×
    slower). Above ``DENSE_CROSSOVER`` of the columns one product with the scattered event vector is
    faster than gathering (same sum; zero entries add exact zeros).
    """

    def __init__(self, graph: EventGraph, key: str, make_w, dtype):
        self.w_t, self.fanout = _transposed(graph, key, make_w, dtype)  # w_t: (n_cols, n_rows)
        self.n_cols = self.w_t.shape[0]
        self.crossover = max(1, int(DENSE_CROSSOVER * self.n_cols))
        self.buf = np.empty((min(GATHER_CHUNK, self.n_cols), self.w_t.shape[1]), dtype=dtype)
        self.scatter = np.zeros(self.n_cols, dtype=dtype)

    def product(self, idx: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``W[:, idx] @ v`` (a new array)."""
        n = idx.shape[0]
        if n > self.crossover:
            self.scatter[idx] = v
            out = self.scatter @ self.w_t
            self.scatter[idx] = 0.0
            return out
        if n <= GATHER_CHUNK:
            return v @ self.w_t.take(idx, axis=0, out=self.buf[:n], mode="clip")
        out = v[:GATHER_CHUNK] @ self.w_t.take(idx[:GATHER_CHUNK], axis=0, out=self.buf, mode="clip")
        for a in range(GATHER_CHUNK, n, GATHER_CHUNK):
            b = min(n, a + GATHER_CHUNK)
            out += v[a:b] @ self.w_t.take(idx[a:b], axis=0, out=self.buf[: b - a], mode="clip")
        return out

    def add(self, s: np.ndarray, idx: np.ndarray, v: np.ndarray) -> None:
        """``S += W[:, idx] @ v`` in place."""
        s += self.product(idx, v)

    def set(self, s: np.ndarray, base: np.ndarray, idx: np.ndarray, v: np.ndarray) -> None:
        """``S = base + W[:, idx] @ v`` in place (input sigma rebuilt from this step's events)."""
        if idx.shape[0] == 0:
            s[...] = base
        else:
            np.add(base, self.product(idx, v), out=s)


_SIGMA_PRODUCT = _Sigma.product


class _Layer:
    """Static data of one layer and its gate, plus the per-sample state (``reset``)."""

    def __init__(self, graph: EventGraph, layer, first: bool, n_steps: int, dtype):
        self.name = layer.name
        self.gate = gate = graph.gate_of(layer.name)
        self.G, self.H, self.V = layer.gates_per_cell, layer.hidden_size, layer.input_size
        self.GH = self.G * self.H
        self.cell = cell_fn(layer.cell)
        self.cell_kind = layer.cell
        self.lstm = layer.cell == "lstm"
        self.dtype = dtype
        self.rebuild_input = first and graph.input.encoding in ("dense", "spikes")

        self.threshold = isinstance(gate, ThresholdGate)
        self.global_gate = isinstance(gate, GlobalGate)
        if self.threshold:  # the gate neurons listen to the layer's input: one more block of rows
            self.in_sigma = _Sigma(graph, f"{layer.name}/in", lambda: np.concatenate([layer.w_ih, gate.w_in]), dtype)
            self.in_bias = np.concatenate([layer.b_ih, gate.bias]).astype(dtype)
            self.w_self = gate.w_self.astype(dtype)
        else:
            self.in_sigma = _Sigma(graph, f"{layer.name}/in", lambda: layer.w_ih, dtype)
            self.in_bias = layer.b_ih.astype(dtype)
        self.rec_sigma = _Sigma(graph, f"{layer.name}/rec", lambda: layer.w_hh, dtype)
        self.b_hh = layer.b_hh.astype(dtype)

        # fan-out of one own delta event: W_hh column + threshold self weight + global gate weight
        self.fan_in = self.in_sigma.fanout
        self.fan_rec = self.rec_sigma.fanout.copy()
        dense_gate = 0
        if self.threshold:
            self.fan_rec += (gate.w_self != 0).astype(np.int64)
            dense_gate = self.H * self.V + self.H
        if self.global_gate:
            self.w_glob = gate.weight.astype(dtype)
            self.g_bias = np.asarray(gate.bias, dtype=dtype)
            self.fan_rec += (gate.weight != 0).astype(np.int64)
            dense_gate = self.H
        self.dense_macs = self.G * self.H * (self.V + self.H) + dense_gate

        if type(gate).input_independent:
            _, self.train_idx, bounds = _split_by_step(gate.spike_train(n_steps))
            self.train_bounds = bounds.tolist()
        elif not (self.threshold or self.global_gate):
            raise ValueError(f"reference simulator: no rule for gate kind {type(gate).kind!r}; "
                             "known: oscillator, schedule, always, threshold, global")
        self.all_idx = np.arange(self.H, dtype=np.intp)

    def reset(self):
        """Per-sample state at t = −1: h = c = 0, sigmas = biases (W·0 = 0)."""
        d = self.dtype
        self.h = np.zeros(self.H, dtype=d)
        self.c = np.zeros(self.H, dtype=d)
        self.s_in = self.in_bias.copy()
        self.s_h = self.b_hh.copy()
        # (G, H) views: row k of block g is s[g·H + k]
        self.s_in_blocks = self.s_in[: self.GH].reshape(self.G, self.H)
        self.s_h_blocks = self.s_h.reshape(self.G, self.H)
        if self.threshold:
            self.s_gate = self.s_in[self.GH:]
            self.s_self = np.zeros(self.H, dtype=d)
        if self.global_gate:
            self.s_glob = np.zeros((), dtype=d)
            self.du = sigmoid(self.s_glob + self.g_bias)  # Δũ before any update: σ(w·h_{-1} + b)
            self.u_tilde = float(self.gate.init_prob)

    def step(self, t: int, in_idx: np.ndarray, in_val: np.ndarray):
        """Apply this step's input events, fire the gate, update; return own delta events (idx, Δ)."""
        if self.rebuild_input:
            self.in_sigma.set(self.s_in, self.in_bias, in_idx, in_val)
        elif in_idx.shape[0]:
            self.in_sigma.add(self.s_in, in_idx, in_val)

        if self.threshold:
            idx = np.flatnonzero((self.s_self + self.s_gate) > 0)
        elif self.global_gate:
            if self.u_tilde > 0.5:
                idx = self.all_idx
            else:
                self.u_tilde += min(float(self.du), 1.0 - self.u_tilde)
                return _EMPTY_IDX, None
        else:
            idx = self.train_idx[self.train_bounds[t]: self.train_bounds[t + 1]]
        if idx.shape[0] == 0:
            return _EMPTY_IDX, None

        h_old = self.h[idx]
        gi = self.s_in_blocks[:, idx]
        gh = self.s_h_blocks[:, idx]
        if self.lstm:
            f, c_new = self.cell(gi, gh, h_old, self.c[idx])
            self.c[idx] = c_new
        else:
            f, _ = self.cell(gi, gh, h_old, None)
        self.h[idx] = f
        delta = f - h_old

        self.rec_sigma.add(self.s_h, idx, delta)  # acts from step t + 1
        if self.threshold:
            self.s_self[idx] += self.w_self[idx] * delta
        if self.global_gate:
            self.s_glob += delta @ self.w_glob[idx]
            self.du = sigmoid(self.s_glob + self.g_bias)
            self.u_tilde = float(self.du)
        return idx, delta


def run(graph: EventGraph, x: np.ndarray, dtype=np.float64) -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)`` event by event; Trace with backend ``"reference"``.

    Outputs ``(B, O)`` (readout ``last``/``mean``) or ``(B, T, O)`` (``all``), float64; counts
    ``(N, T)`` summed over the batch (docs/semantics.md §4).
    """
    return run_with_states(graph, x, dtype, record_states=False)[0]


def run_with_states(graph: EventGraph, x: np.ndarray, dtype=np.float64, record_states: bool = True):
    """Like :func:`run`, also returning ``{layer name: h (B, T, H)}`` (h_t after step t), or None.

    Spiking graphs (docs/semantics.md §5): the states are the membrane potentials ``v_t`` after the
    reset of step t, and ``gate_spikes`` holds each layer's output spikes.
    """
    if graph.spiking:
        return _run_spiking(graph, x, dtype, record_states)
    x = graph.check_input(x)
    n_b, n_t, _ = x.shape
    dtype = np.dtype(dtype).type
    layers = [_Layer(graph, layer, k == 0, n_t, dtype) for k, layer in enumerate(graph.layers)]
    ro = graph.readout
    ro_sigma = _Sigma(graph, f"{ro.name}/readout", lambda: ro.weight, dtype)
    b_o = ro.bias.astype(dtype)

    n_rows = len(graph.node_names)
    counts = {name: np.zeros((n_rows, n_t), dtype=np.int64) for name in COUNT_FIELDS}
    spikes = {ly.name: np.zeros((n_b, n_t, ly.H), dtype=bool) for ly in layers}
    for ly in layers:
        ly.spikes = spikes[ly.name]
    states = {ly.name: np.zeros((n_b, n_t, ly.H), dtype=dtype) for ly in layers} if record_states else None
    if ro.mode == "all":
        outputs = np.zeros((n_b, n_t, ro.output_size))
    else:
        outputs = np.zeros((n_b, ro.output_size))

    kernels = _kernel_module() if engine() == "numba" else None
    sample = _sample_kernels if kernels is not None else _sample_numpy
    work = _KernelWork(layers, ro_sigma, n_t, dtype) if kernels is not None else None
    for b in range(n_b):
        ev = _input_events(x[b].astype(dtype), graph.input.encoding, layers[0].fan_in, counts)
        sample(kernels, work, b, ev, layers, ro, ro_sigma, b_o, counts, states, outputs)

    _fill_dense_macs(counts, layers, ro, n_b)

    trace = Trace(
        backend="reference",
        node_names=graph.node_names,
        layer_names=graph.layer_names,
        outputs=outputs,
        gate_spikes=spikes,
        n_samples=n_b,
        metadata={"dtype": np.dtype(dtype).name},
        **counts,
    )
    return trace, states


def _input_events(xb: np.ndarray, encoding: str, first_fan: np.ndarray, counts: dict):
    """Input-node events of one sample ``xb: (T, V)`` (docs/semantics.md §3) as ``(idx, val, bounds)``
    (the events of step t are ``idx[bounds[t]:bounds[t+1]]``), and their counts: events of the input
    node, synaptic and AC ops they trigger in layer 1 (a vectorised pass per sample)."""
    if encoding == "delta":
        xb = np.diff(xb, axis=0, prepend=0.0)  # d_t = x_t − x_{t−1}, x_{−1} = 0
    ev_t, ev_idx, ev_bounds = _split_by_step(xb != 0)
    ev_val = xb[ev_t, ev_idx]
    ev_fan = first_fan[ev_idx]
    ev_ac = (ev_val == 1) | (ev_val == -1) | (ev_val == 0)
    np.add.at(counts["events"][0], ev_t, 1)
    np.add.at(counts["synaptic_ops"][1], ev_t, ev_fan)
    np.add.at(counts["ac_ops"][1], ev_t[ev_ac], ev_fan[ev_ac])
    return ev_idx, ev_val, ev_bounds


def _sample_numpy(_kernels, _work, b, ev, layers, ro, ro_sigma, b_o, counts, states, outputs):
    """One sample on the numpy engine: the step loop, layers interleaved within each step."""
    ev_idx, ev_val, ev_bounds = ev
    ev_bounds = ev_bounds.tolist()  # Python ints: cheaper to index in the step loop
    events, syn, upd = counts["events"], counts["synaptic_ops"], counts["neuron_updates"]
    n_t = len(ev_bounds) - 1
    for ly in layers:
        ly.reset()
    s_o = b_o.copy()
    y_sum = np.zeros_like(s_o)
    out_all = outputs[b] if ro.mode == "all" else None
    mean = ro.mode == "mean"

    for t in range(n_t):
        lo, hi = ev_bounds[t], ev_bounds[t + 1]
        idx, val = ev_idx[lo:hi], ev_val[lo:hi]
        for row, ly in enumerate(layers, start=1):
            if row > 1 and idx.shape[0]:
                syn[row, t] += ly.fan_in[idx].sum()
            idx, val = ly.step(t, idx, val)
            n = idx.shape[0]
            if n:
                events[row, t] += n
                upd[row, t] += n
                syn[row, t] += ly.fan_rec[idx].sum()
                ly.spikes[b, t, idx] = True
            if states is not None:
                states[ly.name][b, t] = ly.h
        if idx.shape[0]:
            syn[-1, t] += ro_sigma.fanout[idx].sum()
            ro_sigma.add(s_o, idx, val)
        if out_all is not None:
            out_all[t] = s_o
        elif mean:
            y_sum += s_o
    if ro.mode == "last":
        outputs[b] = s_o
    elif mean:
        outputs[b] = y_sum / n_t


class _KernelWork:
    """Buffers and kernel arguments of the numba engine, made once per call, reused per sample."""

    def __init__(self, layers, ro_sigma, n_t: int, dtype):
        from surnn_neuro.simulators._kernels import CELL_CODES, GATE_GLOBAL, GATE_THRESHOLD, GATE_TRAIN

        self.layer_args = []
        for k, ly in enumerate(layers):
            H = ly.H
            if ly.threshold:
                gate, w_self = GATE_THRESHOLD, ly.w_self
            else:
                gate, w_self = (GATE_GLOBAL if ly.global_gate else GATE_TRAIN), np.zeros(H, dtype=dtype)
            if ly.global_gate:
                w_glob, g_bias, init_prob = ly.w_glob, dtype(ly.g_bias), float(ly.gate.init_prob)
            else:
                w_glob, g_bias, init_prob = np.zeros(H, dtype=dtype), dtype(0.0), 1.0
            if hasattr(ly, "train_idx"):
                train_bounds = np.asarray(ly.train_bounds, dtype=np.int64)
                train_idx = ly.train_idx.astype(np.int64, copy=False)
            else:
                train_bounds, train_idx = np.zeros(n_t + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
            ly.kw = dict(
                rebuild=ly.rebuild_input, w_in_t=ly.in_sigma.w_t, in_bias=ly.in_bias, fan_in=ly.fan_in,
                count_in=k > 0, w_hh_t=ly.rec_sigma.w_t, b_hh=ly.b_hh, fan_rec=ly.fan_rec,
                cell=CELL_CODES[ly.cell_kind], gate=gate, train_bounds=train_bounds,
                train_idx=train_idx, w_self=w_self, w_glob=w_glob, g_bias=g_bias, init_prob=init_prob,
                h=np.zeros(H, dtype=dtype), c=np.zeros(H, dtype=dtype),
                s_in=np.zeros(ly.in_bias.shape[0], dtype=dtype), s_h=np.zeros(ly.GH, dtype=dtype),
                s_self=np.zeros(H, dtype=dtype), fired=np.zeros(H, dtype=np.int64),
                out_bounds=np.zeros(n_t + 1, dtype=np.int64), out_idx=np.zeros(n_t * H, dtype=np.int64),
                out_val=np.zeros(n_t * H, dtype=dtype),
            )
        self.no_states = {ly.name: np.zeros((1, ly.H), dtype=dtype) for ly in layers}
        o = ro_sigma.w_t.shape[1]
        self.s_o = np.zeros(o, dtype=dtype)
        self.y_sum = np.zeros(o, dtype=dtype)
        self.no_out_all = np.zeros((1, o))


def _sample_kernels(K, work, b, ev, layers, ro, ro_sigma, b_o, counts, states, outputs):
    """One sample on the numba engine: each layer over all steps in one call, then the readout."""
    ev_idx, ev_val, ev_bounds = ev
    n_t = ev_bounds.shape[0] - 1
    in_bounds, in_idx, in_val = ev_bounds.astype(np.int64, copy=False), ev_idx.astype(np.int64, copy=False), ev_val
    for row, ly in enumerate(layers, start=1):
        kw = ly.kw
        K.layer_sample(
            n_t, in_bounds, in_idx, in_val, kw["rebuild"], kw["w_in_t"], kw["in_bias"], kw["fan_in"],
            kw["count_in"], kw["w_hh_t"], kw["b_hh"], kw["fan_rec"], kw["cell"], kw["gate"],
            kw["train_bounds"], kw["train_idx"], kw["w_self"], kw["w_glob"], kw["g_bias"], kw["init_prob"],
            kw["h"], kw["c"], kw["s_in"], kw["s_h"], kw["s_self"], kw["fired"],
            kw["out_bounds"], kw["out_idx"], kw["out_val"], ly.spikes[b],
            states[ly.name][b] if states is not None else work.no_states[ly.name], states is not None,
            counts["events"][row], counts["synaptic_ops"][row], counts["neuron_updates"][row],
        )
        in_bounds, in_idx, in_val = kw["out_bounds"], kw["out_idx"], kw["out_val"]
    mode = K.READOUT_CODES[ro.mode]
    out_all = outputs[b] if ro.mode == "all" else work.no_out_all
    K.readout_sample(n_t, in_bounds, in_idx, in_val, ro_sigma.w_t, b_o, ro_sigma.fanout, mode,
                     work.s_o, work.y_sum, out_all, counts["synaptic_ops"][-1])
    if ro.mode == "last":
        outputs[b] = work.s_o
    elif ro.mode == "mean":
        outputs[b] = work.y_sum / n_t


# ------------------------------------------------------------------------------------------------
# spiking layers (LIF / CubaLIF), docs/semantics.md §5
# ------------------------------------------------------------------------------------------------


class _SpikingLayer:
    """Constants of one spiking layer, cast to ``dtype``, and its fan-outs (of the NIR weights)."""

    def __init__(self, layer, first: bool, dtype):
        k = layer.constants()
        self.name, self.H = layer.name, layer.hidden_size
        self.w = k.w_eff.astype(dtype)
        self.c = k.c.astype(dtype)
        self.has_bias = bool(np.any(k.c != 0))
        # Layer 1 takes its bias as one more, always-on input column (Lava: one more source channel
        # into the same Dense), so that a_t is a sum of two terms at most (see _run_spiking).
        self.w_ff = np.ascontiguousarray(np.concatenate([self.w, self.c[:, None]], axis=1)) if (
            first and self.has_bias) else self.w
        self.recurrent = layer.recurrent
        self.w_rec = k.w_rec_eff.astype(dtype)
        self.decay_u = (1.0 - k.du).astype(dtype)
        self.decay_v = (1.0 - k.dv).astype(dtype)
        self.beta = k.beta.astype(dtype)
        self.theta = k.theta.astype(dtype)
        self.v0 = k.v0.astype(dtype)
        self.v_reset = layer.v_reset.astype(dtype)
        self.fan_in = np.count_nonzero(layer.weight, axis=0).astype(np.int64)
        self.fan_rec = np.count_nonzero(layer.w_rec, axis=0).astype(np.int64)
        self.dense_macs = self.H * layer.input_size + (self.H * self.H if self.recurrent else 0)


def _run_spiking(graph: EventGraph, x: np.ndarray, dtype, record_states: bool):
    """Event-driven run of a spiking graph: per step, each layer sums the weight columns of the
    spikes it receives (the previous layer's of step t, its own of step t − 1), then one LIF step.

    ``a_t`` is formed like Lava's ``a_in`` port (zeros + the Dense outputs): layer 1:
    ``[W | c]·[x_t; 1]`` (``c`` = the bias drive, one always-on column; binary x: a column sum) ``+
    W_rec z_{t−1}``; layer l > 1: ``W z^{l−1}_t + W_rec z_{t−1} + c``, left to right. With at most
    two terms the sum is the same in any order, so Lava's result is bit-identical; with three
    (layer l > 1, recurrent, with a bias) only up to the rounding of one addition.
    Input samples with values other than 0/1 use the dense product ``[W | c] @ [x_t; 1]``.
    """
    x = graph.check_input(x)
    n_b, n_t, _ = x.shape
    dtype = np.dtype(dtype).type
    layers = [_SpikingLayer(ly, k == 0, dtype) for k, ly in enumerate(graph.layers)]
    ro = graph.readout
    n_rows = len(graph.node_names)
    counts = {name: np.zeros((n_rows, n_t), dtype=np.int64) for name in COUNT_FIELDS}
    events, syn, ac, upd = counts["events"], counts["synaptic_ops"], counts["ac_ops"], counts["neuron_updates"]
    spikes = {ly.name: np.zeros((n_b, n_t, ly.H), dtype=bool) for ly in layers}
    states = {ly.name: np.zeros((n_b, n_t, ly.H), dtype=dtype) for ly in layers} if record_states else None
    ro_fan = np.count_nonzero(ro.weight, axis=0).astype(np.int64)
    first = layers[0]

    for b in range(n_b):
        xb = x[b].astype(dtype)
        # counted input events follow the encoding (docs/semantics.md §3); the drive is W x_t
        ev = np.diff(xb, axis=0, prepend=0.0) if graph.input.encoding == "delta" else xb
        binary = bool(np.all((xb == 0) | (xb == 1)))
        if not binary and first.has_bias:
            x_aug = np.concatenate([xb, np.ones((n_t, 1), dtype=dtype)], axis=1)
        us = [np.zeros(ly.H, dtype=dtype) for ly in layers]
        vs = [ly.v0.copy() for ly in layers]
        z_prev = [_EMPTY_IDX for _ in layers]
        bias_col = np.array([first.w.shape[1]], dtype=np.intp)
        for t in range(n_t):
            ev_idx = np.flatnonzero(ev[t])
            ev_val = ev[t, ev_idx]
            events[0, t] += ev_idx.shape[0]
            syn[1, t] += first.fan_in[ev_idx].sum()
            ac[1, t] += first.fan_in[ev_idx[(ev_val == 1) | (ev_val == -1)]].sum()
            idx = np.flatnonzero(xb[t])
            for row, ly in enumerate(layers, start=1):
                if row == 1:
                    if binary:
                        a = spike_sum(ly.w_ff, np.concatenate([idx, bias_col]) if ly.has_bias else idx)
                    else:
                        a = ly.w_ff.dot(x_aug[t] if ly.has_bias else xb[t])
                else:
                    a = spike_sum(ly.w, idx)
                if ly.recurrent:
                    a = a + spike_sum(ly.w_rec, z_prev[row - 1])
                if row > 1 and ly.has_bias:
                    a = a + ly.c
                z = lif_step(us[row - 1], vs[row - 1], a, ly.decay_u, ly.decay_v, ly.beta, ly.theta)
                idx = np.flatnonzero(z)
                z_prev[row - 1] = idx
                n = idx.shape[0]
                spikes[ly.name][b, t] = z
                events[row, t] += n
                upd[row, t] += ly.H
                own = ly.fan_rec[idx].sum()
                syn[row, t] += own
                ac[row, t] += own
                nxt = layers[row].fan_in if row < len(layers) else ro_fan
                sent = nxt[idx].sum()
                syn[row + 1, t] += sent
                ac[row + 1, t] += sent
                if states is not None:
                    states[ly.name][b, t] = vs[row - 1] + ly.v_reset

    _fill_dense_macs(counts, layers, ro, n_b)
    trace = Trace(
        backend="reference",
        node_names=graph.node_names,
        layer_names=graph.layer_names,
        outputs=spiking_readout(ro, spikes[layers[-1].name]),
        gate_spikes=spikes,
        n_samples=n_b,
        metadata={"dtype": np.dtype(dtype).name},
        **counts,
    )
    return trace, states


def _fill_dense_macs(counts, layers, ro, n_b):
    """Dense-equivalent MACs: every layer row every step; the readout every step, or only at the
    last step for a ``last`` readout."""
    for row, ly in enumerate(layers, start=1):
        counts["dense_macs"][row] = n_b * ly.dense_macs
    ro_macs = n_b * ro.output_size * ro.input_size
    if ro.mode == "last":
        counts["dense_macs"][-1, -1] = ro_macs
    else:
        counts["dense_macs"][-1] = ro_macs
