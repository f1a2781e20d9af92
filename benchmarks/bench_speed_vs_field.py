"""surnn-neuro beside the field: wall-clock of inference and of a training step against update rate.

One process, every case interleaved with the others in each repeat (all see the same background
load), medians of wall and CPU time. Peers at the same width: torch nn.GRU (fused), a torch GRUCell
loop, Norse LIFRecurrent, snnTorch RLeaky (a Linear input layer + RLeaky, stepped in Python, its
documented use).

- **Inference** (H = 1024, T = 784, V = 1, O = 10, batch 1, 16, 64): a sugru of duty r (oscillator
  gate, period range = T) converted to its event graph and run on the reference simulator, float64
  (exact) and float32 engines, at r = 5, 17, 50 %; the peers under ``torch.no_grad`` in float32.
  Input: pixel intensities with 80 % exact zeros (sMNIST-like).
- **Training step** (H = 256, T = 200, B = 64, V = 16, 10 classes, forward + backward + Adam):
  sugru at r = 5, 17, 50 % with the learnable gate (default) and with the frozen one
  (``learn_gate=False``), both on the sparse loop; the project's dense gru; the peers.
- **Agreement** of each reference engine with the torch model (float32, eval): gate spikes equal?
  max |output difference|.
- **Bounds** (derived, printed and stored): bytes of weight rows the reference streams per step and
  the bandwidth that implies; the training step's time per recurrence step (the Python/dispatch
  floor of a T-step loop) next to nn.GRU's.

Writes ``benchmarks/results/speed_vs_field.json`` and ``speed_vs_field.png`` (time against update
rate, the peers as horizontal lines). ``--quick``: small sizes, a check that everything runs.

    .venv/bin/python benchmarks/bench_speed_vs_field.py [--repeats 5] [--threads 2] [--quick]
    .venv/bin/python benchmarks/bench_speed_vs_field.py --profile-training 0.05   # torch profiler table
    .venv/bin/python benchmarks/bench_speed_vs_field.py --crossover               # sparse/dense per rate
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.models import build
from surnn_neuro.simulators import reference

RESULTS = Path(__file__).resolve().parent / "results"
RATES = (0.05, 0.17, 0.5)
FULL = dict(inf_hidden=1024, inf_steps=784, inf_batches=(1, 16, 64), tr_hidden=256, tr_steps=200, tr_batch=64,
            tr_inputs=16)
QUICK = dict(inf_hidden=128, inf_steps=100, inf_batches=(1, 4), tr_hidden=64, tr_steps=40, tr_batch=8, tr_inputs=4)
CLASSES = 10


# ---------------------------------------------------------------------------------------------
# peers (torch float32)
# ---------------------------------------------------------------------------------------------

class GRUNet(torch.nn.Module):
    """torch nn.GRU (fused) + readout of the last step."""

    def __init__(self, v, h):
        super().__init__()
        self.rnn, self.out = torch.nn.GRU(v, h), torch.nn.Linear(h, CLASSES)

    def forward(self, x):
        return self.out(self.rnn(x)[0][-1])


class GRUCellNet(torch.nn.Module):
    """A GRUCell stepped in Python, the form a user writes for a custom gate."""

    def __init__(self, v, h):
        super().__init__()
        self.cell, self.out = torch.nn.GRUCell(v, h), torch.nn.Linear(h, CLASSES)

    def forward(self, x):
        h = x.new_zeros(x.shape[1], self.cell.hidden_size)
        for x_t in x:
            h = self.cell(x_t, h)
        return self.out(h)


class NorseNet(torch.nn.Module):
    """Norse LIFRecurrent (its own time loop over (T, B, V)) + readout of the last step's spikes."""

    def __init__(self, v, h):
        super().__init__()
        import norse.torch as norse

        self.rnn, self.out = norse.LIFRecurrent(v, h), torch.nn.Linear(h, CLASSES)

    def forward(self, x):
        z, _ = self.rnn(x)
        return self.out(z[-1])


class SnnTorchNet(torch.nn.Module):
    """Linear input layer + snnTorch RLeaky (all-to-all recurrence), stepped in Python."""

    def __init__(self, v, h):
        super().__init__()
        import snntorch

        self.fc = torch.nn.Linear(v, h)
        self.lif = snntorch.RLeaky(beta=0.9, linear_features=h)
        self.out = torch.nn.Linear(h, CLASSES)

    def forward(self, x):
        spk, mem = self.lif.init_rleaky()
        for x_t in x:
            spk, mem = self.lif(self.fc(x_t), spk, mem)
        return self.out(spk)


