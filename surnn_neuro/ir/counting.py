"""Event and operation counting of docs/semantics.md §4, from the input and the gate spikes alone.

Backends that do not count while they run (dense numpy, snnTorch, Norse) call
:func:`count_trace_fields`; the event-driven reference simulator counts inline and a test checks the
two agree. Every count is per node (rows in ``EventGraph.node_names`` order), per step, summed over
the batch:

- ``events``: input events at t (input row); delta events at t = gate spikes (layer rows); 0 (readout).
- ``synaptic_ops``: attributed to the receiving node and to the step the event is sent.
  Layer l: ``Σ_{input events j} fanout([W_ih; W_in], j) + Σ_{own delta events i}
  fanout([W_hh; w_self; w_global], i)`` (W_in, w_self: threshold gate; w_global: global gate, one row);
  the input events of layer l > 1 are the delta events of layer l − 1. Readout:
  ``Σ_{last layer's delta events i} fanout(W_o, i)``. ``fanout(W, j) = nnz(W[:, j])``.
- ``ac_ops``: the synaptic ops of input-node events whose value (the delta, for ``delta`` encoding) is
  in {−1, 0, 1}; layer delta events are graded, so all their ops are MACs.
- ``neuron_updates``: gate spikes at t (candidates computed).
- ``dense_macs``: per sample and step ``G·H·(V + H)`` + gate network (threshold ``H·V + H``,
  global ``H``) per layer; readout ``O·H`` every step (``mean``, ``all``) or at ``t = T−1`` (``last``).

Spiking layers (docs/semantics.md §5): events = output spikes; synaptic ops = input events ×
``fanout(weight)`` + own spikes × ``fanout(w_rec)``, all ACs except those of graded input-node events;
the readout's ops from spikes are ACs; neuron updates = H every step; dense MACs ``H·V`` (+ ``H·H``
if recurrent). ``gate_spikes[layer]`` holds the output spikes.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.ir.gates import fanout
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import COUNT_FIELDS


def input_events(x: np.ndarray, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """Input events of ``x: (B, T, V)``: ``(mask, values)``, both ``(B, T, V)``.

    ``dense``/``spikes``: events at the non-zero entries of ``x_t``, values ``x_t``;
    ``delta``: at the non-zero entries of ``d_t = x_t − x_{t−1}`` (``x_{−1} = 0``), values ``d_t``.
    """
    if encoding == "delta":
        values = np.diff(x, axis=1, prepend=0.0)
    elif encoding in ("dense", "spikes"):
        values = x
    else:
        raise ValueError(f"unknown input encoding {encoding!r}; known: dense, delta, spikes")
    return values != 0, values


def is_ac_value(values: np.ndarray) -> np.ndarray:
    """NeuroBench's AC rule: an event value in {−1, 0, 1} triggers accumulates, others MACs."""
    return (values == 1) | (values == -1) | (values == 0)


def _spiking_dense_macs(layer) -> int:
    """MACs per sample and step of a spiking layer executed densely: ``H·V`` (+ ``H·H`` if recurrent)."""
    h = layer.hidden_size
    return h * layer.input_size + (h * h if layer.recurrent else 0)


def layer_dense_macs(layer, gate) -> int:
    """Dense-equivalent MACs of a selective-update layer per step and sample: ``G·H·(V + H)`` plus
    the gate network's (docs/semantics.md §4)."""
    h, v = layer.hidden_size, layer.input_size
    return layer.gates_per_cell * h * (v + h) + gate.dense_macs(v)


