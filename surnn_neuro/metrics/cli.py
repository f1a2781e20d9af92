"""Text and JSON energy reports behind ``surnn-neuro energy TRACE.h5 [--profile ...] [--json]``.

No argument parsing here: the ``surnn-neuro`` command parses its options and calls
:func:`energy_report`. Every number is labelled an estimate.
"""

from __future__ import annotations

import json

from surnn_neuro.errors import UserError
from surnn_neuro.metrics.counts import COUNT_DOCS, flatten_counts, inference_counts
from surnn_neuro.metrics.energy import ESTIMATE_LABEL, UNITS, estimate, format_energy
from surnn_neuro.metrics.profiles import PROFILES, UnknownProfileError, get_profile, load_profile_file

BANNER = "ESTIMATES, not measurements: op counts from the trace x per-op energies of each profile"


def resolve_profiles(profiles=None, profile_files=()) -> list:
    """Built-in profiles by name (None: all of them, unless files are given) plus user profile files.

    Raises UserError on an unknown name, a bad file, or two profiles with the same name.
    """
    out = []
    if profiles is None:
        names = [] if profile_files else list(PROFILES)
    elif isinstance(profiles, str):
        names = [profiles]
    else:
        names = list(profiles)
    for name in names:
        try:
            out.append(get_profile(name))
        except UnknownProfileError as e:
            raise UserError(f"--profile: {e}") from None
    for path in profile_files:
        out.append(load_profile_file(path))
    seen = set()
    for p in out:
        if p.name in seen:
            raise UserError(f"energy profile {p.name!r} given twice; profile names must be unique")
        seen.add(p.name)
    return out


def trace_energy(trace, profiles, memory: bool = False) -> dict:
    """JSON-ready dict: the trace's counts and, per profile, event-driven and dense estimates.

    With ``memory`` the memory-inclusive estimates (one weight fetch per synaptic op) are added
    beside the op-only ones.
    """
    counts = inference_counts(trace)
    rows = []
    for p in profiles:
        entry = {
            "profile": p.name,
            "label": p.label,
            "citation": p.citation,
            "is_proxy": p.is_proxy,
            "unconfirmed": p.unconfirmed,
            "event": estimate(trace, p, memory=False, execution="event").to_dict(),
            "dense": estimate(trace, p, memory=False, execution="dense").to_dict(),
        }
        if memory:
            entry["event_memory"] = estimate(trace, p, memory=True, execution="event").to_dict()
            entry["dense_memory"] = estimate(trace, p, memory=True, execution="dense").to_dict()
        rows.append(entry)
    return {
        "label": ESTIMATE_LABEL,
        "note": BANNER,
        "units": UNITS,
        "trace": {
            "backend": trace.backend,
            "n_samples": trace.n_samples,
            "n_steps": trace.n_steps,
            "node_names": [str(n) for n in trace.node_names],
            "layer_names": [str(n) for n in trace.layer_names],
        },
        "counts_per_inference": counts,
        "estimates": rows,
    }


def _fmt_count(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.6g}"
    return f"{int(v):d}" if isinstance(v, (int, float)) else str(v)


def format_text(report: dict, source: str = "") -> str:
    """Plain-text rendering of :func:`trace_energy`'s dict."""
    t = report["trace"]
    lines = [
        f"Energy per inference: {BANNER}",
        f"trace: {source}  backend={t['backend']}  samples={t['n_samples']}  steps={t['n_steps']}",
        "",
        "Counts per inference (NeuroBench names first)",
    ]
    flat = flatten_counts(report["counts_per_inference"])
    w = max(len(k) for k in flat)
    for k, v in flat.items():
        shown = f"{v:.4f}" if k in ("ActivationSparsity", "update_rate") else _fmt_count(v)
        lines.append(f"  {k:<{w}}  {shown:>14}   {COUNT_DOCS.get(k, '')}")
    lines.append("")
    variants = [("event", "event-driven"), ("dense", "dense execution")]
    if report["estimates"] and "event_memory" in report["estimates"][0]:
        variants += [("event_memory", "event + weight fetch"), ("dense_memory", "dense + weight fetch")]
    header = ["profile"] + [v[1] for v in variants] + ["caveat"]
    table = []
    for e in report["estimates"]:
        flags = ", ".join(f for f, on in (("proxy", e["is_proxy"]), ("unconfirmed", e["unconfirmed"])) if on)
        table.append([e["profile"]] + [format_energy(e[k]["total_pJ"]) for k, _ in variants] + [flags])
    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    lines.append("Estimated energy per inference (estimate)")
    lines.append("  " + "  ".join(h.ljust(widths[i]) for i, h in enumerate(header)).rstrip())
    for r in table:
        lines.append("  " + "  ".join(c.ljust(widths[i]) if i == 0 or i == len(r) - 1 else c.rjust(widths[i])
                                      for i, c in enumerate(r)).rstrip())
    lines.append("")
    lines.append("Breakdown of the event-driven estimate (pJ per inference, estimate)")
    for e in report["estimates"]:
        parts = ", ".join(f"{k} {v:.6g}" for k, v in e["event"]["breakdown_pJ"].items())
        lines.append(f"  {e['profile']}: {parts}")
    lines.append("")
    lines.append("Sources")
    for e in report["estimates"]:
        lines.append(f"  {e['profile']}: {e['citation']}")
    return "\n".join(lines) + "\n"


def energy_report(trace_path, profiles=None, profile_files=(), memory: bool = False,
                  as_json: bool = False) -> str:
    """Read a trace file and return its energy report (text, or JSON with ``as_json``).

    Parameters
    ----------
    trace_path : path
        A trace written by ``surnn_neuro.ir.io.write_trace``.
    profiles : list of str, optional
        Built-in profile names; default: all of them (none if only ``profile_files`` are given).
    profile_files : sequence of paths
        User profiles (TOML or JSON, see :func:`~surnn_neuro.metrics.profiles.load_profile_file`).
    memory : bool
        Also report the memory-inclusive estimates.
    as_json : bool
        Return indented JSON instead of text.

    Raises UserError on an unreadable trace, an unknown profile or a bad profile file.
    """
    from surnn_neuro.ir.io import read_trace  # h5py, read lazily: the writer lives in ir/

    chosen = resolve_profiles(profiles, profile_files)
    if not chosen:
        raise UserError("no energy profile selected")
    trace = read_trace(trace_path)
    report = trace_energy(trace, chosen, memory=memory)
    report["trace"]["path"] = str(trace_path)
    if as_json:
        return json.dumps(report, indent=2) + "\n"
    return format_text(report, source=str(trace_path))
