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

Gates (one step per kind, :data:`GATE_STEPS`; what a gate adds to the counts is read from the IR
node): oscillator, schedule and always trains are input-independent and precomputed once per call
(``(T, H)``, shared over the batch); threshold fires where ``S_self + S_in[GH:] > 0`` (strict);
global keeps ``ũ``, ``Δũ`` per sample and fires all H neurons when ``ũ > 0.5``. The update of the
fired neurons is the one numpy rule, :func:`surnn_neuro.ir.cells.su_update`.

It counts events and operations inline, by its own means (fan-outs of its own transposed matrices),
independently of :mod:`surnn_neuro.ir.counting`; a test checks the two agree.

Cost per step and sample: O(input events · (G+1)·H + delta events · (G·H + O) + updated neurons ·
cell cost), plus O(G·H) to rebuild the input sigma of ``dense``/``spikes`` input and O(H) for a
threshold gate's comparison; nothing else scales with H. Implementation choices that change no
count (sums only by rounding): the transposed weights are cached per graph, and (numpy engine) when
more than ``DENSE_CROSSOVER`` of a matrix' columns carry events in one step, one product with the
scattered event vector replaces the gather.

Two engines run selective-update graphs, with the same events, gate spikes and counts (values
equal up to the rounding of the sums):

- ``numba`` (default when numba imports): :mod:`surnn_neuro.simulators._kernels` runs each layer
  over all T steps of a sample in one compiled call (layers are feed-forward, so layer 1 over the
  sequence, then layer 2 on its events, … computes what the step-interleaved loop computes); an event
  costs one contiguous row of ``W.T``, there is no per-step Python overhead. Compiled once per
  machine and cached on disk (numba ``cache=True``). Over a batch (``batch=True``, the default,
  :mod:`surnn_neuro.simulators._reference_batched`): graphs whose gates are all shared by the batch
  (oscillator, schedule, always) run step-synchronously over groups of samples, one group per
  thread, reading each step's event rows once per group (:mod:`._batched_kernels`); graphs with a
  per-sample gate (threshold, global) spread their samples over threads. Both give, bit for bit,
  what one sample after the other gives (``batch=False``; the sums are the same in the same order).
- ``numpy``: the per-step loop below (``_Layer.step`` / ``_Sigma``). Used when numba is missing or
  fails to import, when the environment sets ``SURNN_NEURO_NO_NUMBA=1``, and when ``_Sigma.product``
  has been replaced (an instrumented run that observes the gathers, as a test does).

:func:`engine` tells which one the next call uses.

Spiking graphs (LIF / CubaLIF layers, docs/semantics.md §5) run in :func:`_run_spiking` (numpy, both
engines): per step each layer sums the weight columns of the spikes it receives and does one LIF step,
in the arithmetic and order of Lava's floating-point Dense and LIF (``surnn_neuro.ir.spiking.lif_step``).
"""

from __future__ import annotations

import os
import weakref

import numpy as np

from surnn_neuro.ir.cells import sigmoid, su_update
from surnn_neuro.ir.counting import fill_dense_macs
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import COUNT_FIELDS, Trace
from surnn_neuro.simulators._reference_spiking import run_spiking
from surnn_neuro.simulators._sigma import (DENSE_CROSSOVER, EMPTY_IDX, GATHER_CHUNK, Sigma,  # noqa: F401
                                           split_by_step)

#: Environment variable: a value other than "", "0" makes the reference use the numpy engine.
ENV_NO_NUMBA = "SURNN_NEURO_NO_NUMBA"
#: None: not tried yet; a module: the numba kernels; a str: why they are unavailable.
_KERNELS = None
#: The sigma class (module attribute so that a test can instrument ``_Sigma.product``).
_Sigma = Sigma
_SIGMA_PRODUCT = Sigma.product


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


def _batched_module():
    """The batched driver, or None if its kernels fail to compile/import (then: per sample)."""
    try:
        from surnn_neuro.simulators import _batched_kernels  # noqa: F401 - compiles or loads the cache
        from surnn_neuro.simulators import _reference_batched
    except Exception:  # noqa: BLE001 - any failure of the batched kernels means: per-sample engine
        return None
    return _reference_batched


def _batched_kernels():
    from surnn_neuro.simulators import _batched_kernels, _kernels

    class _K:  # the batched kernels plus the code tables of the per-sample module
        layer_batch = staticmethod(_batched_kernels.layer_batch)
        readout_batch = staticmethod(_batched_kernels.readout_batch)
        CELL_CODES = _kernels.CELL_CODES
        READOUT_CODES = _kernels.READOUT_CODES

    return _K


def _threads() -> int:
    """Threads for per-sample graphs: numba's thread count (``NUMBA_NUM_THREADS``, default the cores)."""
    import numba

    return int(numba.get_num_threads())


