"""Lava target benchmarks: simulation throughput, and lava-fixed accuracy on digits.

1. **Throughput** (``benchmarks/results/lava_throughput.json``): Lava CPU simulation steps per second
   for one GRU layer of H = 64, 256, 1024 (V = 1 input, O = 10 readout ``last``, batch 1, T steps),
   with a non-periodic random schedule gate at update rates 5 %, 17 %, 50 %, 100 %, for the float
   (``floating_pt``) and bit-accurate (``fixed_pt``) models. Each configuration is one Lava run of
   ``T + L + 1`` steps, repeated ``--repeats`` times (the best run is kept, all are recorded);
   ``steps_per_s`` divides those steps by the time of the run itself (after the runtime has compiled
   and forked its processes, before reading the Vars back); both other phases are recorded too. The
   network has 9 Lava processes (ring buffer, counter, 3 Dense, gate, layer,
   readout, monitor), each an OS process synchronised every step by Lava's runtime service.

2. **Digits** (``benchmarks/results/lava_fixed_digits.json``): a sugru (H = 32) trained for
   ``--epochs`` epochs on scikit-learn digits (pixel by pixel, T = 64, the task's fixed 80/20 split),
   converted with ``to_graph``, then scored on the test split (``--subset`` samples, default all 360)
   by torch, the reference simulator, Lava float and Lava fixed point. The whole subset runs in one
   Lava run per model (samples back to back, 360 · 64 + 2 steps).

Both results are written atomically; a tqdm bar shows progress. The machine is shared (2 cores): the
load averages at start and end are recorded.

    .venv/bin/python benchmarks/bench_lava.py                 # both
    .venv/bin/python benchmarks/bench_lava.py --only throughput --steps 400 --repeats 2
    .venv/bin/python benchmarks/bench_lava.py --only digits --epochs 15 --subset 360
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.hw_targets.lava import network, runner
from surnn_neuro.ir import EventGraph, InputNode, LayerNode, ReadoutNode, ScheduleGate

RESULTS = Path(__file__).resolve().parent / "results"
HIDDEN = (64, 256, 1024)
RATES = (0.05, 0.17, 0.5, 1.0)


def machine() -> dict:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "loadavg": list(os.getloadavg())}


def make_graph(hidden: int, steps: int, rate: float, rng) -> EventGraph:
    v, o = 1, 10
    layer = LayerNode("gru", cell="gru", w_ih=rng.normal(0, 1.0, (3 * hidden, v)),
                      w_hh=rng.normal(0, 1.0 / np.sqrt(hidden), (3 * hidden, hidden)),
                      b_ih=rng.normal(0, 0.1, 3 * hidden), b_hh=rng.normal(0, 0.1, 3 * hidden))
    gate = ScheduleGate("gate", mask=rng.random((steps, hidden)) < rate, periodic=False)
    ro = ReadoutNode("readout", weight=rng.normal(0, 1 / np.sqrt(hidden), (o, hidden)), bias=rng.normal(0, 0.1, o))
    return EventGraph.sequential(InputNode("pixels", size=v, encoding="dense"), [(layer, gate)], ro)


def timed_run(graph, x, fixed: bool):
    with runner.quiet_lava_logging():
        net = network.build_network(graph, x, fixed_point=fixed)
    t0 = time.perf_counter()
    rec = runner.execute(net)
    total = time.perf_counter() - t0
    trace = runner.assemble_trace(net, rec)
    return trace, rec["timing"], total, net.n_lava_steps


def throughput(steps: int, seed: int, repeats: int) -> dict:
    rng = np.random.default_rng(seed)
    configs = [(h, r, fixed) for h in HIDDEN for r in RATES for fixed in (False, True)]
    rows = []
    start = machine()
    bar = tqdm(total=len(configs) * repeats, desc="lava throughput", unit="run")
    for h, rate, fixed in configs:
        g = make_graph(h, steps, rate, rng)
        x = rng.random((1, steps, 1))
        x[rng.random(x.shape) < 0.8] = 0.0
        runs = []
        for _ in range(repeats):  # the machine is shared: keep the best (least disturbed) run
            trace, timing, total, n = timed_run(g, x, fixed)
            runs.append((timing, total))
            bar.update(1)
        timing, total = min(runs, key=lambda r: r[0]["run_s"])
        rows.append({
            "hidden": h, "target_rate": rate, "update_rate": trace.update_rate(), "model": "fixed_pt" if fixed else
            "floating_pt", "lava_steps": n, "steps_per_s": n / timing["run_s"],
            "ms_per_step": 1e3 * timing["run_s"] / n, "steps_per_s_all_repeats": [n / r[0]["run_s"] for r in runs],
            "run_s": timing["run_s"], "startup_s": timing["startup_s"], "read_vars_s": timing["read_vars_s"],
            "total_s": total, "synaptic_ops_per_step": trace.total("synaptic_ops") / steps,
        })
    bar.close()
    res = {
        "benchmark": "Lava CPU simulation throughput (Loihi2SimCfg), one GRU layer, schedule gate",
        "command": f"python benchmarks/bench_lava.py --only throughput --steps {steps} --repeats {repeats} "
                   f"--seed {seed}",
        "steps_per_sample": steps,
        "repeats": repeats,
        "processes_per_network": 9,
        "machine_start": start,
        "machine_end": machine(),
        "results": rows,
        "note": ("steps_per_s = Lava steps / run time (runtime already started; Var read-back excluded). "
                 "Lava's float Dense computes the full W·s every step whatever the number of events, and "
                 "every process synchronises with the runtime service each step, so the update rate changes "
                 "the time only through the layer's candidate computation."),
    }
    write_json_atomic(RESULTS / "lava_throughput.json", res)
    return res


def digits(epochs: int, subset: int | None, hidden: int, seed: int) -> dict:

    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.simulators import reference
    from surnn_neuro.training import tasks
    from surnn_neuro.training.loop import TrainConfig, evaluate, train

    task = tasks.load_task("digits")
    cfg = TrainConfig(task="digits", model="sugru", hidden=hidden, epochs=epochs, batch_size=32, lr=1e-2,
                      device="cpu", seed=seed)
    t0 = time.perf_counter()
    model, hist = train(cfg, task, progress=True)
    train_s = time.perf_counter() - t0
    model.eval()
    n = len(task.x_test) if subset is None else min(subset, len(task.x_test))
    x = task.x_test[:n].double().numpy()  # (N, T, V) batch-first, as the Trace
    y = task.y_test[:n].numpy()
    torch_acc = float(evaluate(model, task)["value"]) if n == len(task.x_test) else None
    graph = to_graph(model)

    def acc(out):
        return float(np.mean(np.argmax(out, axis=1) == y))

    bar = tqdm(total=3, desc="digits: reference, lava, lava-fixed", unit="backend")
    t = time.perf_counter()
    ref = reference.run(graph, x)
    ref_s = time.perf_counter() - t
    bar.update(1)
    flt, flt_timing, flt_total, n_steps = timed_run(graph, x, fixed=False)
    bar.update(1)
    fix, fix_timing, fix_total, _ = timed_run(graph, x, fixed=True)
    bar.update(1)
    bar.close()
    same_spikes_float = all(np.array_equal(ref.gate_spikes[k], flt.gate_spikes[k]) for k in graph.layer_names)
    res = {
        "benchmark": "lava-fixed vs float accuracy, digits test split",
        "command": f"python benchmarks/bench_lava.py --only digits --epochs {epochs} --hidden {hidden} "
                   f"--seed {seed}" + (f" --subset {subset}" if subset else ""),
        "model": {"name": "sugru", "hidden": hidden, "epochs": epochs, "seed": seed, "train_s": train_s,
                  "final_loss": hist["epochs"][-1]["loss"]},
        "test_samples": n,
        "subset": "first n samples of the task's fixed test split" if n < len(task.x_test) else "full test split",
        "accuracy": {"torch": torch_acc, "reference": acc(ref.outputs), "lava_float": acc(flt.outputs),
                     "lava_fixed": acc(fix.outputs)},
        "fixed_minus_float_points": 100 * (acc(fix.outputs) - acc(flt.outputs)),
        "within_1_point": abs(acc(fix.outputs) - acc(flt.outputs)) <= 0.01,
        "argmax_agreement_fixed_vs_float": float(np.mean(np.argmax(fix.outputs, 1) == np.argmax(flt.outputs, 1))),
        "max_abs_output_diff": {"lava_float_vs_reference": float(np.abs(flt.outputs - ref.outputs).max()),
                                "lava_fixed_vs_reference": float(np.abs(fix.outputs - ref.outputs).max())},
        "gate_spikes_equal_lava_float_vs_reference": bool(same_spikes_float),
        "update_rate": ref.update_rate(),
        "fixed_point": fix.metadata["fixed_point"],
        "time_s": {"reference": ref_s, "lava_float_total": flt_total, "lava_fixed_total": fix_total,
                   "lava_float_run": flt_timing["run_s"], "lava_fixed_run": fix_timing["run_s"]},
        "lava_steps": n_steps,
        "machine": machine(),
    }
    write_json_atomic(RESULTS / "lava_fixed_digits.json", res)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=("throughput", "digits"), default=None)
    ap.add_argument("--steps", type=int, default=400, help="T per throughput configuration")
    ap.add_argument("--repeats", type=int, default=2, help="runs per throughput configuration (best kept)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--subset", type=int, default=None, help="test samples for digits (default: all 360)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.only in (None, "throughput"):
        res = throughput(a.steps, a.seed, a.repeats)
        print(f"{'H':>5} {'rate':>5} {'model':>12} {'steps/s':>9} {'ms/step':>8} {'startup s':>9}")
        for r in res["results"]:
            print(f"{r['hidden']:5d} {r['update_rate']:5.2f} {r['model']:>12} {r['steps_per_s']:9.1f} "
                  f"{r['ms_per_step']:8.2f} {r['startup_s']:9.2f}")
    if a.only in (None, "digits"):
        res = digits(a.epochs, a.subset, a.hidden, a.seed)
        print({k: res[k] for k in ("test_samples", "accuracy", "fixed_minus_float_points", "within_1_point")})


if __name__ == "__main__":
    main()