PEERS = {"torch nn.GRU": GRUNet, "torch GRUCell loop": GRUCellNet, "Norse LIFRecurrent": NorseNet,
         "snnTorch RLeaky": SnnTorchNet}


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------

def interleaved(cases: dict, repeats: int, desc: str) -> dict:
    """Run every case once per repeat, in turn (after one warm-up each); medians of wall and CPU s."""
    for fn in cases.values():
        fn()
    wall = {k: [] for k in cases}
    cpu = {k: [] for k in cases}
    for _ in tqdm(range(repeats), desc=desc):
        for k, fn in cases.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: {"wall_s": statistics.median(wall[k]), "cpu_s": statistics.median(cpu[k]),
                "wall_all_s": wall[k]} for k in cases}


def pixel_input(batch, steps, rng):
    x = rng.random((batch, steps, 1))
    x[rng.random(x.shape) < 0.8] = 0.0
    return x


def sugru(v, h, steps, rate, seed=0, **opts):
    torch.manual_seed(seed)
    return build("sugru", v, h, CLASSES, seq_len=steps, duty=rate, **opts)


# ---------------------------------------------------------------------------------------------
# inference
# ---------------------------------------------------------------------------------------------

def inference(cfg, repeats, rng):
    h, n_t = cfg["inf_hidden"], cfg["inf_steps"]
    models = {r: sugru(1, h, n_t, r).eval() for r in RATES}
    graphs = {r: to_graph(m) for r, m in models.items()}
    peers = {}
    for name, cls in PEERS.items():
        torch.manual_seed(0)
        peers[name] = cls(1, h).eval()
    results, agreement = {}, {}
    for batch in cfg["inf_batches"]:
        x = pixel_input(batch, n_t, rng)
        xt = torch.from_numpy(x).float().transpose(0, 1).contiguous()  # (T, B, 1)
        cases = {}
        for r, g in graphs.items():
            cases[f"surnn-neuro reference float64 @{r:.2f}"] = lambda g=g, x=x: reference.run(g, x)
            cases[f"surnn-neuro reference float32 @{r:.2f}"] = lambda g=g, x=x: reference.run(g, x, np.float32)
        for name, m in peers.items():
            def run(m=m, xt=xt):
                with torch.no_grad():
                    m(xt)
            cases[name] = run
        res = interleaved(cases, repeats, f"inference batch {batch}")
        rates_measured = {}
        for r, g in graphs.items():
            tr = reference.run(g, x)
            rates_measured[f"{r:.2f}"] = tr.update_rate()
            with torch.no_grad():
                y_t, gates = models[r](xt)
            same = np.array_equal(tr.gate_spikes[tr.layer_names[0]], gates[0].numpy().transpose(1, 0, 2) > 0)
            tr32 = reference.run(g, x, np.float32)
            same32 = np.array_equal(tr32.gate_spikes[tr.layer_names[0]], tr.gate_spikes[tr.layer_names[0]])
            agreement[f"batch {batch} @{r:.2f}"] = {
                "float64_gate_spikes_equal_torch": bool(same),
                "float32_gate_spikes_equal_torch": bool(same32 and same),
                "float64_max_abs_output_diff_vs_torch_float32": float(np.abs(tr.outputs - y_t.numpy()).max()),
                "float32_max_abs_output_diff_vs_torch_float32": float(np.abs(tr32.outputs - y_t.numpy()).max()),
                "float32_max_abs_output_diff_vs_float64": float(np.abs(tr32.outputs - tr.outputs).max()),
            }
        results[f"batch {batch}"] = {"times": res, "measured_update_rate": rates_measured,
                                     "bounds": _inference_bounds(res, graphs, rates_measured, h, n_t, batch)}
    return results, agreement


def _inference_bounds(res, graphs, rates, h, n_t, batch):
    """Weight bytes the reference streams (the k_t event rows of W_hh.T, 3H wide, once per group of
    samples; groups = min(threads, B)) and the bandwidth that implies."""
    out = {}
    groups = min(int(reference._threads()), batch) if reference._kernel_module() is not None else batch
    for r in graphs:
        for dt, size in (("float64", 8), ("float32", 4)):
            b = rates[f"{r:.2f}"] * h * n_t * 3 * h * size * groups
            t = res[f"surnn-neuro reference {dt} @{r:.2f}"]["wall_s"]
            out[f"{dt} @{r:.2f}"] = {"weight_bytes_streamed": b, "implied_GB_per_s": b / t / 1e9,
                                     "us_per_step": 1e6 * t / n_t}
    gru = res["torch nn.GRU"]["wall_s"]
    out["torch nn.GRU"] = {"dense_MACs": n_t * batch * 3 * h * (h + 1), "GFLOP_per_s": 2 * n_t * batch * 3 * h *
                           (h + 1) / gru / 1e9}
    return out