def engine() -> str:
    """``"numba"`` or ``"numpy"``: the engine the next :func:`run` of a selective-update graph uses
    (module doc). Spiking graphs always run on numpy."""
    if os.environ.get(ENV_NO_NUMBA, "").strip() not in ("", "0"):
        return "numpy"
    if _Sigma.product is not _SIGMA_PRODUCT:  # instrumented: observe the numpy gathers
        return "numpy"
    return "numba" if _kernel_module() is not None else "numpy"


# ------------------------------------------------------------------------------------------------
# gate steps of the numpy engine, one per gate kind: reset (t = −1), fire (the neurons that update
# at t), receive (the layer's own delta events); kernel_args: the same gate for the numba kernel
# ------------------------------------------------------------------------------------------------


#: gate node -> {n_steps: (idx, bounds)}: the CSR spike trains of input-independent gates. Gate nodes
#: are frozen (read-only arrays) and hashed by identity, so a train is made once per node and length:
#: an oscillator's is T·H·K sines (0.1 s at H = 1024, T = 784, K = 4), more than a whole batch-1 run
#: at a low update rate.
_TRAINS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _TrainStep:
    """Input-independent kinds (oscillator, schedule, always): the node's spike train, as CSR by step."""

    def __init__(self, gate, layer, n_steps: int, dtype):
        cache = _TRAINS.setdefault(gate, {})
        if n_steps not in cache:
            _, idx, bounds = split_by_step(gate.spike_train(n_steps))
            idx.flags.writeable = False
            cache[n_steps] = (idx, bounds.tolist())
        self.idx, self.bounds = cache[n_steps]

    def reset(self, ly):
        pass

    def fire(self, ly, t: int):
        return self.idx[self.bounds[t]: self.bounds[t + 1]]

    def receive(self, ly, idx, delta):
        pass

    def kernel_args(self, K, H, dtype):
        return dict(gate=K.GATE_TRAIN, train_bounds=np.asarray(self.bounds, dtype=np.int64),
                    train_idx=self.idx.astype(np.int64, copy=False))


class _ThresholdStep:
    """SA-RNN coordinator: fires where ``S_self + S_in[GH:] > 0``; ``S_self += w_self ⊙ Δ``."""

    def __init__(self, gate, layer, n_steps: int, dtype):
        self.w_self = gate.w_self.astype(dtype)

    def reset(self, ly):
        self.s_gate = ly.s_in[ly.GH:]  # the gate's rows of the layer's input sigma (a view)
        self.s_self = np.zeros(ly.H, dtype=ly.dtype)

    def fire(self, ly, t):
        return np.flatnonzero((self.s_self + self.s_gate) > 0)

    def receive(self, ly, idx, delta):
        self.s_self[idx] += self.w_self[idx] * delta

    def kernel_args(self, K, H, dtype):
        return dict(gate=K.GATE_THRESHOLD, w_self=self.w_self)


