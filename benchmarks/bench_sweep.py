"""Sweep throughput on this machine and Ray's own overhead per trial.

1. Ray start-up: ``ray.init`` of a local instance (as ``surnn-neuro sweep`` starts it) and
   ``ray.shutdown``, median of ``--repeats``.
2. Ray Tune's overhead without work: a no-op trainable (reports ``--reports`` times, then returns),
   ``--trials`` trials with 1 and with 2 concurrent workers, after one warm-up fit: seconds per trial
   (Tuner set-up spread over the trials, actor reuse, scheduling, result handling) and per report
   (from the difference between 1 and ``--reports`` reports; a function trainable waits for the
   driver to take each report before it goes on).
3. The real sweep (``surnn-neuro sweep`` on digits: sugru, ``--hidden``, ``--epochs``, one trial per
   seed, 120 simulated test samples, every profile) with 1 and with 2 workers: wall time, trials per
   hour, the trials' own time (``trial_seconds``: train + convert + simulate + estimate) and what is
   left per trial (Ray + this package's driver work: validation, results, report).
4. The per-epoch training snapshot of a trial (``RUN_DIR/resume.pt``, what lets a killed trial
   continue): the trial's training with and without it, interleaved, medians.

Writes benchmarks/results/sweep_throughput.json (``--out`` elsewhere). Timings are meaningful only
on a quiet machine; the load averages before and after are recorded.

    python benchmarks/bench_sweep.py [--trials 8] [--epochs 3] [--hidden 16] [--reports 20]
    python benchmarks/bench_sweep.py --tiny --out /tmp/sweep_check.json   # seconds: checks it runs
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

from surnn_neuro.fileio import write_json_atomic  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def ray_startup(repeats: int) -> dict:
    import ray

    init, down = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        t1 = time.perf_counter()
        ray.shutdown()
        t2 = time.perf_counter()
        init.append(t1 - t0)
        down.append(t2 - t1)
    return {"init_s": statistics.median(init), "shutdown_s": statistics.median(down), "repeats": repeats,
            "all_init_s": init}


def _noop(config):
    from ray import tune

    for i in range(config["reports"]):
        tune.report({"i": i, "task_loss": 1.0 / (i + 1)})


def noop_overhead(trials: int, reports: int, workers: int, storage: Path) -> dict:
    import ray
    from ray import tune

    def fit(n, r, name):
        t0 = time.perf_counter()
        tune.Tuner(tune.with_resources(_noop, {"cpu": 1}),
                   param_space={"reports": r, "k": tune.grid_search(list(range(n)))},
                   tune_config=tune.TuneConfig(reuse_actors=True),
                   run_config=tune.RunConfig(name=name, storage_path=str(storage), verbose=0)).fit()
        return time.perf_counter() - t0

    ray.init(address="local", num_cpus=workers, include_dashboard=False, logging_level=logging.WARNING)
    try:
        fit(workers, 1, f"warmup-{workers}")  # first actors of the instance: worker start, imports
        out = {r: fit(trials, r, f"noop-{workers}-{r}") for r in (1, reports)}
    finally:
        ray.shutdown()
    per_trial = out[1] * workers / trials
    per_report = (out[reports] - out[1]) * workers / (trials * (reports - 1)) if reports > 1 else None
    return {"workers": workers, "trials": trials, "reports": reports, "fit_s_1_report": out[1],
            f"fit_s_{reports}_reports": out[reports], "seconds_per_trial": per_trial,
            "seconds_per_report": per_report}


CONFIG = """
[sweep]
name = "bench"
search = "grid"
sim_samples = 120
max_concurrent = {workers}
[resources]
cpus = 1
[ray]
num_cpus = {workers}
[train]
task = "digits"
model = "sugru"
hidden = {hidden}
epochs = {epochs}
batch_size = 32
lr = 5e-3
[space]
seed = {seeds}
"""


def real_sweep(trials: int, epochs: int, hidden: int, workers: int, base: Path) -> dict:
    from surnn_neuro.sweep import run_sweep

    cfg = base / f"bench-{workers}.toml"
    cfg.write_text(textwrap.dedent(CONFIG.format(workers=workers, hidden=hidden, epochs=epochs,
                                                 seeds=list(range(trials)))))
    out = base / f"sweep-{workers}"
    t0 = time.perf_counter()
    summary = run_sweep(cfg, out, progress=False)
    wall = time.perf_counter() - t0
    rows = summary["rows"]
    work = sum(r["trial_seconds"] for r in rows)
    train = sum(r["train_seconds"] for r in rows)
    return {"workers": workers, "trials": len(rows), "wall_s": wall, "trials_per_hour": 3600 * len(rows) / wall,
            "trial_seconds_sum": work, "train_seconds_sum": train,
            "trial_seconds_median": statistics.median(r["trial_seconds"] for r in rows),
            # what a trial costs beyond its own work, spread over the workers that ran side by side
            "overhead_s_per_trial": (wall * workers - work) / len(rows),
            "done": summary["counts"]["done"]}


def snapshot_cost(epochs: int, hidden: int, repeats: int, base: Path) -> dict:
    """What the per-epoch training snapshot of a trial (``RUN_DIR/resume.pt``) costs: the same
    training as a trial's with and without snapshots, interleaved, medians."""
    from dataclasses import asdict

    from surnn_neuro.training.checkpoint import save_snapshot
    from surnn_neuro.training.loop import TrainConfig, train
    from surnn_neuro.training.runs import task_for

    cfg = TrainConfig(task="digits", model="sugru", hidden=hidden, epochs=max(epochs, 2), batch_size=32)
    task = task_for(cfg)
    path = base / "resume.pt"

    def snap(state):
        save_snapshot(path, state, asdict(cfg))

    without, with_ = [], []
    for _ in range(max(repeats, 3) * 2 + 1):
        for times, kw in ((without, {}), (with_, {"snapshot": snap})):
            t0 = time.perf_counter()
            train(cfg, task, progress=False, **kw)
            times.append(time.perf_counter() - t0)
    a, b = statistics.median(without), statistics.median(with_)
    return {"train_s": a, "train_with_snapshots_s": b, "snapshots_per_run": cfg.epochs - 1,
            "s_per_snapshot": (b - a) / (cfg.epochs - 1), "snapshot_bytes": path.stat().st_size}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--reports", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tiny", action="store_true", help="2 trials, 1 epoch, 3 reports, 1 repeat")
    ap.add_argument("--out", default=str(RESULTS / "sweep_throughput.json"))
    a = ap.parse_args(argv)
    if a.tiny:
        a.trials, a.epochs, a.hidden, a.reports, a.repeats = 2, 1, 8, 3, 1
    import ray

    load_before = os.getloadavg()
    res = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "ray": ray.__version__,
                       "load_before": load_before},
           "settings": {"trials": a.trials, "epochs": a.epochs, "hidden": a.hidden, "reports": a.reports,
                        "repeats": a.repeats, "task": "digits", "model": "sugru", "sim_samples": 120}}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        base = Path(tmp)
        res["ray_startup"] = ray_startup(a.repeats)
        print(f"ray.init {res['ray_startup']['init_s']:.2f} s, shutdown {res['ray_startup']['shutdown_s']:.2f} s")
        res["noop"] = {}
        res["sweep"] = {}
        for workers in (1, 2):
            n = noop_overhead(a.trials, a.reports, workers, base / "noop")
            res["noop"][str(workers)] = n
            print(f"no-op, {workers} worker(s): {n['seconds_per_trial']:.2f} s per trial, "
                  f"{(n['seconds_per_report'] or 0) * 1e3:.1f} ms per report")
        for workers in (1, 2):
            s = real_sweep(a.trials, a.epochs, a.hidden, workers, base)
            res["sweep"][str(workers)] = s
            print(f"sweep, {workers} worker(s): {s['trials']} trials in {s['wall_s']:.1f} s = "
                  f"{s['trials_per_hour']:.0f} trials/hour; trial work median {s['trial_seconds_median']:.1f} s, "
                  f"overhead {s['overhead_s_per_trial']:.1f} s per trial")
        res["snapshots"] = snapshot_cost(a.epochs, a.hidden, a.repeats, base)
        sn = res["snapshots"]
        print(f"training snapshot: {sn['s_per_snapshot'] * 1e3:.1f} ms each ({sn['snapshot_bytes']} B), "
              f"a run of {sn['train_s']:.2f} s")
    res["machine"]["load_after"] = os.getloadavg()
    res["speedup_2_workers"] = res["sweep"]["2"]["trials_per_hour"] / res["sweep"]["1"]["trials_per_hour"]
    write_json_atomic(a.out, res)
    print(f"wrote {a.out}")
    return res


if __name__ == "__main__":
    main()
