"""Energy per inference: op counts × per-op energies of a profile. Always an **estimate**.

Event-driven execution (what the trace did; counts per inference, energies in pJ):

    E_event = events·e_spike + Effective_ACs·e_ac + Effective_MACs·e_mac
              + neuron_updates·e_neuron_update_active + inactive_updates·e_neuron_update_inactive
              [+ synaptic_ops·e_weight_fetch]                                   (memory=True)

Dense execution of the same graph (a GPU/CPU-style run: every synapse, every neuron, every step,
no events; the natural baseline for the ``cmos45_*`` profiles):

    E_dense = Dense·e_mac + state_slots·e_neuron_update_active
              [+ Dense·e_weight_fetch]                                          (memory=True)

Count names are those of :func:`surnn_neuro.metrics.counts.inference_counts`.

>>> from surnn_neuro.metrics.profiles import get_profile
>>> counts = {"SynapticOperations": {"Effective_MACs": 10.0, "Effective_ACs": 0.0, "Dense": 100.0},
...           "events": 2.0, "neuron_updates": 2.0, "inactive_updates": 6.0, "state_slots": 8.0,
...           "synaptic_ops": 10.0, "weight_fetches": 10.0, "dense_weight_fetches": 100.0}
>>> e = estimate(counts, "cmos45_fp32")            # 10·4.6 + 2·29.4 = 46 + 58.8
>>> round(e.total_pJ, 9), e.label
(104.8, 'estimate')
>>> round(estimate(counts, "cmos45_fp32", execution="dense").total_pJ, 9)   # 100·4.6 + 8·29.4
695.2
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from surnn_neuro.metrics.counts import inference_counts, per_node_counts
from surnn_neuro.metrics.profiles import EnergyProfile, get_profile

#: Execution modes of :func:`estimate`.
EXECUTIONS = ("event", "dense")

#: Breakdown components: name → (count name, profile field), per execution mode.
COMPONENTS = {
    "event": (
        ("spikes", "events", "e_spike"),
        ("synaptic_ACs", "Effective_ACs", "e_ac"),
        ("synaptic_MACs", "Effective_MACs", "e_mac"),
        ("neuron_updates_active", "neuron_updates", "e_neuron_update_active"),
        ("neuron_updates_inactive", "inactive_updates", "e_neuron_update_inactive"),
    ),
    "dense": (
        ("dense_MACs", "Dense", "e_mac"),
        ("neuron_updates_active", "state_slots", "e_neuron_update_active"),
    ),
}
#: Memory-inclusive extra component per execution mode.
MEMORY_COMPONENT = {
    "event": ("weight_fetches", "weight_fetches", "e_weight_fetch"),
    "dense": ("weight_fetches", "dense_weight_fetches", "e_weight_fetch"),
}

ESTIMATE_LABEL = "estimate"
UNITS = "pJ per inference"


@dataclass(frozen=True)
class EnergyEstimate:
    """Estimated energy per inference of one trace on one profile.

    Fields
    ------
    profile, profile_label, citation : str
        Which constants were used and where they come from.
    execution : str
        ``"event"`` (event-driven, what the trace did) or ``"dense"`` (always-update execution).
    memory : bool
        Whether one weight fetch per synaptic op (dense: per MAC) is included.
    total_pJ : float
        Energy per inference, pJ (= sum of ``breakdown``).
    breakdown : dict[str, float]
        pJ per inference per component (see ``COMPONENTS``).
    per_node : dict[str, float] or None
        pJ per inference per graph node (when estimated from a Trace).
    is_proxy, unconfirmed : bool
        Copied from the profile.
    label : str
        Always ``"estimate"``: these are not measurements.
    units : str
        ``"pJ per inference"``.
    """

    profile: str
    profile_label: str
    citation: str
    execution: str
    memory: bool
    total_pJ: float
    breakdown: dict
    per_node: dict | None = None
    is_proxy: bool = False
    unconfirmed: bool = False
    label: str = ESTIMATE_LABEL
    units: str = UNITS
    counts_used: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.execution not in EXECUTIONS:
            raise ValueError(f"EnergyEstimate.execution: unknown {self.execution!r}; known: {', '.join(EXECUTIONS)}")
        if self.label != ESTIMATE_LABEL:
            raise ValueError(f"EnergyEstimate.label: must be {ESTIMATE_LABEL!r} (got {self.label!r})")
        if not math.isfinite(self.total_pJ) or self.total_pJ < 0:
            raise ValueError(f"EnergyEstimate.total_pJ: must be finite and >= 0, got {self.total_pJ!r}")
        s = sum(self.breakdown.values())
        if abs(s - self.total_pJ) > 1e-9 * max(1.0, abs(self.total_pJ)):
            raise ValueError(f"EnergyEstimate.breakdown: sums to {s}, not total_pJ = {self.total_pJ}")

    def to_dict(self) -> dict:
        """JSON-ready dict, labelled ``"label": "estimate"``."""
        return {
            "label": self.label,
            "units": self.units,
            "profile": self.profile,
            "profile_label": self.profile_label,
            "citation": self.citation,
            "is_proxy": self.is_proxy,
            "unconfirmed": self.unconfirmed,
            "execution": self.execution,
            "memory": self.memory,
            "total_pJ": self.total_pJ,
            "breakdown_pJ": dict(self.breakdown),
            "per_node_pJ": None if self.per_node is None else dict(self.per_node),
            "counts_used": dict(self.counts_used),
        }


def _flat_counts(counts: Mapping) -> dict:
    flat = {k: v for k, v in counts.items() if not isinstance(v, Mapping)}
    syn = counts.get("SynapticOperations", {})
    if not isinstance(syn, Mapping):
        raise ValueError("counts['SynapticOperations'] must be a dict with Effective_MACs, Effective_ACs, Dense")
    flat.update(syn)
    return flat


def _needed(execution: str, memory: bool):
    comps = list(COMPONENTS[execution])
    if memory:
        comps.append(MEMORY_COMPONENT[execution])
    return comps


def _components(flat: Mapping, profile: EnergyProfile, execution: str, memory: bool, where: str) -> dict:
    out = {}
    for comp, count_name, energy_field in _needed(execution, memory):
        if count_name not in flat:
            raise ValueError(f"{where}: count {count_name!r} missing (needed for the {execution} estimate)")
        n = flat[count_name]
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n < 0:
            raise ValueError(f"{where}: count {count_name!r} must be a finite number >= 0, got {n!r}")
        out[comp] = float(n) * getattr(profile, energy_field)
    return out


def estimate(source, profile, memory: bool = False, execution: str = "event") -> EnergyEstimate:
    """Estimated energy per inference (pJ) of a Trace or a counts dict on one profile.

    Parameters
    ----------
    source : Trace or dict
        A :class:`~surnn_neuro.ir.trace.Trace`, or the dict of
        :func:`~surnn_neuro.metrics.counts.inference_counts` (per inference).
    profile : EnergyProfile or str
        A profile or the name of a built-in one.
    memory : bool
        Add one weight fetch per synaptic op (dense: per MAC) at ``profile.e_weight_fetch``.
    execution : {"event", "dense"}
        Event-driven (the counts of the trace) or dense execution of the same graph (module doc).
    """
    if execution not in EXECUTIONS:
        raise ValueError(f"unknown execution {execution!r}; known: {', '.join(EXECUTIONS)}")
    profile = get_profile(profile)
    per_node = None
    if isinstance(source, Mapping):
        flat = _flat_counts(source)
    else:
        flat = _flat_counts(inference_counts(source))
        per_node = {
            name: sum(_components(c, profile, execution, memory, f"node {name!r}").values())
            for name, c in _per_node_flat(source).items()
        }
    comps = _components(flat, profile, execution, memory, "counts")
    return EnergyEstimate(
        profile=profile.name,
        profile_label=profile.label,
        citation=profile.citation,
        execution=execution,
        memory=bool(memory),
        total_pJ=sum(comps.values()),
        breakdown=comps,
        per_node=per_node,
        is_proxy=profile.is_proxy,
        unconfirmed=profile.unconfirmed,
        counts_used={c: float(flat[c]) for _, c, _ in _needed(execution, memory)},
    )


def _per_node_flat(trace) -> dict:
    """Per-node counts under the names the components use."""
    out = {}
    for name, c in per_node_counts(trace).items():
        out[name] = {
            **c,
            "weight_fetches": c["synaptic_ops"],
            "dense_weight_fetches": c["Dense"],
        }
    return out


def estimate_dense(source, profile, memory: bool = False) -> EnergyEstimate:
    """Dense-execution estimate: ``estimate(source, profile, memory, execution="dense")``."""
    return estimate(source, profile, memory=memory, execution="dense")


def estimate_both(source, profile, memory: bool = False) -> tuple[EnergyEstimate, EnergyEstimate]:
    """(event-driven, dense-execution) estimates of the same trace or counts on one profile."""
    return estimate(source, profile, memory, "event"), estimate(source, profile, memory, "dense")


def format_energy(pj: float, digits: int = 3) -> str:
    """Energy in pJ as a short string with an SI prefix and ``digits`` significant digits.

    >>> format_energy(4.6), format_energy(23600.0), format_energy(1.234567e9), format_energy(0.03)
    ('4.60 pJ', '23.6 nJ', '1.23 mJ', '30.0 fJ')
    >>> format_energy(0.0)
    '0 pJ'
    """
    if pj == 0:
        return "0 pJ"
    if not math.isfinite(pj):
        return f"{pj} pJ"
    units = (("fJ", 1e-3), ("pJ", 1.0), ("nJ", 1e3), ("µJ", 1e6), ("mJ", 1e9), ("J", 1e12))
    a = abs(pj)
    unit, scale = units[0]
    for u, s in units:
        if a >= s * (1 - 0.5 * 10 ** (-digits)):
            unit, scale = u, s
    v = pj / scale
    # significant digits without exponent notation: 4.60, 23.6, 123
    # rounding may carry to the next power of ten (999.6 -> 1000): then move to the next prefix
    r = float(f"{v:.{digits}g}")
    if abs(r) >= 1000 and unit != "J":
        idx = [u for u, _ in units].index(unit)
        unit, scale = units[idx + 1]
        r = float(f"{pj / scale:.{digits}g}")
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(r))))) if r else 0
    return f"{r:.{decimals}f} {unit}"
