"""event-digits (the built-in event-camera digits): sugru accuracy and update rate.

Target (issue "Event datasets"): sugru reaches >= 95 % test accuracy at an update rate <= 25 %.
Also trains the dense gru with the same settings for reference, and records the event-driven
counts of the converted sugru on the reference simulator. Writes benchmarks/results/event_digits.json.

    python benchmarks/bench_event_digits.py [--epochs 20] [--hidden 64] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.simulators import simulate
from surnn_neuro.training.loop import TrainConfig, train
from surnn_neuro.training.runs import score_model
from surnn_neuro.training.tasks import load_task

OUT = Path(__file__).parent / "results" / "event_digits.json"
#: the recipe: mean readout over the 30 bins, oscillator gates starting at a 20 % duty cycle
RECIPE = {"sugru": {"duty": 0.2, "readout": "mean"}, "gru": {"readout": "mean"}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    task = load_task("event-digits")
    rows = {}
    for name, opts in RECIPE.items():
        cfg = TrainConfig(task="event-digits", model=name, hidden=args.hidden, epochs=args.epochs,
                          batch_size=32, lr=5e-3, seed=args.seed, options=opts)
        t0 = time.perf_counter()
        model, _ = train(cfg, task)
        m = score_model(model, task, {"seed": args.seed, "hidden": args.hidden, "layers": 1, "budget": 0.0})
        trace = simulate(to_graph(model), task.x_test.numpy().astype(np.float64), backend="reference")
        rows[name] = {"options": opts, "accuracy": m["accuracy"], "update_rate": m["update_rate"],
                      "flops_per_sequence": m["flops_per_sequence"],
                      "train_seconds": time.perf_counter() - t0,
                      "per_inference": {k: trace.total(k, per_sample=True)
                                        for k in ("events", "synaptic_ops", "ac_ops", "dense_macs")}}
        print(f"{name}: accuracy {m['accuracy']:.4f}, update rate {m['update_rate']:.3f}", flush=True)
    s = rows["sugru"]
    out = {"task": "event-digits", "hidden": args.hidden, "epochs": args.epochs, "seed": args.seed,
           "input_shape": list(task.x_train.shape[1:]), "models": rows,
           "target": "sugru accuracy >= 0.95 at update rate <= 0.25",
           "met": bool(s["accuracy"] >= 0.95 and s["update_rate"] <= 0.25)}
    write_json_atomic(OUT, out)
    print(f"target met: {out['met']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