# ---------------------------------------------------------------------------------------------
# training step
# ---------------------------------------------------------------------------------------------

def _train_step(model, x, y, forward=None):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step():
        out = model(x) if forward is None else forward(model, x)
        loss = torch.nn.functional.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def training(cfg, repeats, device):
    h, n_t, batch, v = cfg["tr_hidden"], cfg["tr_steps"], cfg["tr_batch"], cfg["tr_inputs"]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_t, batch, v, generator=gen).to(device)
    y = torch.randint(0, CLASSES, (batch,), generator=gen).to(device)
    ours = lambda m, x: m(x)[0]  # noqa: E731 - (outputs, gates) -> outputs
    cases = {}
    for r in RATES:
        cases[f"surnn-neuro sugru (learnable gate) @{r:.2f}"] = _train_step(sugru(v, h, n_t, r).to(device), x, y, ours)
        cases[f"surnn-neuro sugru (frozen gate) @{r:.2f}"] = _train_step(
            sugru(v, h, n_t, r, learn_gate=False).to(device), x, y, ours)
    torch.manual_seed(0)
    cases["surnn-neuro gru (dense)"] = _train_step(build("gru", v, h, CLASSES).to(device), x, y, ours)
    for name, cls in PEERS.items():
        torch.manual_seed(0)
        cases[name] = _train_step(cls(v, h).to(device), x, y)
    res = interleaved(cases, repeats, "training step")
    rates = {f"{r:.2f}": float(sugru(v, h, n_t, r)(x.cpu())[1][0].mean()) for r in RATES}
    bounds = {k: {"us_per_recurrence_step": 1e6 * t["wall_s"] / n_t} for k, t in res.items()}
    return {"times": res, "measured_update_rate": rates, "bounds": bounds}


def profile_training(cfg, rate, learn_gate):
    """Print the torch profiler's op table of three sparse training steps (what bounds them)."""
    from torch.profiler import ProfilerActivity, profile

    h, n_t, batch, v = cfg["tr_hidden"], cfg["tr_steps"], cfg["tr_batch"], cfg["tr_inputs"]
    x, y = torch.randn(n_t, batch, v), torch.randint(0, CLASSES, (batch,))
    step = _train_step(sugru(v, h, n_t, rate, learn_gate=learn_gate), x, y, lambda m, x: m(x)[0])
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    ops = sum(e.count for e in prof.key_averages() if e.key.startswith("aten::"))
    print(f"aten calls per recurrence step: {ops / (3 * n_t):.1f}")


def crossover(cfg, repeats):
    """Sparse / dense time of one layer's forward + backward per cell, update rate and mask gradient
    (random shared masks): where ``layer.sparse = "auto"`` should switch (``SPARSE_CROSSOVER``)."""
    from surnn_neuro.models.gates import Gate
    from surnn_neuro.models.layer import SelectiveUpdateLayer

    class Fixed(Gate):
        def __init__(self, mask):
            super().__init__(mask.shape[1])
            self.mask = mask

        def schedule(self, T, device=None, dtype=torch.float32):
            return self.mask[:T]

    h, n_t, batch, v = cfg["tr_hidden"], cfg["tr_steps"], cfg["tr_batch"], cfg["tr_inputs"]
    x = torch.randn(n_t, batch, v)
    cases = {}
    for cell in ("gru", "rnn", "lstm"):
        for rate in (0.1, 0.3, 0.5, 0.7, 0.9):
            for grad in (False, True):
                torch.manual_seed(0)
                mask = (torch.rand(n_t, h) < rate).float().requires_grad_(grad)
                for mode in ("on", "off"):
                    layer = SelectiveUpdateLayer(cell, v, h, Fixed(mask))
                    layer.sparse = mode

                    def step(layer=layer):
                        layer(x)[0][-1].sum().backward()
                    cases[(cell, rate, grad, mode)] = step
    res = interleaved(cases, repeats, "crossover")
    out = {}
    for (cell, rate, grad, mode), t in res.items():
        if mode == "on":
            ratio = t["cpu_s"] / res[(cell, rate, grad, "off")]["cpu_s"]
            out[f"{cell} rate {rate} mask-grad {grad}"] = ratio
            print(f"{cell:4s} rate {rate:.1f} mask gradient {str(grad):5s}: sparse / dense CPU time {ratio:.2f}")
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------