class _GlobalStep:
    """Skip RNN: all H neurons fire while ``ũ > 0.5``; after an update ``Δũ = σ(w·h + b)``."""

    def __init__(self, gate, layer, n_steps: int, dtype):
        self.w = gate.weight.astype(dtype)
        self.bias = np.asarray(gate.bias, dtype=dtype)
        self.init_prob = float(gate.init_prob)

    def reset(self, ly):
        self.s = np.zeros((), dtype=ly.dtype)
        self.du = sigmoid(self.s + self.bias)  # Δũ before any update: σ(w·h_{-1} + b)
        self.u_tilde = self.init_prob

    def fire(self, ly, t):
        if self.u_tilde > 0.5:
            return ly.all_idx
        self.u_tilde += min(float(self.du), 1.0 - self.u_tilde)
        return EMPTY_IDX

    def receive(self, ly, idx, delta):
        self.s += delta @ self.w[idx]
        self.du = sigmoid(self.s + self.bias)
        self.u_tilde = float(self.du)

    def kernel_args(self, K, H, dtype):
        return dict(gate=K.GATE_GLOBAL, w_glob=self.w, g_bias=dtype(self.bias), init_prob=self.init_prob)


#: gate kind -> its step on the numpy engine (input-independent kinds share :class:`_TrainStep`).
GATE_STEPS = {"oscillator": _TrainStep, "schedule": _TrainStep, "always": _TrainStep,
              "threshold": _ThresholdStep, "global": _GlobalStep}


def _gate_step(gate):
    try:
        return GATE_STEPS[type(gate).kind]
    except KeyError:
        raise ValueError(f"reference simulator: no rule for gate kind {type(gate).kind!r}; "
                         f"known: {', '.join(GATE_STEPS)}") from None


class _Layer:
    """Static data of one layer and its gate, plus the per-sample state (``reset``)."""

    def __init__(self, graph: EventGraph, layer, first: bool, n_steps: int, dtype):
        self.name = layer.name
        gate = graph.gate_of(layer.name)
        self.G, self.H, self.V = layer.gates_per_cell, layer.hidden_size, layer.input_size
        self.GH = self.G * self.H
        self.cell = layer.spec.fn
        self.cell_kind = layer.cell
        self.lstm = layer.spec.has_cell_state
        self.dtype = dtype
        self.rebuild_input = first and graph.input.encoding in ("dense", "spikes")

        # a gate's input synapses listen to the layer's input: more rows of the same input sigma
        gate_in = [s.matrix for s in gate.synapses() if s.source == "input"]
        if gate_in:
            self.in_sigma = _Sigma(graph, f"{layer.name}/in", lambda: np.concatenate([layer.w_ih, *gate_in]), dtype)
            self.in_bias = np.concatenate([layer.b_ih, gate.bias]).astype(dtype)
        else:
            self.in_sigma = _Sigma(graph, f"{layer.name}/in", lambda: layer.w_ih, dtype)
            self.in_bias = layer.b_ih.astype(dtype)
        self.rec_sigma = _Sigma(graph, f"{layer.name}/rec", lambda: layer.w_hh, dtype)
        self.b_hh = layer.b_hh.astype(dtype)

        # fan-out of one input event and of one own delta event (W_hh column + the gate's synapses)
        self.fan_in = self.in_sigma.fanout
        self.fan_rec = self.rec_sigma.fanout + gate.fanout_rec()
        self.gate_step = _gate_step(gate)(gate, layer, n_steps, dtype)
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
        self.gate_step.reset(self)

    def step(self, t: int, in_idx: np.ndarray, in_val: np.ndarray):
        """Apply this step's input events, fire the gate, update; return own delta events (idx, Δ)."""
        if self.rebuild_input:
            self.in_sigma.set(self.s_in, self.in_bias, in_idx, in_val)
        elif in_idx.shape[0]:
            self.in_sigma.add(self.s_in, in_idx, in_val)
        idx = self.gate_step.fire(self, t)
        if idx.shape[0] == 0:
            return EMPTY_IDX, None
        delta = su_update(self.cell, self.s_in_blocks[:, idx], self.s_h_blocks[:, idx], self.h,
                          self.c if self.lstm else None, idx)
        self.rec_sigma.add(self.s_h, idx, delta)  # acts from step t + 1
        self.gate_step.receive(self, idx, delta)
        return idx, delta


