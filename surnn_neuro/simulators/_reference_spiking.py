"""Spiking layers (LIF / CubaLIF) on the reference simulator, docs/semantics.md §5 (numpy)."""

from __future__ import annotations

import numpy as np

from surnn_neuro.ir.counting import fill_dense_macs
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.spiking import lif_step, spike_sum, spiking_readout
from surnn_neuro.ir.trace import COUNT_FIELDS, Trace
from surnn_neuro.simulators._sigma import EMPTY_IDX


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
        self.reset = layer.reset
        self.fan_in = np.count_nonzero(layer.weight, axis=0).astype(np.int64)
        self.fan_rec = np.count_nonzero(layer.w_rec, axis=0).astype(np.int64)


def run_spiking(graph: EventGraph, x: np.ndarray, dtype, record_states: bool):
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
        z_prev = [EMPTY_IDX for _ in layers]
        z_last = [np.zeros(ly.H, dtype=bool) for ly in layers]  # for the delayed reset
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
                z = lif_step(us[row - 1], vs[row - 1], a, ly.decay_u, ly.decay_v, ly.beta, ly.theta,
                             ly.reset, z_last[row - 1])
                z_last[row - 1] = z
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

    fill_dense_macs(counts["dense_macs"], graph, n_b)
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

