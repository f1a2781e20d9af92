"""Dense numpy simulator: the always-compute baseline and a cross-check of the reference.

Every step: full matrix products ``W_ih x_t`` and ``W_hh h_{t-1}`` for the whole batch, the candidate
for every neuron, then ``h_t = where(g_t, f_t, h_{t-1})`` (docs/semantics.md §1). Work per step is
``G·H·(V + H)`` MACs whatever the gates do. Done as a fair baseline: layer by layer (layers are
feed-forward), the input drive of all steps is one matrix product, the recurrent drive one BLAS
product per step (a matvec at batch 1), the readout one product. Counts come from
:func:`surnn_neuro.ir.counting.count_trace_fields` (the reference simulator counts on its own).
Spiking graphs (docs/semantics.md §5): full products ``x_t W^T + z_{t−1} W_rec^T`` every step.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.ir.counting import count_trace_fields
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import Trace
from surnn_neuro.ir.cells import sigmoid, su_update
from surnn_neuro.ir.spiking import lif_step, spiking_readout


def run(graph: EventGraph, x: np.ndarray, dtype=np.float64) -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)``; returns a Trace with backend ``"dense"``."""
    return run_with_states(graph, x, dtype)[0]


def run_with_states(graph: EventGraph, x: np.ndarray, dtype=np.float64) -> tuple[Trace, dict]:
    """Like :func:`run`, also returning ``{layer name: h (B, T, H)}`` (h_t after step t).

    Spiking graphs (docs/semantics.md §5): states are the membrane potentials after the reset.
    """
    if graph.spiking:
        return _run_spiking(graph, x, dtype)
    x = graph.check_input(x)
    xd = x.astype(dtype)
    n_b, n_t, _ = x.shape
    spikes, states = {}, {}
    inp = xd  # (B, T, V): the input of the current layer at every step
    for layer in graph.layers:
        gate = graph.gate_of(layer.name)
        g_sp, h_st = _run_layer(layer, gate, inp, dtype)
        spikes[layer.name], states[layer.name] = g_sp, h_st
        inp = h_st

    ro = graph.readout
    w_o_t = ro.weight.astype(dtype, copy=False).T
    b_o = ro.bias.astype(dtype)
    if ro.mode == "last":
        outputs = inp[:, -1] @ w_o_t + b_o
    else:
        y_all = inp @ w_o_t + b_o  # (B, T, O), one product for all steps
        outputs = y_all if ro.mode == "all" else y_all.mean(axis=1)
    counts = count_trace_fields(graph, x, spikes)
    trace = Trace(
        backend="dense",
        node_names=graph.node_names,
        layer_names=graph.layer_names,
        outputs=np.asarray(outputs, dtype=np.float64),
        gate_spikes=spikes,
        n_samples=n_b,
        metadata={"dtype": np.dtype(dtype).name},
        **counts,
    )
    return trace, states


class _TrainGate:
    """Input-independent kinds: the node's ``(T, H)`` spike train, shared over the batch."""

    def __init__(self, gate, n_b, n_t, dtype):
        self.train = gate.spike_train(n_t)
        self.n_b = n_b

    def fire(self, t, h_prev, gate_drive):
        return np.broadcast_to(self.train[t], (self.n_b, self.train.shape[1]))

    def receive(self, g_t, h_new):
        pass


class _ThresholdGate:
    """``g = [w_self ⊙ h_{t−1} + W_in x_t + bias > 0]``; ``W_in x_t + bias`` is part of the input drive."""

    def __init__(self, gate, n_b, n_t, dtype):
        self.w_self = gate.w_self.astype(dtype)

    def fire(self, t, h_prev, gate_drive):
        return (self.w_self * h_prev + gate_drive) > 0

    def receive(self, g_t, h_new):
        pass


class _GlobalGate:
    """Skip RNN: ``u = [ũ > ½]`` per sample; after an update ``Δũ = σ(w·h_t + b)``."""

    def __init__(self, gate, n_b, n_t, dtype):
        self.w = gate.weight.astype(dtype)
        self.bias = np.asarray(gate.bias, dtype=dtype)
        self.u_tilde = np.full(n_b, gate.init_prob, dtype=dtype)
        self.du = np.full(n_b, sigmoid(self.bias), dtype=dtype)  # h_{-1} = 0
        self.h = gate.size

    def fire(self, t, h_prev, gate_drive):
        self.u = self.u_tilde > 0.5
        return np.broadcast_to(self.u[:, None], (self.u.shape[0], self.h))

    def receive(self, g_t, h_new):
        u = self.u
        self.du = np.where(u, sigmoid(h_new @ self.w + self.bias), self.du)
        self.u_tilde = np.where(u, self.du, self.u_tilde + np.minimum(self.du, 1.0 - self.u_tilde))


#: gate kind -> its step in the dense simulator
GATE_STEPS = {"oscillator": _TrainGate, "schedule": _TrainGate, "always": _TrainGate,
              "threshold": _ThresholdGate, "global": _GlobalGate}


