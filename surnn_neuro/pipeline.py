"""The main job, ``surnn-neuro run`` (``make demo``): one stage after another, all into one folder.

Stages (table :data:`STAGES`, run in order; ``--stages`` selects a subset):

1. ``train``: train sugru and the dense gru on digits (pixel by pixel) and print the comparison
   table (accuracy, update rate, skip %, FLOPs per sequence).

Each stage reads and extends a shared context dict (paths of runs, graphs, traces) and writes its
results under ``--out``; ``summary.json`` collects every stage's numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from surnn_neuro.errors import UserError
from surnn_neuro.fileio import write_json_atomic, write_text_atomic


@dataclass(frozen=True)
class RunOptions:
    out: str = "runs/demo"
    epochs: int | None = None
    hidden: int = 64
    seed: int = 0
    quick: bool = False
    device: str = "auto"
    stages: str | None = None


def _table(rows, headers) -> str:
    """A markdown table (also readable as plain text)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in cells])


def stage_train(ctx):
    """Train sugru and gru on digits; print the comparison table."""
    from surnn_neuro.training.loop import TrainConfig
    from surnn_neuro.training.runs import train_run
    from surnn_neuro.training.tasks import load_task

    opts: RunOptions = ctx["options"]
    epochs = opts.epochs or (2 if opts.quick else 20)
    hidden = 16 if opts.quick else opts.hidden
    task = load_task("digits")
    if opts.quick:
        from dataclasses import replace

        task = replace(task, x_train=task.x_train[:256], y_train=task.y_train[:256])
    rows, results = [], {}
    for model in ("sugru", "gru"):
        cfg = TrainConfig(task="digits", model=model, hidden=hidden, epochs=epochs, batch_size=32,
                          lr=5e-3, seed=opts.seed, device=opts.device)
        run_dir = ctx["out"] / "runs" / f"digits-{model}"
        m = train_run(cfg, run_dir, task=task)
        results[model] = {"run_dir": str(run_dir), **m}
        rows.append([model, f"{100 * m['accuracy']:.2f}", f"{m['update_rate']:.3f}",
                     f"{m['skip_percent']:.1f}", f"{m['flops_per_sequence']:.4g}", m["params"],
                     f"{m['train_seconds']:.0f}"])
    table = _table(rows, ["model", "accuracy %", "update rate", "skip %", "FLOPs/seq", "params",
                          "train s"])
    print(f"\n## digits (pixel by pixel, T=64), H={hidden}, {epochs} epochs, seed {opts.seed}\n")
    print(table)
    ratio = results["sugru"]["flops_per_sequence"] / results["gru"]["flops_per_sequence"]
    print(f"\nsugru needs {ratio:.3f}× the FLOPs of the dense gru "
          f"({100 * (1 - ratio):.1f} % fewer multiplications).")
    write_text_atomic(ctx["out"] / "train_table.md", table + "\n")
    ctx["runs"] = {k: v["run_dir"] for k, v in results.items()}
    ctx["task"] = task
    return {"digits": results, "flops_ratio_sugru_vs_gru": ratio}


#: stage name -> function(ctx) -> summary dict
STAGES = {"train": stage_train}


def run_pipeline(opts: RunOptions) -> dict:
    """Run the selected stages in order and write ``summary.json``."""
    selected = list(STAGES)
    if opts.stages:
        selected = [s.strip() for s in opts.stages.split(",") if s.strip()]
        unknown = [s for s in selected if s not in STAGES]
        if unknown:
            raise UserError(f"--stages: unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    out = Path(opts.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    ctx = {"options": opts, "out": out}
    summary = {}
    for name in selected:
        t0 = time.perf_counter()
        print(f"\n=== stage {name} ===", flush=True)
        summary[name] = STAGES[name](ctx)
        summary[name]["seconds"] = time.perf_counter() - t0
        write_json_atomic(out / "summary.json", summary)
    print(f"\nwrote {out}/summary.json")
    return summary
