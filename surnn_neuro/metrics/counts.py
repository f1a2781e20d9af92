"""Per-inference operation counts from a :class:`~surnn_neuro.ir.trace.Trace`, NeuroBench names first.

A trace holds per-node, per-step counts **summed over the batch** (docs/semantics.md §4); every
number here is divided by ``trace.n_samples`` ("per inference" = per sample).

Names (``COUNT_DOCS`` holds the same text, for tables and the CLI):

NeuroBench-compatible (NeuroBench 2.3.0 definitions, reference/neuromorphic_facts.md §4)
    ``SynapticOperations`` : dict
        ``Effective_MACs`` = synaptic_ops − ac_ops (ops triggered by graded events),
        ``Effective_ACs`` = ac_ops (ops triggered by events in {−1, 0, 1}: NeuroBench's AC rule),
        ``Dense`` = dense_macs (what an always-update, non-event execution does).
    ``ActivationSparsity`` : float
        1 − (gate spikes / gate slots) over all layers: the gate neurons are the activation modules.
    ``Footprint`` : float, bytes (only if the parameter count is given)
        n_params · bytes_per_param (fp32: 4), NeuroBench's Σ numel·element_size.

Our own
    ``synaptic_ops``  all synaptic ops (= Effective_MACs + Effective_ACs).
    ``gate_spikes``   gate spikes over all layers (= neurons whose gate opened).
    ``delta_events``  events sent by the layers (one per gate spike, §3).
    ``input_events``  events sent by the other nodes (the input; the readout sends none).
    ``events``        delta_events + input_events.
    ``neuron_updates``    neurons whose candidate was computed (= gate spikes).
    ``inactive_updates``  state slots not updated: Σ_layers T·H − neuron_updates.
    ``state_slots``       Σ_layers T·H (what a dense execution updates).
    ``update_rate``       gate_spikes / state_slots (SA-RNN's update rate; Skip % = 1 − rate).
    ``weight_fetches``    memory-inclusive count: one weight fetch per synaptic op.
    ``dense_weight_fetches``  one weight fetch per dense MAC (memory-inclusive dense execution).
    ``n_steps``           T.

>>> import numpy as np
>>> from surnn_neuro.ir.trace import Trace
>>> z = np.zeros((3, 2), dtype=np.int64)
>>> t = Trace("reference", ("input", "l1", "readout"), ("l1",), np.zeros((1, 1)),
...           {"l1": np.array([[[1, 0], [1, 1]]], dtype=bool)},
...           events=np.array([[2, 2], [1, 2], [0, 0]]), synaptic_ops=np.array([[0, 0], [8, 12], [1, 2]]),
...           ac_ops=np.array([[0, 0], [4, 4], [0, 0]]), neuron_updates=np.array([[0, 0], [1, 2], [0, 0]]),
...           dense_macs=np.array([[0, 0], [12, 12], [2, 2]]), n_samples=1)
>>> c = inference_counts(t)
>>> c["SynapticOperations"], c["ActivationSparsity"], c["inactive_updates"]
({'Effective_MACs': 15.0, 'Effective_ACs': 8.0, 'Dense': 28.0}, 0.25, 1.0)
"""

from __future__ import annotations

import numpy as np

#: Every name :func:`inference_counts` returns, with its definition.
COUNT_DOCS = {
    "SynapticOperations.Effective_MACs": "synaptic ops triggered by graded events (synaptic_ops - ac_ops)",
    "SynapticOperations.Effective_ACs": "synaptic ops triggered by events in {-1, 0, 1} (NeuroBench AC rule)",
    "SynapticOperations.Dense": "MACs of an always-update, non-event execution (dense_macs)",
    "ActivationSparsity": "1 - fraction of gate slots that spiked, over all layers",
    "Footprint": "parameter bytes: n_params * bytes_per_param (only when n_params is given)",
    "synaptic_ops": "all synaptic ops (Effective_MACs + Effective_ACs)",
    "gate_spikes": "gate spikes over all layers",
    "delta_events": "delta events sent by the layers (one per gate spike)",
    "input_events": "events sent by the non-layer nodes (the input)",
    "events": "delta_events + input_events",
    "neuron_updates": "neurons whose candidate state was computed",
    "inactive_updates": "state slots not updated (state_slots - neuron_updates)",
    "state_slots": "sum over layers of T * H",
    "update_rate": "gate_spikes / state_slots",
    "weight_fetches": "memory-inclusive count: one weight fetch per synaptic op",
    "dense_weight_fetches": "one weight fetch per dense MAC",
    "n_steps": "time steps T",
}

#: Keys of the per-node rows returned by :func:`per_node_counts`.
NODE_COUNT_NAMES = (
    "events", "synaptic_ops", "Effective_ACs", "Effective_MACs", "Dense",
    "neuron_updates", "inactive_updates", "state_slots", "update_rate",
)


