"""The main job, ``surnn-neuro run`` (``make demo``): one stage after another, all into one folder.

Stages (table :data:`STAGES`, run in order; ``--stages`` selects a subset):

1. ``train``: train sugru and the dense gru on digits (pixel by pixel) and print the comparison
   table (accuracy, update rate, skip %, FLOPs per sequence).
2. ``spikes``: convert both to event graphs, simulate them on every available backend (reference,
   snnTorch, Norse), print the agreement check (gate spikes, event counts, outputs vs the torch
   model) and the events / synaptic-ops table, and save the update raster (neurons × time).
3. ``energy``: train sugru at two more update budgets λ, estimate energy per inference on every
   hardware profile, write the energy table, bars, accuracy-vs-energy Pareto plot and report.md.
4. ``lava``: deploy the digits sugru to a Lava process graph, run the first ``--lava-limit`` test
   samples (default 120 of 360: Lava's CPU simulation runs ~100–400 steps/s, so the full split adds
   about 5–8 minutes) in floating point and in Loihi 2 fixed point, and report accuracy,
   agreement with the reference simulator and the Loihi 2 resource estimate.
5. ``events``: the event-driven path on event data: train sugru and gru on event-digits (the
   built-in event-camera digits), convert, simulate on every backend, count events and estimate
   energy (events/report.md).

Each stage reads and extends a shared context dict (paths of runs, graphs, traces) and writes its
results under ``--out``; ``summary.json`` collects every stage's numbers and ``timings.json`` their
wall-clock seconds (kept apart so that two runs with the same seed write identical summaries).
``report.md`` is rewritten after every stage from the sections of the stages run so far: a smoke-run
notice under ``--quick``,
the training settings of every run (``settings.json``, one record per run folder, kept across
invocations that share ``--out``), the samples behind each number, then one part per stage. Every
accuracy names the test subset it was measured on (:func:`surnn_neuro.reports.run.subset_label`).

The folder appears complete or not at all: the job runs in a staging folder beside ``--out``
(starting from hard links to what ``--out`` already holds, so ``--stages`` can reuse earlier
stages) that replaces ``--out`` in one step at the end (:func:`surnn_neuro.jobs.staged_job`). A
failed or interrupted job leaves ``--out`` as it was, and no folder if there was none. Paths are
printed and recorded as they will be once the folder is in place. Every option, and every file a
selected stage needs from an earlier run, is checked before the first stage starts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from surnn_neuro.errors import UserError, doing
from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.preflight import check_value
from surnn_neuro.pipeline.stages import stage_energy, stage_events, stage_lava, stage_spikes, stage_train
from surnn_neuro.reports.run import read_run_records


@dataclass(frozen=True)
class RunOptions:
    """Options of the main job, checked against the command-line table (surnn_neuro.preflight)."""

    out: str = "runs/demo"
    epochs: int | None = None
    hidden: int = 64
    seed: int = 0
    quick: bool = False
    device: str = "auto"
    stages: str | None = None
    lava_limit: int | None = None

    def __post_init__(self):
        if self.epochs is not None:
            check_value("--epochs", self.epochs)
        check_value("--hidden", self.hidden)
        check_value("--seed", self.seed)
        check_value("--device", self.device)
        if self.lava_limit is not None:
            from surnn_neuro.datasets.digits import N_TEST

            check_value("--lava-limit", self.lava_limit)
            if self.lava_limit > N_TEST:
                raise UserError(f"--lava-limit: the digits test split has {N_TEST} samples, got {self.lava_limit}")
        selected_stages(self.stages)



def _write_report(ctx, done) -> Path:
    """report.md: smoke notice (--quick), settings, then the sections of the stages in ``done``."""
    from surnn_neuro.reports.report import write_report
    from surnn_neuro.reports.run import header_sections

    quick = ctx["options"].quick
    secs = header_sections(list(ctx["run_records"].values()), ctx.get("subsets", {}), quick=quick,
                           stages=done, all_stages=list(STAGES))
    for name in done:
        secs += ctx.get("sections", {}).get(name, [])
    title = "surnn-neuro main job: sugru vs dense gru on digits" + (" (smoke run, --quick)" if quick else "")
    return write_report(ctx["out"], *secs, title=title)


#: stage name -> function(ctx) -> summary dict
STAGES = {"train": stage_train, "spikes": stage_spikes, "energy": stage_energy, "lava": stage_lava,
          "events": stage_events}


def selected_stages(stages: str | None) -> list:
    """The stage names of ``--stages`` (None: all), in the order given; UserError if unknown or empty."""
    if stages is None:
        return list(STAGES)
    selected = [s.strip() for s in str(stages).split(",") if s.strip()]
    if not selected:
        raise UserError(f"--stages: no stage named in {stages!r}; known: {', '.join(STAGES)}")
    unknown = [s for s in selected if s not in STAGES]
    if unknown:
        raise UserError(f"--stages: unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    return selected


#: files a stage reads, and the stage that writes them (checked before the job starts)
NEEDS = {
    "spikes": {"runs/digits-sugru/checkpoint.pt": "train", "runs/digits-gru/checkpoint.pt": "train"},
    "energy": {"runs/digits-sugru/checkpoint.pt": "train", "runs/digits-gru/checkpoint.pt": "train"},
    "lava": {"runs/digits-sugru/checkpoint.pt": "train", "runs/digits-gru/checkpoint.pt": "train",
             "graphs/digits-sugru.h5": "spikes"},
}


def _check_needs(out: Path, selected: list) -> None:
    for i, name in enumerate(selected):
        for rel, maker in NEEDS.get(name, {}).items():
            if maker not in selected[:i] and not (out / rel).is_file():
                raise UserError(f"--stages: stage {name} reads {out / rel}, which is not there; run the "
                                f"'{maker}' stage first (or with it: --stages {maker},{name})")


def run_pipeline(opts: RunOptions) -> dict:
    """Run the selected stages in order; write ``summary.json``, ``timings.json``, ``settings.json``
    and ``report.md`` (in a staging folder that replaces ``--out`` once every stage has succeeded:
    :mod:`surnn_neuro.jobs`)."""
    from surnn_neuro.hw_targets.lava._mp import lava_missing_reason
    from surnn_neuro.jobs import check_job_folder, split_timings, staged_job

    selected = selected_stages(opts.stages)
    # without Lava (Python 3.11+) the default run skips the lava stage; asking for it is an error
    no_lava = lava_missing_reason() if "lava" in selected else None
    if no_lava and opts.stages:
        raise UserError(f"--stages lava: {no_lava}")
    out = check_job_folder(opts.out, "summary.json")
    _check_needs(out, selected)
    summary, timings = {}, {}
    with staged_job(out) as (stage, shown):
        ctx = {"options": opts, "out": stage, "run_records": read_run_records(stage / "settings.json")}
        for i, name in enumerate(selected):
            t0 = time.perf_counter()
            print(f"\n=== stage {name} ===", flush=True)
            with doing(f"running stage {name} of the main job"):
                summary[name], t = split_timings(shown(STAGES[name](ctx)))
            timings[name] = {**(t or {}), "seconds": time.perf_counter() - t0}
            write_json_atomic(stage / "summary.json", summary)
            write_json_atomic(stage / "timings.json", timings)
            write_json_atomic(stage / "settings.json", ctx["run_records"])
            _write_report(ctx, selected[: i + 1])
    print(f"\nwrote {out}/summary.json and {out}/report.md (timings: {out}/timings.json)")
    return summary
