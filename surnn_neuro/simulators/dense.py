"""Dense numpy simulator: the always-compute baseline and a cross-check of the reference.

Every step: full matrix products ``W_ih x_t`` and ``W_hh h_{t-1}`` for the whole batch, the candidate
for every neuron, then ``h_t = where(g_t, f_t, h_{t-1})`` (docs/semantics.md §1). Work per step is
``G·H·(V + H)`` MACs whatever the gates do. Counts come from
:func:`surnn_neuro.ir.counting.count_trace_fields` (the reference simulator counts on its own).
Spiking graphs (docs/semantics.md §5): full products ``x_t W^T + z_{t−1} W_rec^T`` every step.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.ir.counting import count_trace_fields
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import GlobalGate, ThresholdGate
from surnn_neuro.ir.trace import Trace
from surnn_neuro.simulators._cells import cell_fn, lif_step, sigmoid, spiking_readout


def run(graph: EventGraph, x: np.ndarray, dtype=np.float64) -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)``; returns a Trace with backend ``"dense"``."""
    return run_with_states(graph, x, dtype)[0]


def run_with_states(graph: EventGraph, x: np.ndarray, dtype=np.float64) -> tuple[Trace, dict]:
    """Like :func:`run`, also returning ``{layer name: h (B, T, H)}`` (h_t after step t).

    Spiking graphs (docs/semantics.md §5): states are the membrane potentials after the reset.
    """
    if graph.spiking:
        return _run_spiking(graph, x, dtype)
    # W.T views, no copies: BLAS multiplies by a transposed matrix directly
    x = graph.check_input(x)
    xd = x.astype(dtype)
    n_b, n_t, _ = x.shape
    layers = []
    for layer in graph.layers:
        gate = graph.gate_of(layer.name)
        g, h = layer.gates_per_cell, layer.hidden_size
        st = {
            "name": layer.name, "G": g, "H": h, "cell": cell_fn(layer.cell), "lstm": layer.cell == "lstm",
            "w_ih_t": layer.w_ih.astype(dtype, copy=False).T, "b_ih": layer.b_ih.astype(dtype),
            "w_hh_t": layer.w_hh.astype(dtype, copy=False).T, "b_hh": layer.b_hh.astype(dtype),
            "gate": gate,
            "spikes": np.zeros((n_b, n_t, h), dtype=bool),
            "states": np.zeros((n_b, n_t, h), dtype=dtype),
        }
        if type(gate).input_independent:
            st["train"] = gate.spike_train(n_t)
        elif isinstance(gate, ThresholdGate):
            st["w_self"] = gate.w_self.astype(dtype)
            st["w_in_t"] = gate.w_in.astype(dtype, copy=False).T
            st["g_bias"] = gate.bias.astype(dtype)
        elif isinstance(gate, GlobalGate):
            st["w_glob"] = gate.weight.astype(dtype)
            st["u_tilde"] = np.full(n_b, gate.init_prob, dtype=dtype)
            st["du"] = np.full(n_b, sigmoid(np.asarray(gate.bias, dtype=dtype)), dtype=dtype)  # h_{-1} = 0
        else:
            raise ValueError(f"dense simulator: no rule for gate kind {type(gate).kind!r}; "
                             "known: oscillator, schedule, always, threshold, global")
        layers.append(st)

    ro = graph.readout
    w_o_t = ro.weight.astype(dtype, copy=False).T
    b_o = ro.bias.astype(dtype)
    y_all = np.zeros((n_b, n_t, ro.output_size), dtype=dtype) if ro.mode == "all" else None
    y_sum = np.zeros((n_b, ro.output_size), dtype=dtype)
    y = None

    hs = [np.zeros((n_b, st["H"]), dtype=dtype) for st in layers]
    cs = [np.zeros((n_b, st["H"]), dtype=dtype) for st in layers]
    for t in range(n_t):
        inp = xd[:, t]
        for k, st in enumerate(layers):
            h_prev, c_prev = hs[k], cs[k]
            gshape = (n_b, st["G"], st["H"])
            gi = (inp @ st["w_ih_t"] + st["b_ih"]).reshape(gshape).transpose(1, 0, 2)
            gh = (h_prev @ st["w_hh_t"] + st["b_hh"]).reshape(gshape).transpose(1, 0, 2)
            gate = st["gate"]
            if "train" in st:
                g = np.broadcast_to(st["train"][t], (n_b, st["H"]))
            elif "w_self" in st:
                g = (st["w_self"] * h_prev + inp @ st["w_in_t"] + st["g_bias"]) > 0
            else:
                u = st["u_tilde"] > 0.5
                g = np.broadcast_to(u[:, None], (n_b, st["H"]))
            f, cf = st["cell"](gi, gh, h_prev, c_prev)
            h_new = np.where(g, f, h_prev)
            if st["lstm"]:
                cs[k] = np.where(g, cf, c_prev)
            if "u_tilde" in st:
                du = np.where(u, sigmoid(h_new @ st["w_glob"] + np.asarray(gate.bias, dtype=dtype)), st["du"])
                ut = st["u_tilde"]
                st["u_tilde"] = np.where(u, du, ut + np.minimum(du, 1.0 - ut))
                st["du"] = du
            st["spikes"][:, t] = g
            st["states"][:, t] = h_new
            hs[k] = h_new
            inp = h_new
        y = inp @ w_o_t + b_o
        if y_all is not None:
            y_all[:, t] = y
        y_sum += y

    if ro.mode == "all":
        outputs = y_all
    elif ro.mode == "mean":
        outputs = y_sum / n_t
    else:
        outputs = y
    spikes = {st["name"]: st["spikes"] for st in layers}
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
    return trace, {st["name"]: st["states"] for st in layers}


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
            z = lif_step(st["u"], st["v"], a, st["du1"], st["dv1"], st["beta"], st["theta"])
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