def layer_rows(trace) -> dict:
    """Map each layer name to its row in the count arrays (``trace.node_names`` order).

    Raises ValueError if a layer of ``trace.layer_names`` is not a node.
    """
    index = {name: i for i, name in enumerate(trace.node_names)}
    rows = {}
    for name in trace.layer_names:
        if name not in index:
            raise ValueError(
                f"Trace: layer {name!r} is not among node_names ({', '.join(map(str, trace.node_names))})"
            )
        rows[name] = index[name]
    return rows


def _inactive_per_node(trace) -> tuple[np.ndarray, np.ndarray]:
    """(inactive slots, state slots) per node and step, ``(N, T)``, summed over the batch."""
    updates = np.asarray(trace.neuron_updates, dtype=np.int64)
    slots = np.zeros_like(updates)
    for name, row in layer_rows(trace).items():
        g = trace.gate_spikes[name]
        slots[row, :] = g.shape[0] * g.shape[2]  # B·H slots per step
    inactive = slots - updates
    if (inactive < 0).any():
        node, t = np.argwhere(inactive < 0)[0]
        raise ValueError(
            f"Trace: node {trace.node_names[node]!r} has more neuron updates than state slots at step {t}"
        )
    return inactive, slots


def per_node_counts(trace) -> dict:
    """Per-inference counts per graph node: ``{node_name: {name: value}}`` (names in NODE_COUNT_NAMES).

    ``update_rate`` is None for nodes that are not layers.
    """
    n = trace.n_samples
    inactive, slots = _inactive_per_node(trace)
    layers = set(trace.layer_names)
    out = {}
    for i, name in enumerate(trace.node_names):
        syn = int(np.asarray(trace.synaptic_ops)[i].sum())
        ac = int(np.asarray(trace.ac_ops)[i].sum())
        upd = int(np.asarray(trace.neuron_updates)[i].sum())
        s = int(slots[i].sum())
        out[name] = {
            "events": int(np.asarray(trace.events)[i].sum()) / n,
            "synaptic_ops": syn / n,
            "Effective_ACs": ac / n,
            "Effective_MACs": (syn - ac) / n,
            "Dense": int(np.asarray(trace.dense_macs)[i].sum()) / n,
            "neuron_updates": upd / n,
            "inactive_updates": int(inactive[i].sum()) / n,
            "state_slots": s / n,
            "update_rate": (upd / s if s else 0.0) if name in layers else None,
        }
    return out


def inference_counts(trace, n_params: int | None = None, bytes_per_param: int = 4) -> dict:
    """NeuroBench-compatible counts per inference, plus our own (see the module doc for every name).

    Parameters
    ----------
    trace : Trace
        Counts summed over ``trace.n_samples`` samples.
    n_params : int, optional
        Parameter count of the graph; adds ``Footprint`` = n_params · bytes_per_param (bytes).
    bytes_per_param : int
        4 for fp32 weights, 1 for int8.
    """
    n = trace.n_samples
    rows = layer_rows(trace)
    layer_idx = sorted(rows.values())
    other_idx = [i for i in range(len(trace.node_names)) if i not in rows.values()]
    events = np.asarray(trace.events, dtype=np.int64)
    syn = int(np.asarray(trace.synaptic_ops, dtype=np.int64).sum())
    ac = int(np.asarray(trace.ac_ops, dtype=np.int64).sum())
    dense = int(np.asarray(trace.dense_macs, dtype=np.int64).sum())
    updates = int(np.asarray(trace.neuron_updates, dtype=np.int64).sum())
    spikes = sum(int(g.sum()) for g in trace.gate_spikes.values())
    slots = sum(int(g.size) for g in trace.gate_spikes.values())
    inactive, _ = _inactive_per_node(trace)
    delta = int(events[layer_idx].sum()) if layer_idx else 0
    inp = int(events[other_idx].sum()) if other_idx else 0
    rate = spikes / slots if slots else 0.0
    counts = {
        "SynapticOperations": {"Effective_MACs": (syn - ac) / n, "Effective_ACs": ac / n, "Dense": dense / n},
        "ActivationSparsity": 1.0 - rate,
    }
    if n_params is not None:
        if isinstance(n_params, bool) or int(n_params) != n_params or n_params < 0:
            raise ValueError(f"inference_counts: n_params must be an integer >= 0, got {n_params!r}")
        if bytes_per_param <= 0:
            raise ValueError(f"inference_counts: bytes_per_param must be > 0, got {bytes_per_param!r}")
        counts["Footprint"] = float(int(n_params) * bytes_per_param)
    counts.update(
        synaptic_ops=syn / n,
        gate_spikes=spikes / n,
        delta_events=delta / n,
        input_events=inp / n,
        events=(delta + inp) / n,
        neuron_updates=updates / n,
        inactive_updates=int(inactive.sum()) / n,
        state_slots=slots / n,
        update_rate=rate,
        weight_fetches=syn / n,
        dense_weight_fetches=dense / n,
        n_steps=trace.n_steps,
    )
    return counts


def flatten_counts(counts: dict) -> dict:
    """``{"SynapticOperations": {"Dense": x}}`` → ``{"SynapticOperations.Dense": x}`` (for tables)."""
    flat = {}
    for k, v in counts.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                flat[f"{k}.{k2}"] = v2
        else:
            flat[k] = v
    return flat