def run(graph: EventGraph, x: np.ndarray, dtype=np.float64, batch: bool = True) -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)`` event by event; Trace with backend ``"reference"``.

    Outputs ``(B, O)`` (readout ``last``/``mean``) or ``(B, T, O)`` (``all``), float64; counts
    ``(N, T)`` summed over the batch (docs/semantics.md §4). ``dtype``: the arithmetic, float64
    (default, the exact reference) or float32 (the fast engine; agreement with torch float32 in
    benchmarks/results/speed_vs_field.json). ``batch`` (numba engine): run shared-gate graphs
    step-synchronously over the whole batch and spread per-sample-gate graphs over threads
    (:mod:`surnn_neuro.simulators._reference_batched`); False: one sample after the other on one
    thread. Both give the same events, counts, gate spikes, outputs and states, bit for bit.
    """
    return run_with_states(graph, x, dtype, record_states=False, batch=batch)[0]


def run_with_states(graph: EventGraph, x: np.ndarray, dtype=np.float64, record_states: bool = True,
                    batch: bool = True):
    """Like :func:`run`, also returning ``{layer name: h (B, T, H)}`` (h_t after step t), or None.

    Spiking graphs (docs/semantics.md §5): the states are the membrane potentials ``v_t`` after the
    reset of step t, and ``gate_spikes`` holds each layer's output spikes.
    """
    if graph.spiking:
        return run_spiking(graph, x, dtype, record_states)
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
    batched = _batched_module() if kernels is not None and batch else None
    xd = x.astype(dtype)
    enc = graph.input.encoding
    # a group of one sample runs faster on the per-sample kernel (whole-row passes, no tiles)
    if batched is not None and batched.shared_graph(layers) and n_b >= 2 * _threads():
        batched.run_batched(_batched_kernels(), _threads(), xd, enc, layers, ro, ro_sigma, b_o, counts, spikes,
                            states, outputs, dtype)
    elif batched is not None and n_b > 1:
        batched.run_threaded(_threads(), xd, enc, layers, ro, ro_sigma, b_o, counts, spikes, states, outputs,
                             dtype, _input_events, lambda: _KernelWork(layers, ro_sigma, n_t, dtype),
                             _sample_kernels)
    else:
        sample = _sample_kernels if kernels is not None else _sample_numpy
        work = _KernelWork(layers, ro_sigma, n_t, dtype) if kernels is not None else None
        for b in range(n_b):
            ev = _input_events(xd[b], enc, layers[0].fan_in, counts)
            sample(kernels, work, b, ev, layers, ro, ro_sigma, b_o, counts, states, outputs)

    fill_dense_macs(counts["dense_macs"], graph, n_b)

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
    ev_t, ev_idx, ev_bounds = split_by_step(xb != 0)
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
        from surnn_neuro.simulators import _kernels as K

        self.layer_args = []  # per layer: the kernel arguments (this work's own buffers)
        for k, ly in enumerate(layers):
            H = ly.H
            kw = dict(w_self=np.zeros(H, dtype=dtype), w_glob=np.zeros(H, dtype=dtype), g_bias=dtype(0.0),
                      init_prob=1.0, train_bounds=np.zeros(n_t + 1, dtype=np.int64),
                      train_idx=np.zeros(0, dtype=np.int64))
            kw.update(ly.gate_step.kernel_args(K, H, dtype))
            kw.update(
                rebuild=ly.rebuild_input, w_in_t=ly.in_sigma.w_t, in_bias=ly.in_bias, fan_in=ly.fan_in,
                count_in=k > 0, w_hh_t=ly.rec_sigma.w_t, b_hh=ly.b_hh, fan_rec=ly.fan_rec,
                cell=K.CELL_CODES[ly.cell_kind],
                h=np.zeros(H, dtype=dtype), c=np.zeros(H, dtype=dtype),
                s_in=np.zeros(ly.in_bias.shape[0], dtype=dtype), s_h=np.zeros(ly.GH, dtype=dtype),
                s_self=np.zeros(H, dtype=dtype), fired=np.zeros(H, dtype=np.int64),
                out_bounds=np.zeros(n_t + 1, dtype=np.int64), out_idx=np.zeros(n_t * H, dtype=np.int64),
                out_val=np.zeros(n_t * H, dtype=dtype),
            )
            self.layer_args.append(kw)
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
    for row, (ly, kw) in enumerate(zip(layers, work.layer_args), start=1):
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


