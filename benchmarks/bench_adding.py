"""SA-RNN Table 4 on our models: the adding problem, T = 500, H = 128.

For sugru, sarnn and gru: train until the test MSE falls below 0.01 ("solved"; predicting 1 scores
≈ 0.167) or the epoch budget runs out, then record solved, MSE, skip % and FLOPs per sequence.
Target (SA-RNN with λ = 1e-4): solved at ≥ 90 % skip. Writes benchmarks/results/adding_table4.json
and the learning curves of every row in it to adding_table4.png.

    python benchmarks/bench_adding.py [--epochs 30] [--models sugru,sarnn,gru] [--seq-len 500]
    python benchmarks/bench_adding.py --models sarnn-fixed-slope,sugru-budget1e-5 --epochs 20
    (the rows that solve it at >= 90 % skip; every row of CONFIGS is in RESULTS.md)
    python benchmarks/bench_adding.py --plot-only      # redraw the figure from the JSON

Everything measured, failures included, is written; nothing is filled in by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.training.loop import TrainConfig, evaluate, train
from surnn_neuro.training.runs import score_model
from surnn_neuro.training.tasks import load_task

OUT = Path(__file__).parent / "results" / "adding_table4.json"

# per row: (options, budget λ, learning rate or None for --lr). sarnn uses SA-RNN's λ = 1e-4 (its
# 90 % skip row). sugru starts at a 10 % duty cycle with λ = 0: with λ = 1e-4 its update rate
# collapsed to 1.6 % within 3 epochs and the test MSE stayed at the 0.17 of predicting the mean
# (first run, recorded in RESULTS.md). sarnn at lr 2e-3 reached MSE 0.033 after 2 epochs, then
# diverged and never recovered; "sarnn-lr1e-3" (half the learning rate) diverged in epoch 2 as well
# (MSE 0.14 → 0.63 → 1.21, stopped). "sarnn-fixed-slope" keeps the hard-sigmoid slope at the
# authors' code's 0.1 (anneal=False): a 10-50× smaller straight-through gradient into the gate.
CONFIGS = {
    "gru": ({}, 0.0, None),
    "sarnn": ({}, 1e-4, None),
    "sarnn-lr1e-3": ({}, 1e-4, 1e-3),
    "sarnn-fixed-slope": ({"anneal": False}, 1e-4, None),
    # the fixed slope at λ = 1e-4 was below 0.01 after one epoch at 84 % skip (92.6 % after 10);
    # ten times the budget, for the skip/accuracy trade-off
    "sarnn-fixed-slope-budget1e-3": ({"anneal": False}, 1e-3, None),
    "sugru": ({"duty": 0.1}, 0.0, None),
    "sugru-budget": ({"duty": 0.1}, 1e-4, None),
    # λ = 0 let the learned schedule drift from 10 % to 13.3 % updates (86.7 % skip); a frozen
    # oscillator keeps the budget fixed at exactly its initial duty cycle
    "sugru-frozen": ({"duty": 0.1, "learn_gate": False}, 0.0, None),
    # frozen at exactly 10 % it learned too slowly (MSE 0.037 after 30 epochs); two ways to land
    # the learned schedule at ≥ 90 % skip: start lower and let it drift, or a budget 10× gentler
    # than the 1e-4 that collapsed it
    "sugru-duty0.07": ({"duty": 0.07}, 0.0, None),
    "sugru-budget1e-5": ({"duty": 0.1}, 1e-5, None),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30, help="max epochs of 10000 sequences")
    ap.add_argument("--models", default="sugru,sarnn,gru")
    ap.add_argument("--seq-len", type=int, default=500)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT), help="results file (rows are merged into it)")
    ap.add_argument("--plot-only", action="store_true", help="only redraw the figure from --out")
    ap.add_argument("--stop-below", type=float, default=0.005,
                    help="stop training once the test MSE is below this (solved means < 0.01)")
    args = ap.parse_args(argv)
    out_path = Path(args.out)
    if args.plot_only:
        if not out_path.exists():
            print(f"{out_path}: no results to plot", file=sys.stderr)
            return 2
        print(plot(json.loads(out_path.read_text()), out_path.with_suffix(".png")))
        return 0
    task = load_task("adding", seq_len=args.seq_len)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("rows", {})
    results["setup"] = {"seq_len": args.seq_len, "hidden": args.hidden, "lr": args.lr,
                        "batch_size": args.batch_size,
                        "n_train": len(task.x_train), "n_test": len(task.x_test),
                        "solved_below": 0.01, "baseline_mse_predict_1": 0.1667}
    for name in args.models.split(","):
        if name not in CONFIGS:
            print(f"--models: unknown row {name!r}; known: {', '.join(CONFIGS)}", file=sys.stderr)
            return 2
        opts, lam, lr = CONFIGS[name]
        lr = args.lr if lr is None else lr
        cfg = TrainConfig(task="adding", model=name.split("-")[0], hidden=args.hidden, epochs=args.epochs,
                          batch_size=args.batch_size, lr=lr, budget=lam, seq_len=args.seq_len,
                          options=opts, threads=args.threads)
        curve = []

        def stop(epoch, model, curve=curve, name=name):  # bind this row's curve and name
            ev = evaluate(model, task, "test")
            curve.append({"epoch": epoch, "test_mse": ev["value"], "update_rate": ev["update_rate"]})
            print(f"  {name} epoch {epoch}: test MSE {ev['value']:.4f}, update rate {ev['update_rate']:.3f}",
                  flush=True)
            return ev["value"] < args.stop_below

        t0 = time.perf_counter()
        model, hist = train(cfg, task, progress=True, stop=stop)
        m = score_model(model, task, {"seed": 0, "hidden": args.hidden, "layers": 1, "budget": lam})
        row = {"model": name, "budget": lam, "lr": lr, "options": opts, "solved": m["solved"], "mse": m["mse"],
               "skip_percent": m["skip_percent"], "update_rate": m["update_rate"],
               "flops_per_sequence": m["flops_per_sequence"], "epochs_run": len(hist["epochs"]),
               "max_epochs": args.epochs, "stop_below": args.stop_below,
               "train_seconds": time.perf_counter() - t0, "curve": curve}
        # re-read before writing: another run may have added rows for other models meanwhile
        latest = json.loads(out_path.read_text()) if out_path.exists() else {}
        results["rows"] = {**latest.get("rows", {}), **results["rows"], name: row}
        write_json_atomic(out_path, results)
        plot(results, out_path.with_suffix(".png"))
        print(f"{name}: solved={row['solved']} mse={row['mse']:.4f} skip={row['skip_percent']:.1f}% "
              f"FLOPs={row['flops_per_sequence']:.3g} ({row['train_seconds']:.0f} s)", flush=True)
    return 0


def plot(results, png):
    """Learning curves of every row: test MSE and update rate per epoch."""
    from surnn_neuro.reports.plots import plot_learning_curves

    curves = {}
    for name, row in results["rows"].items():
        lr = row.get("lr", results["setup"]["lr"])
        label = f"{name} (λ={row['budget']:g}, lr={lr:g}): {'solved' if row['solved'] else 'not solved'}"
        curves[label] = [{"epoch": c["epoch"], "value": c["test_mse"], "update_rate": c["update_rate"]}
                         for c in row["curve"]]
    s = results["setup"]
    return plot_learning_curves(curves, png, metric="test MSE", threshold=s["solved_below"],
                                baseline=s["baseline_mse_predict_1"],
                                title=f"Adding problem, T = {s['seq_len']}, H = {s['hidden']} (SA-RNN Table 4)")


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
