"""Wall-clock of the event-driven reference simulator vs the dense numpy baseline.

sMNIST-like: batch 1, T = 784 steps, V = 1 input (pixel intensities, ~80 % exact zeros), one GRU
layer of H = 1024, a non-periodic schedule gate with a random (T, H) mask at update rate r, readout
O = 10 (``last``). Per rate: best of ``--repeats`` runs of each simulator (alternating in one process:
reference on the numba engine, reference on the numpy engine (``SURNN_NEURO_NO_NUMBA=1``), dense),
speed-up = dense / reference, to compare with the ideal 1 / r (the recurrent product dominates the
dense step; the reference streams only the r·H event rows of W_hh.T).

Measured with the default BLAS thread pool (the dense product may use every core; the reference is
single-threaded) and, if threadpoolctl is available, with BLAS limited to one thread (like for like).
The dense baseline is the fair one of :mod:`surnn_neuro.simulators.dense`: the input drive of all
steps in one product, one BLAS matvec per step for the recurrent drive.

The numba engine's one-off costs are measured in fresh interpreters with an empty numba cache
directory (``NUMBA_CACHE_DIR``): importing numba, the first call (compilation), a second interpreter
on the now filled cache (load, what every later process pays). Timings in the process exclude them
(a warm-up call first). The machine is shared: the JSON records the load averages at start and end
and around every rate.

Reading the numbers: both simulators are bound by streaming W_hh (25 MB at H = 1024, float64) from
L3/DRAM: the dense gemv reads all of it every step, the reference one 24 KB row per delta event
(``reference_us_per_event`` vs ``dense_us_per_step`` / H). The reference also skips the candidates
of closed neurons, so its speed-up can slightly exceed 1 / r. With the default pool the dense
product may use both cores and then gets up to about twice the bandwidth on an idle machine (the
reference stays single-threaded): compare at ``results_blas_1_thread`` for like for like and look at
the load averages.

Writes ``benchmarks/results/reference_vs_dense.json`` (atomically) and prints the tables.

    .venv/bin/python benchmarks/bench_reference_vs_dense.py [--repeats 5] [--hidden 1024]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

try:  # installed with scikit-learn; only used to add a single-thread BLAS comparison
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_info = threadpool_limits = None

from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.ir import COUNT_FIELDS, EventGraph, InputNode, LayerNode, ReadoutNode, ScheduleGate
from surnn_neuro.simulators import dense, reference

RESULTS = Path(__file__).resolve().parent / "results" / "reference_vs_dense.json"


def _blas_info():
    if threadpool_info is None:
        return None
    return [{k: i.get(k) for k in ("internal_api", "version", "num_threads")} for i in threadpool_info()]


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


def _engine(name: str):
    """Context: the reference's engine for the runs inside ("numba" / "numpy")."""
    @contextlib.contextmanager
    def ctx():
        old = os.environ.get(reference.ENV_NO_NUMBA)
        if name == "numpy":
            os.environ[reference.ENV_NO_NUMBA] = "1"
        else:
            os.environ.pop(reference.ENV_NO_NUMBA, None)
        try:
            assert reference.engine() == name, (name, reference.engine())
            yield
        finally:
            if old is None:
                os.environ.pop(reference.ENV_NO_NUMBA, None)
            else:
                os.environ[reference.ENV_NO_NUMBA] = old
    return ctx()


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(graph: EventGraph, x: np.ndarray, rate: float, repeats: int, numpy_repeats: int, bar) -> dict:
    """Alternate the runs (so that all see the same background load); best of each."""
    load_before = os.getloadavg()
    with _engine("numba"):
        reference.run(graph, x)  # warm-up: per-graph transposes (cached), numba dispatch
    t_nb, t_np, t_dense, ratios = [], [], [], []
    tr_np = None
    for k in range(repeats):
        with _engine("numba"):
            dt, tr_nb = _timed(lambda: reference.run(graph, x))
        t_nb.append(dt)
        if k < numpy_repeats:
            with _engine("numpy"):
                dt, tr_np = _timed(lambda: reference.run(graph, x))
            t_np.append(dt)
        dt, tr_dense = _timed(lambda: dense.run(graph, x))
        t_dense.append(dt)
        ratios.append(t_dense[-1] / t_nb[-1])
        bar.update(1)
    same = all(np.array_equal(tr_nb.gate_spikes[k], tr_dense.gate_spikes[k]) for k in tr_nb.layer_names)
    same_np = all(np.array_equal(tr_nb.gate_spikes[k], tr_np.gate_spikes[k]) for k in tr_nb.layer_names)
    counts_np = all(np.array_equal(getattr(tr_nb, f), getattr(tr_np, f)) for f in COUNT_FIELDS)
    best_nb, best_np, best_dense = min(t_nb), min(t_np), min(t_dense)
    return {
        "rate": rate,
        "measured_update_rate": tr_nb.update_rate(),
        "inverse_rate": 1.0 / rate,
        "reference_s": best_nb,
        "reference_numpy_s": best_np,
        "dense_s": best_dense,
        "speedup": best_dense / best_nb,
        "speedup_numpy": best_dense / best_np,
        "speedup_median_of_pairs": float(np.median(ratios)),
        "speedup_over_ideal": (best_dense / best_nb) * rate,
        "numba_over_numpy": best_np / best_nb,
        "reference_us_per_event": best_nb / max(1, tr_nb.total("events")) * 1e6,
        "dense_us_per_step": best_dense / x.shape[1] * 1e6,
        "reference_all_s": t_nb,
        "reference_numpy_all_s": t_np,
        "dense_all_s": t_dense,
        "max_abs_output_diff": float(np.abs(tr_nb.outputs - tr_dense.outputs).max()),
        "max_abs_output_diff_numba_numpy": float(np.abs(tr_nb.outputs - tr_np.outputs).max()),
        "same_gate_spikes": bool(same),
        "same_gate_spikes_and_counts_numba_numpy": bool(same_np and counts_np),
        "synaptic_ops_per_sample": tr_nb.total("synaptic_ops"),
        "dense_macs_per_sample": tr_nb.total("dense_macs"),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
    }