def _run_layer(layer, gate, inp: np.ndarray, dtype):
    """One selective-update layer over all steps: ``inp (B, T, V)`` -> gate spikes, states ``(B, T, H)``.

    Layers are feed-forward, so a layer can run over the whole sequence before the next one starts.
    The input drive ``W_ih x_t + b_ih`` (with the gate's input synapses, e.g. a threshold gate's
    ``W_in x_t + bias``, as more rows) is one matrix product for all steps; per step there is one
    product ``W_hh h_{t−1}`` for the batch (a BLAS matvec at batch 1), then the update rule
    (:func:`surnn_neuro.ir.cells.su_update`) on the open neurons.
    """
    n_b, n_t, _ = inp.shape
    g, h = layer.gates_per_cell, layer.hidden_size
    gh_rows = g * h
    cell, lstm = layer.spec.fn, layer.spec.has_cell_state
    try:
        step = GATE_STEPS[type(gate).kind](gate, n_b, n_t, dtype)
    except KeyError:
        raise ValueError(f"dense simulator: no rule for gate kind {type(gate).kind!r}; "
                         f"known: {', '.join(GATE_STEPS)}") from None
    w_in, b_in = layer.w_ih, layer.b_ih
    gate_in = [s.matrix for s in gate.synapses() if s.source == "input"]
    if gate_in:
        w_in, b_in = np.concatenate([w_in, *gate_in]), np.concatenate([b_in, gate.bias])
    drive = inp @ w_in.astype(dtype, copy=False).T  # (B, T, G·H [+ H]): the input drive of every step
    drive += b_in.astype(dtype)
    w_hh = layer.w_hh.astype(dtype, copy=False)  # (G·H, H), C order
    b_hh = layer.b_hh.astype(dtype)

    spikes = np.zeros((n_b, n_t, h), dtype=bool)
    states = np.zeros((n_b, n_t, h), dtype=dtype)
    h_prev = np.zeros((n_b, h), dtype=dtype)
    c_prev = np.zeros((n_b, h), dtype=dtype) if lstm else None
    gshape = (n_b, g, h)
    for t in range(n_t):
        d_t = drive[:, t]
        gi = d_t[:, :gh_rows].reshape(gshape).transpose(1, 0, 2)
        if n_b == 1:  # one BLAS matvec on the C-ordered W_hh
            rec = (w_hh @ h_prev[0])[None]
        else:
            rec = h_prev @ w_hh.T
        rec += b_hh
        gh = rec.reshape(gshape).transpose(1, 0, 2)
        g_t = step.fire(t, h_prev, d_t[:, gh_rows:])
        h_new = h_prev.copy()
        su_update(cell, gi[:, g_t], gh[:, g_t], h_new, c_prev, g_t)
        step.receive(g_t, h_new)
        spikes[:, t] = g_t
        states[:, t] = h_new
        h_prev = h_new
    return spikes, states


def _run_spiking(graph: EventGraph, x: np.ndarray, dtype) -> tuple[Trace, dict]:
    """Spiking layers, dense: every step ``a = x_t W^T + z_{t−1} W_rec^T + c`` for the whole batch
    (full products, every synapse), then the LIF step of docs/semantics.md §5. Same spikes as the
    reference up to the rounding of the sums (the reference adds only the spiking columns)."""
    x = graph.check_input(x)
    xd = x.astype(dtype)
    n_b, n_t, _ = x.shape
    layers = []
    for layer in graph.layers:
        k = layer.constants()
        layers.append({
            "name": layer.name, "H": layer.hidden_size, "rec": layer.recurrent,
            "w_t": k.w_eff.astype(dtype).T, "w_rec_t": k.w_rec_eff.astype(dtype).T, "c": k.c.astype(dtype),
            "du1": (1.0 - k.du).astype(dtype), "dv1": (1.0 - k.dv).astype(dtype),
            "beta": k.beta.astype(dtype), "theta": k.theta.astype(dtype), "v_reset": layer.v_reset.astype(dtype),
            "reset": layer.reset,
            "u": np.zeros((n_b, layer.hidden_size), dtype=dtype),
            "v": np.broadcast_to(k.v0.astype(dtype), (n_b, layer.hidden_size)).copy(),
            "z": np.zeros((n_b, layer.hidden_size), dtype=dtype),
            "spikes": np.zeros((n_b, n_t, layer.hidden_size), dtype=bool),
            "states": np.zeros((n_b, n_t, layer.hidden_size), dtype=dtype),
        })
    for t in range(n_t):
        inp = xd[:, t]
        for st in layers:
            a = inp @ st["w_t"] + st["c"]
            if st["rec"]:
                a = a + st["z"] @ st["w_rec_t"]
            z = lif_step(st["u"], st["v"], a, st["du1"], st["dv1"], st["beta"], st["theta"], st["reset"], st["z"])
            st["spikes"][:, t] = z
            st["states"][:, t] = st["v"] + st["v_reset"]
            st["z"] = z.astype(dtype)
            inp = st["z"]
    spikes = {st["name"]: st["spikes"] for st in layers}
    trace = Trace(
        backend="dense",
        node_names=graph.node_names,
        layer_names=graph.layer_names,
        outputs=spiking_readout(graph.readout, layers[-1]["spikes"]),
        gate_spikes=spikes,
        n_samples=n_b,
        metadata={"dtype": np.dtype(dtype).name},
        **count_trace_fields(graph, x, spikes),
    )
    return trace, {st["name"]: st["states"] for st in layers}