def layer_fanouts(graph: EventGraph, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(fan_in (V,), fan_rec (H,))`` of a layer: fan-out of one input event j into the layer and
    its gate, and of one own delta event i into ``W_hh`` and the gate (docs/semantics.md §4).
    Spiking layer: ``fanout(weight)`` and ``fanout(w_rec)`` (docs/semantics.md §5)."""
    layer = graph.node(layer_name)
    if not getattr(type(layer), "gated", True):
        return fanout(layer.weight), fanout(layer.w_rec)
    gate = graph.gate_of(layer_name)
    fan_in = fanout(layer.w_ih) + gate.fanout_in(layer.input_size)
    fan_rec = fanout(layer.w_hh) + gate.fanout_rec()
    return fan_in, fan_rec


def _check_spikes(graph: EventGraph, gate_spikes: dict, b: int | None, t: int | None):
    out = {}
    for layer in graph.layers:
        if layer.name not in gate_spikes:
            raise ValueError(f"gate_spikes: missing layer '{layer.name}'")
        g = np.asarray(gate_spikes[layer.name])
        if g.ndim != 3 or g.shape[2] != layer.hidden_size or (b is not None and g.shape[0] != b) or (
            t is not None and g.shape[1] != t
        ):
            raise ValueError(
                f"gate_spikes['{layer.name}']: expected (B={b}, T={t}, H={layer.hidden_size}), got {g.shape}"
            )
        out[layer.name] = g.astype(bool, copy=False)
        b = g.shape[0]  # every layer has the same batch
    return out


def count_trace_fields(graph: EventGraph, x: np.ndarray, gate_spikes: dict) -> dict:
    """The five count arrays of a Trace, each ``(N, T)`` int64, N = ``len(graph.node_names)``.

    ``x: (B, T, V)`` the network input (values as given to the input node, before encoding);
    ``gate_spikes[layer]: (B, T, H)`` bool. Summed over the batch.
    """
    x = graph.check_input(x)
    n_b, n_t, _ = x.shape
    spikes = _check_spikes(graph, gate_spikes, n_b, n_t)
    n = len(graph.node_names)
    counts = {name: np.zeros((n, n_t), dtype=np.int64) for name in COUNT_FIELDS}

    mask, values = input_events(x, graph.input.encoding)
    counts["events"][0] = mask.sum(axis=(0, 2))
    sent = mask.astype(np.int64)  # events arriving at the next layer, (B, T, V)
    sent_ac = (mask & is_ac_value(values)).astype(np.int64)

    for row, layer in enumerate(graph.layers, start=1):
        if not getattr(type(layer), "gated", True):
            # spiking layer (docs/semantics.md §5): events = output spikes (binary: ACs), every
            # neuron updates every step, dense = H·V (+ H·H if recurrent) MACs per sample and step
            fan_in, fan_rec = layer_fanouts(graph, layer.name)
            z = spikes[layer.name].astype(np.int64)
            h = layer.hidden_size
            counts["events"][row] = z.sum(axis=(0, 2))
            counts["neuron_updates"][row] = n_b * h
            counts["synaptic_ops"][row] = (sent @ fan_in + z @ fan_rec).sum(axis=0)
            counts["ac_ops"][row] = (sent_ac @ fan_in + z @ fan_rec).sum(axis=0)
            sent = z
            sent_ac = z  # binary spikes: every op an AC
            continue
        fan_in, fan_rec = layer_fanouts(graph, layer.name)
        g = spikes[layer.name].astype(np.int64)
        counts["events"][row] = g.sum(axis=(0, 2))
        counts["neuron_updates"][row] = counts["events"][row]
        counts["synaptic_ops"][row] = (sent @ fan_in + g @ fan_rec).sum(axis=0)
        counts["ac_ops"][row] = (sent_ac @ fan_in).sum(axis=0)
        sent = g
        sent_ac = np.zeros_like(g)  # delta events are graded

    ro = graph.readout
    counts["synaptic_ops"][-1] = (sent @ fanout(ro.weight)).sum(axis=0)
    counts["ac_ops"][-1] = (sent_ac @ fanout(ro.weight)).sum(axis=0)  # 0 after delta events (graded)
    fill_dense_macs(counts["dense_macs"], graph, n_b)
    return counts


def fill_dense_macs(dense_macs: np.ndarray, graph: EventGraph, n_b: int) -> None:
    """Fill the ``(N, T)`` dense-MAC counts of a batch of ``n_b`` in place: every layer row every
    step (:func:`layer_dense_macs`, spiking ``H·V`` (+ ``H·H``)); the readout ``O·H`` every step, or
    only at the last step for a ``last`` readout (docs/semantics.md §4)."""
    for row, layer in enumerate(graph.layers, start=1):
        if getattr(type(layer), "gated", True):
            dense_macs[row] = n_b * layer_dense_macs(layer, graph.gate_of(layer.name))
        else:
            dense_macs[row] = n_b * _spiking_dense_macs(layer)
    ro = graph.readout
    macs = n_b * ro.output_size * ro.input_size
    if ro.mode == "last":
        dense_macs[-1, -1] = macs
    else:
        dense_macs[-1] = macs


def connection_sparsity(graph: EventGraph) -> float:
    """Fraction of zero weights over the graph's synapse matrices (NeuroBench's ConnectionSparsity:
    zeros / weights of its connection layers; biases are not synapses): per selective-update layer
    ``W_ih``, ``W_hh`` and each gate synapse (its stored entries: a diagonal ``w_self`` counts H),
    per spiking layer ``weight`` and ``w_rec`` (if it has a non-zero weight), and ``W_o``.

    >>> from surnn_neuro.ir.examples import random_graph
    >>> 0.0 <= connection_sparsity(random_graph(seed=1)) < 1.0
    True
    """
    zeros = entries = 0
    for layer in graph.layers:
        if getattr(type(layer), "gated", True):
            mats = [layer.w_ih, layer.w_hh] + [getattr(graph.gate_of(layer.name), syn.field)
                                               for syn in graph.gate_of(layer.name).synapses()]
        else:
            mats = [layer.weight] + ([layer.w_rec] if layer.recurrent else [])
        for m in mats:
            m = np.asarray(m)
            zeros += int(m.size - np.count_nonzero(m))
            entries += int(m.size)
    w = np.asarray(graph.readout.weight)
    zeros += int(w.size - np.count_nonzero(w))
    entries += int(w.size)
    return zeros / entries


def flops_per_sequence(graph: EventGraph, gate_spikes: dict, n_steps: int) -> np.ndarray:
    """SA-RNN FLOPs (multiplications to compute the new states, gate networks included) of each
    sequence: ``(B,)`` int64, summed over layers and steps (take ``.mean()`` for the paper's number).

    Per layer, step and sample: ``updated · m_cell + gate_mults`` with ``m_cell`` = ``3(V+H) + 3``
    (gru), ``V + H`` (rnn), ``4(V+H) + 3`` (lstm) and ``gate_mults`` = ``H·K`` (oscillator),
    ``H·(V+1)`` (threshold), ``H`` at each step where the global gate updated (``Δũ = σ(w·h_t + b)``
    is needed only then), 0 (schedule, always). The readout is not counted.
    """
    spikes = _check_spikes(graph, gate_spikes, None, n_steps)
    total = None
    for layer in graph.layers:
        if not getattr(type(layer), "gated", True):
            # spiking layer: two multiplications per neuron and step (the decays of û and v̂);
            # binary spikes make the synaptic work additions
            n_b = spikes[layer.name].shape[0]
            f = np.full(n_b, 2 * layer.hidden_size * n_steps, dtype=np.int64)
            total = f if total is None else total + f
            continue
        gate = graph.gate_of(layer.name)
        v, h = layer.input_size, layer.hidden_size
        updated = spikes[layer.name].sum(axis=2, dtype=np.int64)  # (B, T)
        f = updated * layer.spec.flops(v, h) + gate.flops(v, updated)
        f = f.sum(axis=1)
        total = f if total is None else total + f
    return total.astype(np.int64)
