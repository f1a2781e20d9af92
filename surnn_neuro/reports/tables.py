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
e_active: the always-update GRU as a CPU/GPU runs it. Ratios are model / dense reference
(``ratio_to_reference``) and model / event-driven reference (``ratio_to_event_reference``). The
second is the fair headline for a selective-update model: the dense execution also pays a MAC for
every zero input, so with sparse (event) inputs the first ratio mostly measures input sparsity.
:func:`markdown_table` shows the dense ratio by default and both, event-driven first, with
``event_ratio=True``.

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


def energy_table(records, profiles=None, reference: str | None = "gru", memory: bool = False,
                 accuracy_label: str | None = None) -> dict:
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
    accuracy_label : str, optional
        What the accuracies were measured on (e.g. "first 64 of 360 test samples"); shown in the
        accuracy column header, so numbers from different subsets are never read as comparable.

    Returns a dict: ``label`` ("estimate"), ``units``, ``memory``, ``profiles`` (name, label,
    citation, flags), ``rows`` (label, model, lambda, accuracy, update_rate, energy_pJ and
    ratio_to_reference per profile name), ``reference`` (label, accuracy, energy_pJ per profile
    name of the dense execution) or None, ``event_reference`` (the same for its event-driven
    execution) or None, and ``accuracy_label``. Rows also carry ``ratio_to_event_reference``.
    """
    records = _check_records(records)
    profs = [get_profile(p) for p in (list(PROFILES) if profiles is None else profiles)]
    ref_energy = ref_event_energy = None
    ref_entry = ref_event_entry = None
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
        ref_event_energy = {p.name: estimate(ref_counts, p, memory=memory, execution="event").total_pJ
                            for p in profs}
        ref_event_entry = dict(ref_entry, label=f"{record_label(refs[0])} (event-driven)",
                               update_rate=ref_counts.get("update_rate"), execution="event",
                               energy_pJ=ref_event_energy)
    rows = []
    for r in records:
        counts = record_counts(r)
        energy = {p.name: estimate(counts, p, memory=memory, execution="event").total_pJ for p in profs}
        ratio = ratio_event = None
        if ref_energy is not None:
            ratio = {k: (v / ref_energy[k] if ref_energy[k] > 0 else None) for k, v in energy.items()}
            ratio_event = {k: (v / ref_event_energy[k] if ref_event_energy[k] > 0 else None)
                           for k, v in energy.items()}
        rows.append({
            "label": record_label(r),
            "model": r["model"],
            "lambda": r.get("lambda"),
            "accuracy": r.get("accuracy"),
            "update_rate": counts.get("update_rate"),
            "execution": "event",
            "energy_pJ": energy,
            "ratio_to_reference": ratio,
            "ratio_to_event_reference": ratio_event,
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
        "event_reference": ref_event_entry,
        "accuracy_label": accuracy_label,
    }


def _div(a, b):
    return a / b if b else None


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


def markdown_table(table: dict, event_ratio: bool = False) -> str:
    """Markdown rendering of :func:`energy_table`: one row per record, one column per profile.

    Cells read ``energy (ratio to the dense reference)``, or with ``event_ratio``
    ``energy (ratio to the event-driven reference; ratio to the dense reference)``; proxy profiles
    are marked †, profiles with unconfirmed constants ‡; citations follow the table.
    """
    profs = table["profiles"]

    def head(p):
        mark = ("†" if p["is_proxy"] else "") + ("‡" if p["unconfirmed"] else "")
        return p["label"] + mark

    mem = ", with one weight fetch per synaptic op" if table["memory"] else ""
    ref = table["reference"]
    ev_ref = table.get("event_reference")
    both = event_ratio and ref is not None and ev_ref is not None
    title = f"Estimated energy per inference ({ESTIMATE_LABEL}s; event-driven execution{mem})"
    if both:
        title += (f"; in parentheses: ratio to {ev_ref['label']}, then to {ref['label']} (the dense "
                  "execution pays a MAC for every zero input, so with sparse inputs that second "
                  "ratio mostly measures input sparsity)")
    elif ref is not None:
        title += f"; in parentheses: ratio to {ref['label']}"
    lines = [f"**{title}**", ""]
    acc_head = "accuracy" + (f" ({table['accuracy_label']})" if table.get("accuracy_label") else "")
    header = ["model", acc_head, "update rate"] + [head(p) for p in profs]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for row in table["rows"]:
        cells = [row["label"], _pct(row["accuracy"]), _pct(row["update_rate"])]
        for p in profs:
            cell = format_energy(row["energy_pJ"][p["name"]])
            if both:
                cell += (f" ({format_ratio(row['ratio_to_event_reference'][p['name']])} event; "
                         f"{format_ratio(row['ratio_to_reference'][p['name']])} dense)")
            elif row["ratio_to_reference"] is not None:
                cell += f" ({format_ratio(row['ratio_to_reference'][p['name']])})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    if ref is not None:
        cells = [ref["label"], _pct(ref["accuracy"]), _pct(ref["update_rate"])]
        if both:
            cells += [f"{format_energy(ref['energy_pJ'][p['name']])} "
                      f"({format_ratio(_div(ref['energy_pJ'][p['name']], ev_ref['energy_pJ'][p['name']]))} event; "
                      "1.00× dense)" for p in profs]
        else:
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


def energy_headline(table: dict, profile: str | None = None, row: str | None = None,
                    input_density: float | None = None) -> str:
    """One paragraph: a model's energy against the **event-driven** reference first, then dense.

    ``profile``: profile name (default the table's first); ``row``: row label (default the first
    row that is not the reference model); ``input_density``: fraction of input slots (T·V) that
    carry a non-zero value, quoted to explain the dense ratio. Needs a table with a reference.

    The event-driven ratio compares like with like (both networks send events, skip zero inputs);
    the dense ratio also credits the model with every zero input the dense execution multiplies,
    which the event-driven reference skips too: E_ref,event / E_ref,dense isolates that part.
    """
    ref, ev_ref = table.get("reference"), table.get("event_reference")
    if ref is None or ev_ref is None:
        raise ValueError("energy_headline: the table has no reference (energy_table(reference=...))")
    names = [p["name"] for p in table["profiles"]]
    profile = profile or names[0]
    if profile not in names:
        raise ValueError(f"energy_headline: unknown profile {profile!r}; in the table: {', '.join(names)}")
    plabel = next(p["label"] for p in table["profiles"] if p["name"] == profile)
    rows = {r["label"]: r for r in table["rows"]}
    if row is None:
        row = next((r["label"] for r in table["rows"] if r["model"] != ref["model"]), None)
        if row is None:
            raise ValueError("energy_headline: no row besides the reference")
    if row not in rows:
        raise ValueError(f"energy_headline: unknown row {row!r}; known: {', '.join(rows)}")
    r = rows[row]
    e_ratio = r["ratio_to_event_reference"][profile]
    d_ratio = r["ratio_to_reference"][profile]
    ref_self = _div(ev_ref["energy_pJ"][profile], ref["energy_pJ"][profile])
    acc = table.get("accuracy_label")
    acc_txt = ""
    if r["accuracy"] is not None and ref["accuracy"] is not None:
        acc_txt = (f", at {_pct(r['accuracy'])} accuracy against {_pct(ref['accuracy'])}"
                   + (f" ({acc})" if acc else ""))
    dens = "" if input_density is None else f" ({100 * input_density:.3g} % of the input slots carry a value)"
    head = (f"**Headline ({plabel}, {ESTIMATE_LABEL}):** {row} needs **{format_ratio(e_ratio)} the energy of "
            f"{ev_ref['label']}**{acc_txt}. Against {ref['label']} it is {format_ratio(d_ratio)}; ")
    alone = f"the event-driven {ref['model']} alone costs {format_ratio(ref_self)} its dense execution"
    if ref_self is None:
        tail = "the dense execution of the reference costs nothing on this profile."
    elif ref_self < 0.5:
        tail = f"that second ratio mostly measures input sparsity, not the gate: {alone}{dens}."
    elif ref_self < 1:
        tail = f"part of that second ratio is input sparsity, not the gate: {alone}{dens}."
    else:
        tail = (f"{alone}{dens}: its per-event costs (spikes, neuron updates) exceed the dense MACs that "
                "its skipped inputs save.")
    return head + tail


def write_energy_table(table: dict, md_path, json_path=None, event_ratio: bool = False) -> tuple:
    """Write the markdown (and JSON) of a table atomically; return the paths written."""
    write_text_atomic(md_path, markdown_table(table, event_ratio=event_ratio))
    if json_path is None:
        return (md_path,)
    write_json_atomic(json_path, table)
    return (md_path, json_path)
