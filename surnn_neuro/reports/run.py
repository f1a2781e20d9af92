"""The parts of a run report that say what the numbers are: smoke-run notice, settings, subsets.

A reader of a report must be able to tell, for every number, how it was produced: with which
training settings, on how many samples, and whether the run was a smoke test. These helpers turn
plain records into that text; the main job (:mod:`surnn_neuro.pipeline`) calls them.

A **run record** is a mapping with the training configuration of one run (the fields of
``TrainConfig``: task, model, hidden, layers, epochs, batch_size, lr, budget, seed, options) plus
``run`` (its folder, as shown), ``stage``, ``seq_len`` (T) and ``n_train`` / ``n_train_total``
(training samples used / in the split).

>>> subset_label(64, 360)
'first 64 of 360 test samples'
>>> subset_label(360, 360)
'all 360 test samples'
>>> print(settings_table([{"run": "runs/a", "stage": "train", "task": "digits", "model": "gru",
...     "hidden": 16, "layers": 1, "epochs": 2, "batch_size": 32, "lr": 0.005, "budget": 0.0, "seed": 0,
...     "seq_len": 64, "n_train": 256, "n_train_total": 1437, "options": {}}]).splitlines()[2])
| runs/a | train | digits | gru | – | 16 | 1 | 2 | 32 | 0.005 | 0 | 0 | 64 | 256 of 1437 |
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from surnn_neuro.errors import UserError
from surnn_neuro.reports.report import Section

SETTINGS_COLUMNS = ("run", "stage", "task", "model", "options", "H", "layers", "epochs", "batch", "lr", "λ",
                    "seed", "T", "training samples")


def padded_table(rows, headers) -> str:
    """A markdown table padded to column width (readable as plain text on a terminal too)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in cells])


def subset_label(n: int, total: int, what: str = "test samples") -> str:
    """``first n of total <what>`` (the main job always takes the first n), or ``all total <what>``."""
    n, total = int(n), int(total)
    if not 0 < n <= total:
        raise ValueError(f"subset_label: need 0 < n <= total, got n={n}, total={total}")
    return f"all {total} {what}" if n == total else f"first {n} of {total} {what}"


def _num(v) -> str:
    return "–" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def _options(opts) -> str:
    if not opts:
        return "–"
    return ", ".join(f"{k}={v}" for k, v in sorted(dict(opts).items()))


def settings_table(runs: Sequence[Mapping]) -> str:
    """Markdown table of the training settings, one row per run record (module doc)."""
    if not runs:
        raise ValueError("settings_table: no runs")
    lines = ["| " + " | ".join(SETTINGS_COLUMNS) + " |", "|" + "---|" * len(SETTINGS_COLUMNS)]
    for r in runs:
        missing = [k for k in ("run", "task", "model", "hidden", "epochs", "batch_size", "lr", "seed")
                   if k not in r]
        if missing:
            raise ValueError(f"settings_table: run record {r.get('run', '?')!r} lacks {', '.join(missing)}")
        n, tot = r.get("n_train"), r.get("n_train_total")
        train = "–" if n is None else (f"{n} of {tot}" if tot is not None and tot != n else f"all {n}")
        cells = [r["run"], r.get("stage", "–"), r["task"], r["model"], _options(r.get("options")), _num(r["hidden"]),
                 _num(r.get("layers")), _num(r["epochs"]), _num(r["batch_size"]), _num(float(r["lr"])),
                 _num(float(r.get("budget") or 0.0)), _num(r["seed"]), _num(r.get("seq_len")), train]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def smoke_notice(runs: Sequence[Mapping], test_subsets: Mapping[str, tuple]) -> Section:
    """The section that opens a ``--quick`` report: it is a smoke run, and with which settings.

    ``test_subsets``: {what: (n, total)}: the first n of total test samples were used for what.

    >>> runs = [{"task": "digits", "hidden": 16, "epochs": 2, "n_train": 256, "n_train_total": 1437}]
    >>> print(smoke_notice(runs, {"energy": (64, 360)}).body.split(". ")[0])
    **This is a smoke run** (`surnn-neuro run --quick`): H = 16, 2 epochs, 256 of 1437 training samples (digits), accuracies on as few as 64 test samples (each labelled with its subset)
    """  # noqa: E501 (a doctest's expected output line)
    hs = sorted({int(r["hidden"]) for r in runs})
    eps = sorted({int(r["epochs"]) for r in runs})
    trains = {}
    for r in runs:
        if r.get("n_train") is not None and r.get("n_train_total") is not None:
            trains.setdefault(f"{r['n_train']} of {r['n_train_total']}", []).append(r["task"])
    parts = [f"H = {', '.join(map(str, hs))}", f"{', '.join(map(str, eps))} epoch{'s' if eps != [1] else ''}"]
    if trains:
        parts.append(", ".join(f"{k} training samples ({', '.join(dict.fromkeys(v))})" for k, v in trains.items()))
    if test_subsets:
        parts.append(f"accuracies on as few as {min(int(n) for n, _ in test_subsets.values())} test samples "
                     "(each labelled with its subset)")
    body = (f"**This is a smoke run** (`surnn-neuro run --quick`): {', '.join(parts)}. "
            "It checks that every stage runs end to end. Its accuracies, update rates and energies are "
            "those of barely trained models and say nothing about what the models can do: run "
            "`surnn-neuro run` (`make demo`) without `--quick` for results.")
    return Section("Smoke run (--quick): not a result", body)


def settings_section(runs: Sequence[Mapping], test_subsets: Mapping[str, tuple], extra: str = "") -> Section:
    """``## Settings``: the training settings of every run and the samples behind each number
    (``test_subsets`` as in :func:`smoke_notice`)."""
    tests = "\n".join(f"- {k}: {subset_label(n, total)}" for k, (n, total) in test_subsets.items())
    body = ("Training settings of the runs (λ: update budget; T: time steps per sample):\n\n"
            + settings_table(runs) + "\n\nSamples behind the numbers (every accuracy below names its subset):\n\n"
            + tests + ("\n\n" + extra if extra else ""))
    return Section("Settings", body)


def header_sections(runs: Sequence[Mapping], test_subsets: Mapping[str, tuple], quick: bool,
                    stages: Sequence[str], all_stages: Sequence[str]) -> list:
    """The sections that open a run report: the smoke notice (``quick``), then the settings with
    the stages the report covers. Empty when no run is known (nothing was trained)."""
    if not runs:
        return []
    covered = "Stages in this report: " + ", ".join(stages)
    if len(stages) < len(all_stages):
        covered += f" (of {', '.join(all_stages)})"
    secs = [smoke_notice(runs, test_subsets)] if quick else []
    return secs + [settings_section(runs, test_subsets, extra=covered + ".")]


def read_run_records(path) -> dict:
    """{run folder: run record} from a ``settings.json`` (empty if there is none yet)."""
    p = Path(path)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"{p}: unreadable ({e}); delete it or use another --out") from None
    if not isinstance(data, dict):
        raise UserError(f"{p}: expected a JSON object of run records; delete it or use another --out")
    return data
