"""Bit-for-bit behaviour snapshot: record every backend's traces and the torch models' numbers, or
compare against a recorded snapshot.

    python scripts/trace_snapshot.py record DIR [--graphs G.h5 ...] [--lava]
    python scripts/trace_snapshot.py compare DIR

A refactor keeps behaviour when ``compare`` reports no difference: every array of every trace
(outputs, gate spikes, the five count arrays, the reference's states) and every torch number
(outputs, gates, gradients, weights after a few Adam steps, a short training run) must be equal to
the last bit (``np.array_equal``). Cases: random graphs of every gate kind × cell kind, every input
encoding and readout mode, two-layer mixes, a spiking (LIF/CubaLIF) graph, and the graphs given with
``--graphs`` (e.g. the main job's). Backends: reference (numba and numpy engines), dense, snntorch,
norse, and with ``--lava`` lava and lava-fixed on a subset (slow).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

BACKENDS = ("reference", "reference-numpy", "dense", "snntorch", "norse")
LAVA = ("lava", "lava-fixed")


def graph_cases(extra_graphs=()):
    """name -> (graph, x, lava?)."""
    from surnn_neuro.ir.examples import GATE_KINDS, random_graph, random_input
    from surnn_neuro.ir.io import read_graph

    cases = {}
    encodings, readouts = ("dense", "delta", "spikes"), ("last", "mean", "all")
    k = 0
    for gate in GATE_KINDS:
        for cell in ("gru", "rnn", "lstm"):
            enc, ro = encodings[k % 3], readouts[(k // 3) % 3]
            g = random_graph(cells=(cell,), gate=gate, hidden=(6,), encoding=enc, readout=ro, seed=k)
            cases[f"{gate}-{cell}-{enc}-{ro}"] = (g, random_input(g, 3, 23, seed=k), cell == "gru")
            k += 1
    for i, (cells, gates) in enumerate([(("gru", "rnn"), ("threshold", "global")),
                                        (("lstm", "gru"), ("oscillator", "schedule")),
                                        (("gru", "gru"), ("always", "threshold"))]):
        g = random_graph(cells=cells, gate=gates, hidden=(7, 5), encoding=encodings[i], seed=50 + i)
        cases[f"mix{i}-" + "-".join(gates)] = (g, random_input(g, 2, 19, seed=50 + i), i == 0)
    from surnn_neuro.ir.examples import random_spiking_graph

    sg = random_spiking_graph()
    cases["spiking"] = (sg, (np.random.default_rng(0).random((3, 17, 4)) < 0.3).astype(np.float64), True)
    for path in extra_graphs:
        g = read_graph(path)
        rng = np.random.default_rng(7)
        x = rng.random((4, 64 if g.input.size == 1 else 30, g.input.size))
        if g.input.encoding == "spikes":
            x = (x < 0.2).astype(np.float64)
        cases[f"graph-{Path(path).parent.name}-{Path(path).stem}"] = (g, x, True)
    return cases


def run_backend(graph, x, backend):
    from surnn_neuro.simulators import reference, simulate

    out = {}
    if backend == "reference-numpy":
        os.environ["SURNN_NEURO_NO_NUMBA"] = "1"
        try:
            trace, states = reference.run_with_states(graph, x)
        finally:
            del os.environ["SURNN_NEURO_NO_NUMBA"]
        for name, s in states.items():
            out[f"state/{name}"] = s
    elif backend == "reference":
        trace, states = reference.run_with_states(graph, x)
        for name, s in states.items():
            out[f"state/{name}"] = s
    else:
        trace = simulate(graph, x, backend=backend)
    out["outputs"] = np.asarray(trace.outputs)
    for name, g in trace.gate_spikes.items():
        out[f"gates/{name}"] = np.asarray(g)
    from surnn_neuro.ir.trace import COUNT_FIELDS

    for f in COUNT_FIELDS:
        out[f"count/{f}"] = np.asarray(getattr(trace, f))
    return out


def torch_cases():
    """Every model: outputs, gates, gradients and weights after 3 Adam steps; one short train()."""
    import torch

    from surnn_neuro.models import MODELS, build

    torch.set_num_threads(1)
    out = {}
    for i, name in enumerate(MODELS):
        for layers, readout in ((1, "last"), (2, "all")):
            torch.manual_seed(i)
            m = build(name, 3, 8, 4, seq_len=20, layers=layers, readout=readout)
            x = torch.randn(20, 5, 3, generator=torch.Generator().manual_seed(100 + i))
            opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
            key = f"{name}-{layers}-{readout}"
            for step in range(3):
                m.train()
                y, gates = m(x)
                loss = (y ** 2).mean() + 0.01 * sum(g.sum(0).mean() for g in gates)
                opt.zero_grad()
                loss.backward()
                if step == 0:
                    out[f"{key}/train_out"] = y.detach().numpy()
                    for k, g in enumerate(gates):
                        out[f"{key}/train_gates{k}"] = g.detach().numpy()
                    for pn, p in m.named_parameters():
                        if p.grad is not None:
                            out[f"{key}/grad/{pn}"] = p.grad.numpy().copy()
                opt.step()
            m.eval()
            with torch.no_grad():
                y, gates = m(x)
            out[f"{key}/eval_out"] = y.numpy()
            for k, g in enumerate(gates):
                out[f"{key}/eval_gates{k}"] = g.numpy()
            for pn, p in m.state_dict().items():
                out[f"{key}/weights/{pn}"] = p.numpy().copy()
    return out


def train_cases():
    """One short run of the training loop (digits subset) per model family."""
    from dataclasses import replace

    from surnn_neuro.training.loop import TrainConfig, train
    from surnn_neuro.training.tasks import load_task

    task = load_task("digits")
    task = replace(task, x_train=task.x_train[:96], y_train=task.y_train[:96])
    out = {}
    for model, budget in (("sugru", 0.01), ("sarnn", 0.001), ("skiprnn", 0.0), ("phased", 0.0)):
        cfg = TrainConfig(task="digits", model=model, hidden=12, epochs=2, batch_size=32, lr=3e-3,
                          budget=budget, seed=3, device="cpu")
        m, hist = train(cfg, task, progress=False)
        for pn, p in m.state_dict().items():
            out[f"{model}/{pn}"] = p.numpy().copy()
        out[f"{model}/loss"] = np.array([h["loss"] for h in hist["epochs"]])
    return out


def collect(extra_graphs, lava):
    data = {}
    for name, (g, x, lava_ok) in graph_cases(extra_graphs).items():
        backends = BACKENDS + (LAVA if (lava and lava_ok) else ())
        for b in backends:
            try:
                res = run_backend(g, x, b)
            except Exception as e:  # noqa: BLE001 - a backend refusing a graph is part of the snapshot
                res = {"error": np.array(f"{type(e).__name__}: {e}")}
            for k, v in res.items():
                data[f"graph/{name}/{b}/{k}"] = v
        print(f"  {name}: {', '.join(backends)}", flush=True)
    for k, v in torch_cases().items():
        data[f"torch/{k}"] = v
    print("  torch models", flush=True)
    for k, v in train_cases().items():
        data[f"train/{k}"] = v
    print("  training loop", flush=True)
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("record", "compare"))
    ap.add_argument("dir")
    ap.add_argument("--graphs", nargs="*", default=[])
    ap.add_argument("--lava", action="store_true")
    args = ap.parse_args(argv)
    d = Path(args.dir)
    if args.mode == "record":
        d.mkdir(parents=True, exist_ok=True)
        data = collect(args.graphs, args.lava)
        np.savez_compressed(d / "snapshot.npz", **data)
        (d / "snapshot.json").write_text(json.dumps({"graphs": args.graphs, "lava": args.lava}))
        print(f"recorded {len(data)} arrays in {d / 'snapshot.npz'}")
        return 0
    meta = json.loads((d / "snapshot.json").read_text())
    old = np.load(d / "snapshot.npz")
    new = collect(meta["graphs"], meta["lava"])
    bad = []
    for k in sorted(set(old.files) | set(new)):
        if k not in new or k not in old.files:
            bad.append(f"{k}: {'missing now' if k not in new else 'new'}")
            continue
        a, b = old[k], np.asarray(new[k])
        if a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b):
            diff = ""
            if a.shape == b.shape and a.dtype.kind in "fc" and b.dtype.kind in "fc":
                diff = f" max|diff| {np.max(np.abs(a.astype(float) - b.astype(float))):.3g}"
            bad.append(f"{k}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}{diff}")
    print(f"compared {len(old.files)} arrays: {len(bad)} differ")
    for line in bad[:60]:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
