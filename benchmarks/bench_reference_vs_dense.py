"""Wall-clock of the event-driven reference simulator vs the dense numpy baseline.

sMNIST-like: batch 1, T = 784 steps, V = 1 input (pixel intensities, ~80 % exact zeros), one GRU
layer of H = 1024, a non-periodic schedule gate with a random (T, H) mask at update rate r, readout
O = 10 (``last``). Per rate: best of ``--repeats`` runs of each simulator, speed-up = dense / reference,
to compare with the ideal 1 / r (the recurrent product dominates both; the reference does r of it).

Writes ``benchmarks/results/reference_vs_dense.json`` (atomically) and prints a table.

    .venv/bin/python benchmarks/bench_reference_vs_dense.py [--repeats 3] [--hidden 1024]
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
from surnn_neuro.ir import EventGraph, InputNode, LayerNode, ReadoutNode, ScheduleGate
from surnn_neuro.simulators import dense, reference

RESULTS = Path(__file__).resolve().parent / "results" / "reference_vs_dense.json"


def make_graph(hidden: int, steps: int, rate: float, rng) -> EventGraph:
    v, o = 1, 10
    layer = LayerNode(
        "gru",
        cell="gru",
        w_ih=rng.normal(0, 1.0, (3 * hidden, v)),
        w_hh=rng.normal(0, 1.0 / np.sqrt(hidden), (3 * hidden, hidden)),
        b_ih=rng.normal(0, 0.1, 3 * hidden),
        b_hh=rng.normal(0, 0.1, 3 * hidden),
    )
    gate = ScheduleGate("gate", mask=rng.random((steps, hidden)) < rate, periodic=False)
    ro = ReadoutNode("readout", weight=rng.normal(0, 1 / np.sqrt(hidden), (o, hidden)), bias=rng.normal(0, 0.1, o))
    return EventGraph.sequential(InputNode("pixels", size=v, encoding="dense"), [(layer, gate)], ro)


def make_input(steps: int, rng) -> np.ndarray:
    x = rng.random((1, steps, 1))
    x[rng.random(x.shape) < 0.8] = 0.0
    return x


def timed(fn, repeats: int, bar) -> tuple[float, float, object]:
    """(best, first, result) over ``repeats`` calls; the first call of the reference on a new graph
    also transposes its weights (cached per graph afterwards)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        bar.update(1)
    return min(times), times[0], out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--steps", type=int, default=784)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.17, 0.5, 1.0])
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    load_at_start = os.getloadavg()
    rng = np.random.default_rng(0)
    x = make_input(args.steps, rng)
    rows = []
    with tqdm(total=2 * args.repeats * len(args.rates), desc="reference vs dense", unit="run") as bar:
        for rate in args.rates:
            graph = make_graph(args.hidden, args.steps, rate, rng)
            t_ref, t_ref_first, tr_ref = timed(lambda: reference.run(graph, x), args.repeats, bar)
            t_dense, _, tr_dense = timed(lambda: dense.run(graph, x), args.repeats, bar)
            same = all(np.array_equal(tr_ref.gate_spikes[k], tr_dense.gate_spikes[k]) for k in tr_ref.layer_names)
            rows.append({
                "rate": rate,
                "measured_update_rate": tr_ref.update_rate(),
                "inverse_rate": 1.0 / rate,
                "reference_s": t_ref,
                "reference_first_call_s": t_ref_first,
                "dense_s": t_dense,
                "speedup": t_dense / t_ref,
                "speedup_over_ideal": (t_dense / t_ref) * rate,
                "max_abs_output_diff": float(np.abs(tr_ref.outputs - tr_dense.outputs).max()),
                "same_gate_spikes": bool(same),
                "synaptic_ops_per_sample": tr_ref.total("synaptic_ops"),
                "dense_macs_per_sample": tr_ref.total("dense_macs"),
            })

    result = {
        "benchmark": "reference_vs_dense",
        "config": {
            "batch": 1, "steps": args.steps, "input_size": 1, "hidden": args.hidden, "cell": "gru",
            "gate": "schedule (random non-periodic mask)", "readout": "last, O=10", "input": "80% zeros",
            "encoding": "dense", "dtype": "float64", "repeats": args.repeats,
            "timing": "best of repeats, wall clock (time.perf_counter), same process, dense and reference "
                      "alternating per rate",
        },
        "machine": {
            "python": platform.python_version(), "numpy": np.__version__, "processor": platform.processor(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average_at_start": list(load_at_start),
        },
        "results": rows,
    }
    write_json_atomic(args.out, result)

    print(f"\n{'rate':>6} {'1/rate':>7} {'reference s':>12} {'dense s':>9} {'speed-up':>9} {'of ideal':>9}")
    for r in rows:
        print(f"{r['rate']:>6.2f} {r['inverse_rate']:>7.1f} {r['reference_s']:>12.4f} {r['dense_s']:>9.4f} "
              f"{r['speedup']:>9.2f} {r['speedup_over_ideal']:>9.2f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
