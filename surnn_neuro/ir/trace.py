"""The Trace: what every simulator returns, and all that metrics and energy read.

Counts follow docs/semantics.md §4: one row per graph node (in ``node_names`` order: the input, the
layers, the readout), one column per time step, **summed over the batch** (divide by ``n_samples``
for per-inference numbers).

Fields
------
backend : str
    Which simulator produced it ("reference", "snntorch", "norse", "lava", "lava-fixed", "dense", "torch").
node_names : tuple[str, ...]
    Names of the graph nodes the count rows refer to.
layer_names : tuple[str, ...]
    Names of the selective-update layers, in order (keys of ``gate_spikes``).
outputs : ndarray, float64
    Readout, ``(B, O)`` for readout modes ``last``/``mean``, ``(B, T, O)`` for ``all``.
gate_spikes : dict[str, ndarray]
    Per layer, ``(B, T, H)`` bool: gate neuron i of that layer spiked at step t in sample b.
events : ndarray (N, T) int64
    Input events (input node) or delta events (layers) sent at each step.
synaptic_ops : ndarray (N, T) int64
    Synaptic operations triggered by the events sent at each step, attributed to the receiving node.
ac_ops : ndarray (N, T) int64
    The part of ``synaptic_ops`` whose triggering event value lies in {-1, 0, 1} (NeuroBench's AC
    rule: binary/ternary spikes); the rest are MACs.
neuron_updates : ndarray (N, T) int64
    State neurons whose candidate was computed (their gate spiked).
dense_macs : ndarray (N, T) int64
    Multiply-accumulates a dense (always-update, non-event) execution of the same graph would do.
n_samples : int
    Batch size B the counts are summed over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

COUNT_FIELDS = ("events", "synaptic_ops", "ac_ops", "neuron_updates", "dense_macs")


@dataclass(frozen=True, eq=False)
class Trace:
    """Outputs, gate spikes and per-node, per-step counts of one simulation (see module doc)."""

    backend: str
    node_names: tuple
    layer_names: tuple
    outputs: np.ndarray
    gate_spikes: dict
    events: np.ndarray
    synaptic_ops: np.ndarray
    ac_ops: np.ndarray
    neuron_updates: np.ndarray
    dense_macs: np.ndarray
    n_samples: int
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.node_names)
        if self.n_samples < 1:
            raise ValueError(f"Trace.n_samples: must be >= 1, got {self.n_samples}")
        shapes = {name: np.shape(getattr(self, name)) for name in COUNT_FIELDS}
        first = shapes["events"]
        if len(first) != 2 or first[0] != n:
            raise ValueError(f"Trace.events: expected shape (len(node_names)={n}, T), got {first}")
        for name, shape in shapes.items():
            if shape != first:
                raise ValueError(f"Trace.{name}: shape {shape} differs from events {first}")
        if set(self.gate_spikes) != set(self.layer_names):
            raise ValueError(
                f"Trace.gate_spikes: keys {sorted(self.gate_spikes)} != layer_names {list(self.layer_names)}"
            )
        for name, g in self.gate_spikes.items():
            if g.ndim != 3 or g.shape[0] != self.n_samples or g.shape[1] != first[1]:
                raise ValueError(
                    f"Trace.gate_spikes[{name!r}]: expected (B={self.n_samples}, T={first[1]}, H), got {g.shape}"
                )

    @property
    def n_steps(self) -> int:
        """Number of time steps T."""
        return int(self.events.shape[1])

    def total(self, name: str, per_sample: bool = False) -> float:
        """Sum of a count field over nodes and steps (divided by ``n_samples`` if ``per_sample``)."""
        if name not in COUNT_FIELDS:
            raise ValueError(f"unknown count {name!r}; known: {', '.join(COUNT_FIELDS)}")
        s = int(np.asarray(getattr(self, name)).sum())
        return s / self.n_samples if per_sample else s

    def update_rate(self) -> float:
        """Fraction of (sample, step, neuron) gate slots that spiked, over all layers."""
        spikes = sum(int(g.sum()) for g in self.gate_spikes.values())
        slots = sum(g.size for g in self.gate_spikes.values())
        return spikes / slots if slots else 0.0


def traces_equal(a: Trace, b: Trace, outputs_atol: float = 0.0) -> bool:
    """Same backend-independent content: names, batch size, gate spikes and counts exactly, outputs
    within ``outputs_atol`` (0: identical). ``backend`` and ``metadata`` are compared too."""
    if (a.backend, tuple(a.node_names), tuple(a.layer_names), a.n_samples, a.metadata) != (
        b.backend, tuple(b.node_names), tuple(b.layer_names), b.n_samples, b.metadata
    ):
        return False
    if np.shape(a.outputs) != np.shape(b.outputs) or not np.allclose(a.outputs, b.outputs, rtol=0, atol=outputs_atol):
        return False
    if any(not np.array_equal(a.gate_spikes[k], b.gate_spikes[k]) for k in a.layer_names):
        return False
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in COUNT_FIELDS)