_COMPILE_SNIPPET = """
import json, time
t0 = time.perf_counter()
import numba
t_import = time.perf_counter() - t0
import numpy as np
from surnn_neuro.ir.examples import random_graph, random_input
from surnn_neuro.simulators import reference
assert reference.engine() == "numba"
g = random_graph(cells=("gru",), gate="schedule", hidden=(16,), input_size=1, seed=0)
x = random_input(g, batch=1, steps=50)
t0 = time.perf_counter(); reference.run(g, x); first = time.perf_counter() - t0
t0 = time.perf_counter(); reference.run(g, x); second = time.perf_counter() - t0
print(json.dumps({"import_numba_s": t_import, "first_call_s": first, "second_call_s": second}))
"""


def compile_times() -> dict:
    """First-call costs of the numba engine (float64 GRU, the benchmark's kernels), each in a fresh
    interpreter: with an empty cache directory (compilation), then on that filled cache (load)."""
    env = {k: v for k, v in os.environ.items() if k != reference.ENV_NO_NUMBA}
    out = {}
    with tempfile.TemporaryDirectory(prefix="surnn-numba-cache-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        for name in ("cold_cache", "warm_cache"):
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", _COMPILE_SNIPPET], env=env, check=True,
                                 capture_output=True, text=True)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            r["interpreter_total_s"] = time.perf_counter() - t0
            r["compile_or_load_s"] = r["first_call_s"] - r["second_call_s"]
            out[name] = r
    return out


def print_table(title: str, rows: list) -> None:
    print(f"\n{title}")
    print(f"{'rate':>6} {'1/rate':>7} {'ref numba s':>12} {'ref numpy s':>12} {'dense s':>9} {'speed-up':>9} "
          f"{'(numpy)':>8} {'median':>7} {'of ideal':>9}")
    for r in rows:
        print(f"{r['rate']:>6.2f} {r['inverse_rate']:>7.1f} {r['reference_s']:>12.4f} {r['reference_numpy_s']:>12.4f} "
              f"{r['dense_s']:>9.4f} {r['speedup']:>9.2f} {r['speedup_numpy']:>8.2f} "
              f"{r['speedup_median_of_pairs']:>7.2f} {r['speedup_over_ideal']:>9.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--steps", type=int, default=784)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--numpy-repeats", type=int, default=3, help="runs of the (slow) numpy engine per rate")
    p.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.17, 0.5, 1.0])
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    if reference.engine() != "numba":
        raise SystemExit(f"the numba engine is not available ({reference._KERNELS!r}); "
                         f"unset {reference.ENV_NO_NUMBA} / install numba")
    load_at_start = os.getloadavg()
    compile_info = compile_times()
    rng = np.random.default_rng(0)
    x = make_input(args.steps, rng)
    graphs = {rate: make_graph(args.hidden, args.steps, rate, rng) for rate in args.rates}
    configs = [("default", None)] + ([("blas_1_thread", 1)] if threadpool_limits is not None else [])
    results = {}
    with tqdm(total=args.repeats * len(args.rates) * len(configs), desc="reference vs dense", unit="round") as bar:
        for config, threads in configs:
            with threadpool_limits(threads) if threads else contextlib.nullcontext():
                results[config] = [measure(graphs[rate], x, rate, args.repeats, args.numpy_repeats, bar)
                                   for rate in args.rates]
    rows = results["default"]

    import numba

    result = {
        "benchmark": "reference_vs_dense",
        "config": {
            "batch": 1, "steps": args.steps, "input_size": 1, "hidden": args.hidden, "cell": "gru",
            "gate": "schedule (random non-periodic mask)", "readout": "last, O=10", "input": "80% zeros",
            "encoding": "dense", "dtype": "float64", "repeats": args.repeats, "numpy_repeats": args.numpy_repeats,
            "timing": "wall clock (time.perf_counter), one process, runs alternating (reference numba, "
                      "reference numpy, dense) after one warm-up call; speedup = best dense / best reference "
                      "(numba engine), speedup_numpy = best dense / best reference (numpy engine); "
                      "speedup_median_of_pairs = median of the per-repeat ratios (numba)",
            "reference": "single-threaded; numba engine: one compiled call per layer and sample",
            "dense": "input drive of all steps in one product, one BLAS matvec per step (W_hh @ h)",
        },
        "machine": {
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "processor": platform.processor(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average_at_start": list(load_at_start), "load_average_at_end": list(os.getloadavg()),
        },
        "blas": _blas_info(),
        "numba_first_call": compile_info,
        "results": rows,
        "results_blas_1_thread": results.get("blas_1_thread"),
    }
    write_json_atomic(args.out, result)

    for name, r in compile_info.items():
        print(f"numba {name}: import {r['import_numba_s']:.2f} s, first call {r['first_call_s']:.2f} s, "
              f"second {r['second_call_s'] * 1e3:.1f} ms")
    for config, rows_ in results.items():
        print_table(f"BLAS threads: {config}", rows_)
    print(f"load average start {load_at_start}, end {os.getloadavg()}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
