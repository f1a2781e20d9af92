"""Event counts, NeuroBench-style synaptic ops and energy estimates (numpy only, no torch).

- :mod:`~surnn_neuro.metrics.profiles`: ``EnergyProfile``, the built-in ``PROFILES`` with citations,
  ``load_profile_file`` for user profiles (TOML / JSON).
- :mod:`~surnn_neuro.metrics.counts`: ``inference_counts`` (SynapticOperations, ActivationSparsity,
  Footprint and our own names, per inference) and ``per_node_counts``.
- :mod:`~surnn_neuro.metrics.energy`: ``estimate`` (event-driven or dense execution, optionally
  memory-inclusive) → ``EnergyEstimate``, always labelled an estimate.
- :mod:`~surnn_neuro.metrics.cli`: ``energy_report`` behind ``surnn-neuro energy``.

The energy model, every constant and its source: docs/energy.md.
"""

from surnn_neuro.metrics.counts import COUNT_DOCS, inference_counts, per_node_counts
from surnn_neuro.metrics.energy import (
    EnergyEstimate,
    estimate,
    estimate_both,
    estimate_dense,
    format_energy,
)
from surnn_neuro.metrics.profiles import (
    PROFILES,
    EnergyProfile,
    get_profile,
    load_profile_file,
    profile_from_dict,
)

__all__ = [
    "COUNT_DOCS",
    "EnergyEstimate",
    "EnergyProfile",
    "PROFILES",
    "estimate",
    "estimate_both",
    "estimate_dense",
    "format_energy",
    "get_profile",
    "inference_counts",
    "load_profile_file",
    "per_node_counts",
    "profile_from_dict",
]
