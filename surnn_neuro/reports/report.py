"""``report.md`` for a run folder: sections of text, tables and figures linked by relative path.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> p = write_report(d, Section("Results", "Accuracy 91.0%."), title="Demo")
>>> print(p.read_text().splitlines()[0])
# Demo
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from surnn_neuro.fileio import write_text_atomic
from surnn_neuro.metrics.energy import estimate
from surnn_neuro.metrics.profiles import PROFILES, get_profile

ESTIMATE_NOTE = (
    "All energies are **estimates**: op counts of the trace × per-op energies of a published "
    "profile (docs/energy.md), not measurements. Loihi 2 has no published per-op table; its "
    "numbers are the Loihi 1 proxy. Memory traffic, which often dominates, is only in the "
    "memory-inclusive variant."
)


@dataclass(frozen=True)
class ReportFigure:
    """A PNG to link, with a caption."""

    path: str | os.PathLike
    caption: str = ""

    def __post_init__(self):
        if not str(self.path):
            raise ValueError("ReportFigure.path: empty")


@dataclass(frozen=True)
class Section:
    """One ``##`` section: markdown body text, then figures in order.

    ``figures`` holds :class:`ReportFigure` objects or plain paths.
    """

    title: str
    body: str = ""
    figures: tuple = ()

    def __post_init__(self):
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"Section.title: must be a non-empty string, got {self.title!r}")
        figs = tuple(f if isinstance(f, ReportFigure) else ReportFigure(f) for f in self.figures)
        object.__setattr__(self, "figures", figs)


def _link(run_dir: Path, path) -> str:
    p = Path(path)
    if not p.is_absolute() and not p.is_file():  # relative to run_dir rather than to the cwd
        p = run_dir / p
    if not p.is_file():
        raise ValueError(f"report figure {p} does not exist")
    return Path(os.path.relpath(p, run_dir)).as_posix()


def render_report(run_dir, *sections: Section, title: str = "surnn-neuro report") -> str:
    """The markdown text of :func:`write_report` (figure paths relative to ``run_dir``)."""
    run_dir = Path(run_dir)
    lines = [f"# {title}", ""]
    for s in sections:
        if not isinstance(s, Section):
            raise ValueError(f"write_report: expected Section objects, got {type(s).__name__}")
        lines += [f"## {s.title}", ""]
        if s.body:
            lines += [s.body.rstrip(), ""]
        for f in s.figures:
            alt = Path(f.path).stem
            lines += [f"![{alt}]({_link(run_dir, f.path)})", ""]
            if f.caption:
                lines += [f"*{f.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(run_dir, *sections: Section, title: str = "surnn-neuro report",
                 filename: str = "report.md") -> Path:
    """Write ``run_dir/filename`` (atomically) from the sections; return its path."""
    run_dir = Path(run_dir)
    text = render_report(run_dir, *sections, title=title)
    out = run_dir / filename
    write_text_atomic(out, text)
    return out


def energy_sections(run_dir, records, profiles=None, reference: str = "gru", memory: bool = False,
                    raster_model: str | None = None, sample: int = 0, accuracy_label: str | None = None,
                    headline: bool = False, input_density: float | None = None) -> list:
    """Write the energy table (md + json) and figures into ``run_dir`` and return report sections.

    ``records`` as in :mod:`surnn_neuro.reports.tables` (the reference model must be among them).
    Figures: ``energy_bars.png``; ``pareto_<profile>.png`` per profile when at least two records of
    one model carry ``lambda`` and ``accuracy``; ``update_raster.png`` of ``raster_model``'s trace
    (default: the first record with a trace whose gates are not always open).

    ``accuracy_label`` names the samples the accuracies were measured on (table header, Pareto
    axis). ``headline``: open with :func:`~surnn_neuro.reports.tables.energy_headline` (energy
    against the event-driven reference first, the dense ratio second, ``input_density`` quoted)
    and show both ratios in the table.
    """
    from surnn_neuro.reports.plots import plot_energy_bars, plot_pareto, plot_update_raster
    from surnn_neuro.reports.tables import (energy_headline, energy_table, markdown_table, record_counts,
                                            record_label, write_energy_table)

    run_dir = Path(run_dir)
    records = list(records)
    profs = [get_profile(p) for p in (list(PROFILES) if profiles is None else profiles)]
    table = energy_table(records, profs, reference=reference, memory=memory, accuracy_label=accuracy_label)
    both = headline and table["reference"] is not None
    write_energy_table(table, run_dir / "energy_table.md", run_dir / "energy_table.json", event_ratio=both)
    lead = (energy_headline(table, input_density=input_density) + "\n\n") if both else ""
    sections = [Section("Energy per inference (estimates)",
                        lead + ESTIMATE_NOTE + "\n\n" + markdown_table(table, event_ratio=both)
                        + "\nAlso as JSON: [energy_table.json](energy_table.json).")]

    bars = {}
    ref = table["reference"]
    for p in profs:
        bars[p.label] = {row["label"]: row["energy_pJ"][p.name] for row in table["rows"]
                         if not (ref is not None and row["model"] == reference)}
        if ref is not None:
            bars[p.label][ref["label"]] = ref["energy_pJ"][p.name]
    fig = plot_energy_bars(bars, run_dir / "energy_bars.png", reference=None if ref is None else ref["label"])
    sections.append(Section(
        "Energy by hardware profile",
        figures=(ReportFigure(fig, "Estimated energy per inference (pJ, log scale) per profile; "
                                   "hatched grey: the dense GRU run densely."),),
    ))

    by_model = {}
    for r in records:
        if r.get("lambda") is not None and r.get("accuracy") is not None:
            by_model.setdefault(r["model"], []).append(r)
    if any(len(v) >= 2 for v in by_model.values()):
        figs = []
        for p in profs:
            pts = [{"model": m, "lambda": r["lambda"], "accuracy": r["accuracy"],
                    "energy_pJ": estimate(record_counts(r), p, memory=memory).total_pJ}
                   for m, rs in by_model.items() for r in rs]
            refpts = []
            ev_ref = table.get("event_reference")
            if ref is not None and ref["accuracy"] is not None:
                refpts.append({"label": ref["label"], "energy_pJ": ref["energy_pJ"][p.name],
                               "accuracy": ref["accuracy"]})
                if ev_ref is not None:
                    refpts.append({"label": ev_ref["label"], "energy_pJ": ev_ref["energy_pJ"][p.name],
                                   "accuracy": ev_ref["accuracy"]})
            out = plot_pareto(pts, run_dir / f"pareto_{p.name}.png", reference=refpts or None,
                              profile_label=p.label, accuracy_label=accuracy_label)
            figs.append(ReportFigure(out, f"Accuracy vs estimated energy per inference over the update "
                                          f"budget λ ({p.label}); lines: Pareto fronts; dotted: the "
                                          f"reference's accuracy."))
        sections.append(Section("Accuracy–energy trade-off", figures=tuple(figs)))

    cand = [r for r in records if r.get("trace") is not None]
    if raster_model is not None:
        cand = [r for r in cand if r["model"] == raster_model or record_label(r) == raster_model]
        if not cand:
            raise ValueError(f"energy_sections: no record with a trace for raster_model {raster_model!r}")
    else:
        cand = [r for r in cand if r["trace"].update_rate() < 1.0] or cand
    if cand:
        r = cand[0]
        out = plot_update_raster(r["trace"].gate_spikes, run_dir / "update_raster.png", sample=sample,
                                 title=f"{record_label(r)}: gate spikes of sample {sample} (black = state updated)")
        sections.append(Section("Update raster", figures=(ReportFigure(out, f"Gate spikes of {record_label(r)}, "
                                                                            f"neurons × time, sample {sample}."),)))
    return sections


def write_energy_report(run_dir, records, title: str = "surnn-neuro energy report", **kw) -> Path:
    """Tables, figures and ``report.md`` for ``records`` in ``run_dir`` (see :func:`energy_sections`)."""
    if isinstance(records, Mapping):
        raise ValueError("write_energy_report: records is a list of mappings, got one mapping")
    return write_report(run_dir, *energy_sections(run_dir, records, **kw), title=title)