def targets(inf, tr):
    """The issue's targets, as measured (ratios of wall medians)."""
    out = {}
    for key, block in inf.items():
        t = block["times"]
        ours = min(t[f"surnn-neuro reference {d} @0.17"]["wall_s"] for d in ("float64", "float32"))
        out[f"inference {key} @0.17: nn.GRU / ours (best engine)"] = t["torch nn.GRU"]["wall_s"] / ours
        out[f"inference {key} @0.17: nn.GRU / ours (float64)"] = (
            t["torch nn.GRU"]["wall_s"] / t["surnn-neuro reference float64 @0.17"]["wall_s"])
        for peer in ("Norse LIFRecurrent", "snnTorch RLeaky"):
            out[f"inference {key} @0.17: {peer} / ours (best engine)"] = t[peer]["wall_s"] / ours
    t = tr["times"]
    for gate in ("learnable", "frozen"):
        for r in ("0.17", "0.05"):
            out[f"training @{r} ({gate} gate) / nn.GRU"] = (
                t[f"surnn-neuro sugru ({gate} gate) @{r}"]["wall_s"] / t["torch nn.GRU"]["wall_s"])
        out[f"training @0.17 ({gate} gate) / Norse"] = (
            t[f"surnn-neuro sugru ({gate} gate) @0.17"]["wall_s"] / t["Norse LIFRecurrent"]["wall_s"])
    return out


def figure(inf, tr, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(f"inference, {k}", v["times"]) for k, v in inf.items()] + [("training step", tr["times"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8))
    rates = np.array(RATES) * 100
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (title, t) in zip(np.atleast_1d(axes), panels):
        ours = sorted({k.rsplit(" @", 1)[0] for k in t if "@" in k})
        for i, name in enumerate(ours):
            ax.plot(rates, [1e3 * t[f"{name} @{r:.2f}"]["wall_s"] for r in RATES], "o-", color=colors[i],
                    label=name.replace("surnn-neuro ", ""))
        peers = [k for k in t if "@" not in k]
        for j, name in enumerate(peers):
            ax.axhline(1e3 * t[name]["wall_s"], ls="--", color=colors[(len(ours) + j) % len(colors)], label=name)
        ax.set_yscale("log")
        ax.set_xlabel("update rate (%)")
        ax.set_ylabel("wall time (ms, median)")
        ax.set_title(title)
        ax.set_xticks(rates)
        ax.legend(fontsize=6.5)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (numba: NUMBA_NUM_THREADS)")
    ap.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    ap.add_argument("--device", default="cpu", help="training step device (peers and ours); not timed on a GPU here")
    ap.add_argument("--skip-inference", action="store_true")
    ap.add_argument("--skip-training", action="store_true")
    ap.add_argument("--profile-training", type=float, metavar="RATE", help="print a profile of the sparse step")
    ap.add_argument("--frozen", action="store_true", help="with --profile-training: learn_gate=False")
    ap.add_argument("--crossover", action="store_true", help="print sparse/dense ratios of one layer (training sizes)")
    ap.add_argument("--out", type=Path, default=RESULTS / "speed_vs_field.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = QUICK if args.quick else FULL
    if args.profile_training is not None:
        profile_training(cfg, args.profile_training, not args.frozen)
        return 0
    if args.crossover:
        crossover(cfg, args.repeats)
        return 0
    rng = np.random.default_rng(0)
    meta = {"config": cfg, "quick": args.quick, "repeats": args.repeats, "torch_threads": args.threads,
            "numba_threads": int(reference._threads()) if reference._kernel_module() is not None else None,
            "reference_engine": reference.engine(), "device": args.device, "machine": platform.processor(),
            "python": sys.version.split()[0], "torch": torch.__version__, "load_average_start": os.getloadavg()}
    inf = agreement = tr = None
    if not args.skip_inference:
        inf, agreement = inference(cfg, args.repeats, rng)
    if not args.skip_training:
        tr = training(cfg, args.repeats, args.device)
    meta["load_average_end"] = os.getloadavg()
    out = {"meta": meta, "inference": inf, "agreement": agreement, "training": tr,
           "targets": targets(inf, tr) if inf and tr else None}
    write_json_atomic(args.out, out)
    if inf and tr:
        figure(inf, tr, args.out.with_suffix(".png"))
    for block, name in ((inf, "inference"), (tr and {"": tr}, "training")):
        for key, b in (block or {}).items():
            print(f"\n## {name} {key}")
            for case, t in b["times"].items():
                print(f"  {case:48s} {1e3 * t['wall_s']:10.1f} ms wall  {1e3 * t['cpu_s']:10.1f} ms CPU")
    for k, v in (out["targets"] or {}).items():
        print(f"  {k}: {v:.2f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
