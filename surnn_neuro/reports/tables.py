"""Energy-per-inference tables (markdown and JSON) for several models against the dense GRU.

Input: a list of **records**, plain mappings with

    model     str, required (e.g. "sugru", "gru")
    trace     a Trace, or
    counts    the dict of surnn_neuro.metrics.counts.inference_counts (e.g. read back from JSON)
    accuracy  float in [0, 1], optional (task metric)
    lambda    float, optional (update budget λ of the run)
    label     str, optional (row name; default "model (λ=…)" or the model)

Every energy is an estimate (pJ per inference) from :func:`surnn_neuro.metrics.energy.estimate`:
each record is costed **event-driven** (what its trace did), and the reference (default the
record with model "gru") is also costed by **dense execution**, E = Dense·e_mac + state slots·
e_active: the always-update GRU as a CPU/GPU runs it. Ratios are model / dense reference.

>>> from surnn_neuro.metrics.profiles import get_profile
>>> c = {"SynapticOperations": {"Effective_MACs": 10.0, "Effective_ACs": 0.0, "Dense": 100.0},
...      "events": 2.0, "neuron_updates": 2.0, "inactive_updates": 6.0, "state_slots": 8.0,
...      "synaptic_ops": 10.0, "weight_fetches": 10.0, "dense_weight_fetches": 100.0, "update_rate": 0.25}
>>> g = dict(c, SynapticOperations={"Effective_MACs": 100.0, "Effective_ACs": 0.0, "Dense": 100.0},
...          neuron_updates=8.0, inactive_updates=0.0, update_rate=1.0)
>>> t = energy_table([{"model": "sugru", "counts": c, "accuracy": 0.9, "lambda": 0.1},
...                   {"model": "gru", "counts": g, "accuracy": 0.92}], profiles=["cmos45_fp32"])
>>> print(markdown_table(t).splitlines()[4])
| sugru (λ=0.1) | 90.0% | 25.0% | 105 pJ (0.151×) |
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from surnn_neuro.fileio import write_json_atomic, write_text_atomic
from surnn_neuro.metrics.counts import inference_counts
from surnn_neuro.metrics.energy import ESTIMATE_LABEL, UNITS, estimate, format_energy
from surnn_neuro.metrics.profiles import PROFILES, get_profile

RECORD_KEYS = ("model", "trace", "counts", "accuracy", "lambda", "label", "n_params")


def record_label(record: Mapping) -> str:
    """Row name of a record: its ``label``, else ``model (λ=…)``, else the model."""
    if record.get("label"):
        return str(record["label"])
    lam = record.get("lambda")
    return f"{record['model']} (λ={lam:g})" if lam is not None else str(record["model"])


def record_counts(record: Mapping) -> dict:
    """The per-inference counts of a record (computed from its trace if it has no ``counts``)."""
    if record.get("counts") is not None:
        return dict(record["counts"])
    if record.get("trace") is not None:
        return inference_counts(record["trace"], n_params=record.get("n_params"))
    raise ValueError(f"record {record_label(record)!r}: needs a 'trace' or 'counts'")


def _check_records(records) -> list:
    records = list(records)
    if not records:
        raise ValueError("energy_table: no records")
    for r in records:
        if not isinstance(r, Mapping) or "model" not in r:
            raise ValueError(f"energy_table: each record is a mapping with a 'model', got {r!r}")
        unknown = set(r) - set(RECORD_KEYS)
        if unknown:
            raise ValueError(
                f"record {record_label(r)!r}: unknown keys {sorted(unknown)}; known: {', '.join(RECORD_KEYS)}"
            )
        acc = r.get("accuracy")
        if acc is not None and not (0.0 <= acc <= 1.0):
            raise ValueError(f"record {record_label(r)!r}: accuracy is a fraction in [0, 1], got {acc!r}")
    labels = [record_label(r) for r in records]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise ValueError(f"energy_table: duplicate row labels {sorted(dup)}; give records a 'label'")
    return records


def energy_table(records, profiles=None, reference: str | None = "gru", memory: bool = False) -> dict:
    """JSON-ready table of estimated energy per inference, per record and profile.

    Parameters
    ----------
    records : list of mappings
        See the module doc.
    profiles : list of str or EnergyProfile, optional
        Default: every built-in profile.
    reference : str or None
        ``model`` of the dense baseline record (exactly one record); None: no reference, no ratios.
    memory : bool
        Memory-inclusive estimates (one weight fetch per synaptic op / per dense MAC).

    Returns a dict: ``label`` ("estimate"), ``units``, ``memory``, ``profiles`` (name, label,
    citation, flags), ``rows`` (label, model, lambda, accuracy, update_rate, energy_pJ and
    ratio_to_reference per profile name), ``reference`` (label, accuracy, energy_pJ per profile
    name of the dense execution) or None.
    """
    records = _check_records(records)
    profs = [get_profile(p) for p in (list(PROFILES) if profiles is None else profiles)]
    ref_energy = None
    ref_entry = None
    if reference is not None:
        refs = [r for r in records if r["model"] == reference]
        if len(refs) != 1:
            known = ", ".join(sorted({str(r["model"]) for r in records}))
            raise ValueError(
                f"energy_table: expected exactly one record with model {reference!r} as the dense "
                f"reference, found {len(refs)}; models: {known}"
            )
        ref_counts = record_counts(refs[0])
        ref_energy = {p.name: estimate(ref_counts, p, memory=memory, execution="dense").total_pJ for p in profs}
        ref_entry = {
            "label": f"{record_label(refs[0])} (dense execution)",
            "model": refs[0]["model"],
            "accuracy": refs[0].get("accuracy"),
            "update_rate": 1.0,
            "execution": "dense",
            "energy_pJ": ref_energy,
        }
    rows = []
    for r in records:
        counts = record_counts(r)
        energy = {p.name: estimate(counts, p, memory=memory, execution="event").total_pJ for p in profs}
        ratio = None
        if ref_energy is not None:
            ratio = {k: (v / ref_energy[k] if ref_energy[k] > 0 else None) for k, v in energy.items()}
        rows.append({
            "label": record_label(r),
            "model": r["model"],
            "lambda": r.get("lambda"),
            "accuracy": r.get("accuracy"),
            "update_rate": counts.get("update_rate"),
            "execution": "event",
            "energy_pJ": energy,
            "ratio_to_reference": ratio,
        })
    return {
        "label": ESTIMATE_LABEL,
        "units": UNITS,
        "memory": bool(memory),
        "profiles": [
            {"name": p.name, "label": p.label, "citation": p.citation,
             "is_proxy": p.is_proxy, "unconfirmed": p.unconfirmed}
            for p in profs
        ],
        "rows": rows,
        "reference": ref_entry,
    }


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def format_ratio(r) -> str:
    """Ratio to the reference, 3 significant digits: ``0.151×``, ``1.00×``, ``12.3×``.

    >>> format_ratio(0.15106), format_ratio(1.0), format_ratio(12.34), format_ratio(None)
    ('0.151×', '1.00×', '12.3×', '–')
    """
    if r is None or not math.isfinite(r):
        return "–"
    if r == 0:
        return "0×"
    decimals = max(0, 2 - int(math.floor(math.log10(abs(float(f"{r:.3g}"))))))
    return f"{r:.{decimals}f}×"


def markdown_table(table: dict) -> str:
    """Markdown rendering of :func:`energy_table`: one row per record, one column per profile.

    Cells read ``energy (ratio to the dense reference)``; proxy profiles are marked †, profiles
    with unconfirmed constants ‡; citations follow the table.
    """
    profs = table["profiles"]

    def head(p):
        mark = ("†" if p["is_proxy"] else "") + ("‡" if p["unconfirmed"] else "")
        return p["label"] + mark

    mem = ", with one weight fetch per synaptic op" if table["memory"] else ""
    ref = table["reference"]
    title = f"Estimated energy per inference ({ESTIMATE_LABEL}s; event-driven execution{mem})"
    if ref is not None:
        title += f"; in parentheses: ratio to {ref['label']}"
    lines = [f"**{title}**", ""]
    header = ["model", "accuracy", "update rate"] + [head(p) for p in profs]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for row in table["rows"]:
        cells = [row["label"], _pct(row["accuracy"]), _pct(row["update_rate"])]
        for p in profs:
            cell = format_energy(row["energy_pJ"][p["name"]])
            if row["ratio_to_reference"] is not None:
                cell += f" ({format_ratio(row['ratio_to_reference'][p['name']])})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    if ref is not None:
        cells = [ref["label"], _pct(ref["accuracy"]), _pct(ref["update_rate"])]
        cells += [f"{format_energy(ref['energy_pJ'][p['name']])} (1.00×)" for p in profs]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if any(p["is_proxy"] for p in profs):
        lines.append("† proxy: Loihi 1 constants stand in for Loihi 2 (Intel published no per-op table).")
    if any(p["unconfirmed"] for p in profs):
        lines.append("‡ constants not confirmed verbatim against the primary source.")
    lines.append("")
    lines.append("Sources:")
    for p in profs:
        lines.append(f"- {p['label']} (`{p['name']}`): {p['citation']}")
    return "\n".join(lines) + "\n"


def write_energy_table(table: dict, md_path, json_path=None) -> tuple:
    """Write the markdown (and JSON) of a table atomically; return the paths written."""
    write_text_atomic(md_path, markdown_table(table))
    if json_path is None:
        return (md_path,)
    write_json_atomic(json_path, table)
    return (md_path, json_path)
