"""The stages of the main job (:mod:`surnn_neuro.pipeline`): each reads and extends the shared
context dict and returns its summary."""

from __future__ import annotations

import time
from pathlib import Path

from surnn_neuro.errors import UserError
from surnn_neuro.fileio import write_text_atomic
from surnn_neuro.reports.run import padded_table as _table
from surnn_neuro.reports.run import subset_label


def _record_run(ctx, cfg, run_dir, task, stage: str, n_train_total: int) -> None:
    """Keep the training settings of a run for the report (``settings.json`` under ``--out``)."""
    from dataclasses import asdict

    rec = {k: v for k, v in asdict(cfg).items()
           if k in ("task", "model", "hidden", "layers", "epochs", "batch_size", "lr", "budget", "seed", "options",
                    "device")}
    rec.update(run=Path(run_dir).relative_to(ctx["out"]).as_posix(), stage=stage, seq_len=int(task.seq_len),
               n_train=int(len(task.y_train)), n_train_total=int(n_train_total), n_test=int(len(task.y_test)))
    ctx.setdefault("run_records", {})[rec["run"]] = rec


def _train(ctx, cfg, run_dir, task, stage: str, n_train_total: int) -> dict:
    from surnn_neuro.training.runs import train_run

    m = train_run(cfg, run_dir, task=task)
    _record_run(ctx, cfg, run_dir, task, stage, n_train_total)
    return m


def _subset(ctx, what: str, n: int, total: int) -> str:
    """The label of the first ``n`` of ``total`` test samples, remembered for the report's settings."""
    ctx.setdefault("subsets", {})[what] = (int(n), int(total))
    return subset_label(n, total)


def stage_train(ctx):
    """Train sugru and gru on digits; print the comparison table."""
    from surnn_neuro.reports.report import Section
    from surnn_neuro.training.loop import TrainConfig
    from surnn_neuro.training.tasks import load_task

    opts = ctx["options"]  # RunOptions
    epochs = opts.epochs or (2 if opts.quick else 20)
    hidden = 16 if opts.quick else opts.hidden
    task = load_task("digits")
    ctx["n_train_total"] = len(task.y_train)
    if opts.quick:
        from dataclasses import replace

        task = replace(task, x_train=task.x_train[:256], y_train=task.y_train[:256])
    rows, results = [], {}
    for model in ("sugru", "gru"):
        cfg = TrainConfig(task="digits", model=model, hidden=hidden, epochs=epochs, batch_size=32,
                          lr=5e-3, seed=opts.seed, device=opts.device)
        run_dir = ctx["out"] / "runs" / f"digits-{model}"
        m = _train(ctx, cfg, run_dir, task, "train", ctx["n_train_total"])
        results[model] = {"run_dir": str(run_dir), **m}
        rows.append([model, f"{100 * m['accuracy']:.2f}", f"{m['update_rate']:.3f}",
                     f"{m['skip_percent']:.1f}", f"{m['flops_per_sequence']:.4g}", m["params"],
                     f"{m['train_seconds']:.0f}"])
    n_test = len(task.y_test)
    sub = _subset(ctx, "train table (each model scored on the digits test split)", n_test, n_test)
    table = _table(rows, ["model", f"accuracy % ({sub})", "update rate", "skip %", "FLOPs/seq", "params",
                          "train s"])
    head = (f"digits (pixel by pixel, T={task.seq_len}), H={hidden}, {epochs} epochs, batch {cfg.batch_size}, "
            f"lr {cfg.lr:g}, seed {opts.seed}, "
            f"{subset_label(len(task.y_train), ctx['n_train_total'], 'training samples')}")
    print(f"\n## {head}\n")
    print(table)
    ratio = results["sugru"]["flops_per_sequence"] / results["gru"]["flops_per_sequence"]
    flops = (f"sugru needs {ratio:.3f}× the FLOPs of the dense gru "
             f"({100 * (1 - ratio):.1f} % fewer multiplications; SA-RNN's FLOPs, mean over {sub}).")
    print("\n" + flops)
    write_text_atomic(ctx["out"] / "train_table.md", table + "\n")
    ctx.setdefault("sections", {})["train"] = [Section(f"Training: {head}", table + "\n\n" + flops)]
    ctx["runs"] = {k: v["run_dir"] for k, v in results.items()}
    ctx["task"] = task
    return {"digits": results, "flops_ratio_sugru_vs_gru": ratio, "accuracy_subset": sub}


def _ensure_runs(ctx):
    """Run folders of the train stage (from this run, or from an earlier one in the same --out)."""
    if "runs" not in ctx:
        runs = {m: ctx["out"] / "runs" / f"digits-{m}" for m in ("sugru", "gru")}
        missing = [str(p) for p in runs.values() if not (p / "checkpoint.pt").exists()]
        if missing:
            raise UserError(f"--stages: {', '.join(missing)} not found; run the 'train' stage first")
        ctx["runs"] = {k: str(v) for k, v in runs.items()}
    if "task" not in ctx:
        from surnn_neuro.training.tasks import load_task

        ctx["task"] = load_task("digits")
    return ctx["runs"]


def stage_spikes(ctx):
    """Convert, simulate on every backend, check agreement, count events, draw the raster."""
    import numpy as np
    import torch

    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.ir.io import write_graph, write_trace
    from surnn_neuro.reports.plots import plot_update_raster
    from surnn_neuro.reports.report import Section
    from surnn_neuro.simulators import BACKENDS, simulate
    from surnn_neuro.simulate_task import score_trace
    from surnn_neuro.training.checkpoint import load_checkpoint

    runs = _ensure_runs(ctx)
    task = ctx["task"]
    limit = 64 if ctx["options"].quick else None
    x_t = task.x_test[:limit]
    y = task.y_test[:limit]
    x = x_t.numpy().astype(np.float64)
    backends = [b for b in ("reference", "snntorch", "norse") if b in BACKENDS]
    out = ctx["out"]
    agree_rows, count_rows, result = [], [], {}
    traces = {}
    for model_name, run_dir in runs.items():
        model, _ = load_checkpoint(run_dir)
        with torch.no_grad():
            ref_out, ref_gates = model(x_t.transpose(0, 1))
        ref_out = ref_out.numpy()
        ref_spikes = [g.transpose(0, 1).numpy().astype(bool) for g in ref_gates]
        graph = to_graph(model)
        write_graph(graph, out / "graphs" / f"digits-{model_name}.h5")
        first = None
        for backend in backends:
            trace = simulate(graph, x, backend=backend)
            write_trace(trace, out / "traces" / f"digits-{model_name}-{backend}.h5")
            same_gates = all(np.array_equal(trace.gate_spikes[ly.name], s)
                             for ly, s in zip(graph.layers, ref_spikes))
            same_counts = first is None or all(
                np.array_equal(getattr(trace, f), getattr(first, f))
                for f in ("events", "synaptic_ops", "ac_ops", "neuron_updates", "dense_macs"))
            diff = float(np.abs(trace.outputs - ref_out).max())
            acc = score_trace(task, trace, y)
            agree_rows.append([model_name, backend, "yes" if same_gates else "NO",
                               "yes" if same_counts else "NO", f"{diff:.2e}", f"{100 * acc:.2f}"])
            result[f"{model_name}/{backend}"] = {"gates_match_torch": same_gates,
                                                 "counts_match_reference": same_counts,
                                                 "max_abs_output_diff": diff, "accuracy": acc}
            first = first or trace
        traces[model_name] = first
        n = first.n_samples
        count_rows.append([model_name, f"{first.update_rate():.3f}",
                           f"{sum(int(g.sum()) for g in first.gate_spikes.values()) / n:.0f}",
                           f"{first.total('events') / n:.0f}", f"{first.total('synaptic_ops') / n:.0f}",
                           f"{first.total('neuron_updates') / n:.0f}", f"{first.total('dense_macs') / n:.0f}"])
    sub = _subset(ctx, "spikes stage (backend agreement, event counts)", len(y), len(task.y_test))
    agree = _table(agree_rows, ["model", "backend", "gates = torch", "counts = reference",
                                "max |out − torch|", f"accuracy % ({sub})"])
    counts = _table(count_rows, ["model", "update rate", "gate spikes", "events", "synaptic ops",
                                 "neuron updates", "dense MACs"])
    s_ops = traces["sugru"].total("synaptic_ops") / traces["gru"].total("synaptic_ops")
    agree_head = f"agreement: digits, {sub}, on {', '.join(backends)}"
    counts_head = f"events and synaptic operations per inference (reference backend, mean over {sub})"
    print(f"\n## {agree_head}\n")
    print(agree)
    print(f"\n## {counts_head}\n")
    print(counts)
    print(f"\nsugru needs {s_ops:.3f}× the synaptic operations of the dense gru.")
    raster = plot_update_raster(traces["sugru"].gate_spikes, out / "update_raster.png", sample=0,
                                title="sugru on digits: gate spikes (updates), test sample 0")
    write_text_atomic(out / "spikes_tables.md", agree + "\n\n" + counts + "\n")
    ctx["traces"] = traces
    ok = all(r["gates_match_torch"] and r["counts_match_reference"] and r["max_abs_output_diff"] < 1e-5
             for r in result.values())
    verdict = f"agreement check: {'PASS' if ok else 'FAIL'} (gates and counts identical, outputs within 1e-5)"
    print(verdict)
    print(f"update raster: {raster}")
    ctx.setdefault("sections", {})["spikes"] = [
        Section(f"Backend {agree_head}", agree + "\n\n" + verdict),
        Section(counts_head[0].upper() + counts_head[1:],
                counts + f"\n\nsugru needs {s_ops:.3f}× the synaptic operations of the dense gru.")]
    return {"backends": backends, "agreement": result, "all_agree": ok,
            "synaptic_ops_ratio_sugru_vs_gru": s_ops, "raster": str(raster), "accuracy_subset": sub}


def stage_energy(ctx):
    """λ sweep of sugru, energy on every profile, figures and report.md."""
    import numpy as np

    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.metrics.energy import estimate
    from surnn_neuro.metrics.profiles import PROFILES
    from surnn_neuro.reports.report import energy_sections
    from surnn_neuro.simulators import simulate
    from surnn_neuro.simulate_task import score_trace
    from surnn_neuro.training.checkpoint import load_checkpoint
    from surnn_neuro.training.loop import TrainConfig

    opts = ctx["options"]  # RunOptions
    runs = _ensure_runs(ctx)
    task = ctx["task"]
    limit = 64 if opts.quick else None
    x = task.x_test[:limit].numpy().astype(np.float64)
    y = task.y_test[:limit]
    budgets = (0.01, 0.03)
    run_dirs = {("sugru", 0.0): runs["sugru"], ("gru", None): runs["gru"]}
    for lam in budgets:
        rd = ctx["out"] / "runs" / f"digits-sugru-lambda{lam:g}"
        cfg = TrainConfig(task="digits", model="sugru", hidden=16 if opts.quick else opts.hidden,
                          epochs=opts.epochs or (2 if opts.quick else 20), batch_size=32, lr=5e-3,
                          budget=lam, seed=opts.seed, device=opts.device)
        _train(ctx, cfg, rd, task, "energy", ctx.get("n_train_total", len(task.y_train)))
        run_dirs[("sugru", lam)] = str(rd)
    records = []
    for (model_name, lam), rd in run_dirs.items():
        model, _ = load_checkpoint(rd)
        trace = simulate(to_graph(model), x, backend="reference")
        rec = {"model": model_name, "trace": trace, "accuracy": score_trace(task, trace, y),
               "n_params": sum(p.numel() for p in model.parameters())}
        if lam is not None:
            rec["lambda"] = lam
        records.append(rec)
    sub = _subset(ctx, "energy stage (λ sweep, energy table, Pareto plots)", len(y), len(task.y_test))
    ctx.setdefault("sections", {})["energy"] = energy_sections(
        ctx["out"], records, accuracy_label=sub, headline=True, input_density=float(np.count_nonzero(x)) / x.size)
    report = ctx["out"] / "report.md"
    rows, energies = [], {}
    gru_rec = next(r for r in records if r["model"] == "gru")
    base = next(r for r in records if r["model"] == "sugru" and r["lambda"] == 0.0)
    for name, prof in PROFILES.items():
        e_s = estimate(base["trace"], prof).total_pJ
        e_g = estimate(gru_rec["trace"], prof).total_pJ
        e_gd = estimate(gru_rec["trace"], prof, execution="dense").total_pJ
        energies[name] = {"sugru_pJ": e_s, "gru_event_pJ": e_g, "gru_dense_pJ": e_gd}
        rows.append([prof.name + (" (proxy)" if prof.is_proxy else ""), f"{e_s / 1e3:.1f}",
                     f"{e_g / 1e3:.1f}", f"{e_gd / 1e3:.1f}", f"{e_s / e_g:.3f}×", f"{e_s / e_gd:.3f}×"])
    table = _table(rows, ["profile", "sugru nJ (events)", "gru nJ (events)", "gru nJ (dense)",
                          "sugru / event gru", "sugru / dense gru"])
    print(f"\n## estimated energy per inference (estimates, not measurements; mean over {sub})\n")
    print(table)
    print(f"\n| model | λ | accuracy % ({sub}) | update rate |\n|---|---|---|---|")
    for r in records:
        print(f"| {r['model']} | {r.get('lambda', '–')} | {100 * r['accuracy']:.2f} | "
              f"{r['trace'].update_rate():.3f} |")
    print(f"\nreport: {report}")
    return {"energy_pJ": energies, "report": str(report), "accuracy_subset": sub,
            "sweep": [{"model": r["model"], "lambda": r.get("lambda"), "accuracy": r["accuracy"],
                       "update_rate": r["trace"].update_rate()} for r in records]}


EVENT_RECIPE = {"sugru": {"duty": 0.2, "readout": "mean"}, "gru": {"readout": "mean"}}


def stage_events(ctx):
    """event-digits: train, convert, simulate on every backend, energy report."""
    import numpy as np

    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.ir.io import write_graph, write_trace
    from surnn_neuro.metrics.energy import estimate
    from surnn_neuro.metrics.profiles import PROFILES
    from surnn_neuro.reports.report import Section, energy_sections, write_report
    from surnn_neuro.reports.run import settings_section, smoke_notice
    from surnn_neuro.reports.tables import energy_headline, energy_table
    from surnn_neuro.simulators import BACKENDS, simulate
    from surnn_neuro.simulate_task import score_trace
    from surnn_neuro.training.checkpoint import load_checkpoint
    from surnn_neuro.training.loop import TrainConfig
    from surnn_neuro.training.tasks import load_task

    opts = ctx["options"]  # RunOptions
    out = ctx["out"] / "events"
    task = load_task("event-digits")
    n_train_total, n_test_total = len(task.y_train), len(task.y_test)
    if opts.quick:
        from dataclasses import replace

        task = replace(task, x_train=task.x_train[:256], y_train=task.y_train[:256],
                       x_test=task.x_test[:64], y_test=task.y_test[:64])
    x = task.x_test.numpy().astype(np.float64)
    backends = [b for b in ("reference", "snntorch", "norse") if b in BACKENDS]
    rows, records, result = [], [], {}
    for name, model_opts in EVENT_RECIPE.items():
        cfg = TrainConfig(task="event-digits", model=name, hidden=16 if opts.quick else opts.hidden,
                          epochs=opts.epochs or (2 if opts.quick else 20), batch_size=32, lr=5e-3,
                          seed=opts.seed, device=opts.device, options=model_opts)
        run_dir = out / "runs" / name
        m = _train(ctx, cfg, run_dir, task, "events", n_train_total)
        model, _ = load_checkpoint(run_dir)
        graph = to_graph(model)
        write_graph(graph, out / "graphs" / f"event-digits-{name}.h5")
        traces = {b: simulate(graph, x, backend=b) for b in backends}
        ref = traces["reference"]
        agree = all(np.array_equal(t.gate_spikes[k], ref.gate_spikes[k]) for t in traces.values()
                    for k in ref.gate_spikes) and all(
            np.array_equal(getattr(t, f), getattr(ref, f)) for t in traces.values()
            for f in ("events", "synaptic_ops", "ac_ops", "neuron_updates", "dense_macs"))
        write_trace(ref, out / "traces" / f"event-digits-{name}-reference.h5")
        acc = score_trace(task, ref, task.y_test)
        n = ref.n_samples
        e_loihi = estimate(ref, PROFILES["loihi1_table2"]).total_pJ
        rows.append([name, f"{100 * acc:.2f}", f"{ref.update_rate():.3f}",
                     f"{ref.total('events') / n:.0f}", f"{ref.total('synaptic_ops') / n:.0f}",
                     f"{ref.total('ac_ops') / n:.0f}", f"{e_loihi / 1e3:.1f}",
                     "yes" if agree else "NO"])
        records.append({"model": name, "trace": ref, "accuracy": acc})
        result[name] = {"accuracy": acc, "update_rate": ref.update_rate(), "backends_agree": agree,
                        "train_accuracy_metrics": m["accuracy"], "loihi_nJ": e_loihi / 1e3}
    sub = _subset(ctx, "events stage (event-digits)", len(task.y_test), n_test_total)
    table = _table(rows, ["model", f"accuracy % ({sub})", "update rate", "events", "synaptic ops",
                          "of which ACs", "Loihi nJ (est.)", f"{'/'.join(backends)} agree"])
    head = (f"event-digits ({task.x_test.shape[1]} bins × {task.x_test.shape[2]} inputs), per inference, "
            f"mean over {sub}")
    print(f"\n## {head}\n")
    print(table)
    density = float(np.count_nonzero(x)) / x.size
    # the headline compares against the event-driven gru first: its dense execution also multiplies
    # every empty input slot, so the ratio to it mostly measures how sparse event-camera input is
    etable = energy_table(records, accuracy_label=sub)
    headline = energy_headline(etable, input_density=density)
    print("\n" + headline.replace("**", ""))
    runs = [r for r in ctx["run_records"].values() if r["stage"] == "events"]
    subsets = {"event-digits (accuracy, events, energy)": (len(task.y_test), n_test_total)}
    secs = ([smoke_notice(runs, subsets)] if opts.quick else []) + [
        settings_section(runs, subsets, extra=f"Input density: {100 * density:.3g} % of the "
                                              f"{task.x_test.shape[1]}×{task.x_test.shape[2]} input slots "
                                              "carry an event."),
        Section(head[0].upper() + head[1:], table)]
    secs += energy_sections(out, records, accuracy_label=sub, headline=True, input_density=density)
    report = write_report(out, *secs, title="surnn-neuro main job: event-digits"
                          + (" (smoke run, --quick)" if opts.quick else ""))
    write_text_atomic(out / "events_table.md", table + "\n")
    ctx.setdefault("sections", {})["events"] = [Section(
        head[0].upper() + head[1:], headline + "\n\n" + table + "\n\nEnergy table, figures and settings: "
        "[events/report.md](events/report.md).")]
    print(f"\nreport: {report}")
    return {"models": result, "report": str(report), "accuracy_subset": sub, "input_density": density,
            "headline": headline}


def stage_lava(ctx):
    """Deploy the digits sugru to Lava; run float and fixed point; agreement and resources."""
    import numpy as np

    from surnn_neuro.hw_targets.lava import deploy
    from surnn_neuro.hw_targets.lava._mp import lava_missing_reason
    from surnn_neuro.ir.io import read_graph
    from surnn_neuro.reports.report import Section
    from surnn_neuro.simulators import simulate
    from surnn_neuro.simulate_task import score_trace

    opts = ctx["options"]  # RunOptions
    no_lava = lava_missing_reason()
    if no_lava:  # only in a default run: run_pipeline refuses --stages lava without Lava
        print(f"skipped: {no_lava}")
        ctx.setdefault("sections", {})["lava"] = [Section("Lava: skipped", f"Not run: {no_lava}.")]
        return {"skipped": no_lava}
    _ensure_runs(ctx)
    task = ctx["task"]
    graph_path = ctx["out"] / "graphs" / "digits-sugru.h5"
    if not graph_path.exists():
        raise UserError(f"--stages: {graph_path} not found; run the 'spikes' stage first")
    graph = read_graph(graph_path)
    limit = opts.lava_limit or (16 if opts.quick else 120)
    x = task.x_test[:limit].numpy().astype(np.float64)
    y = task.y_test[:limit]
    summary = deploy(graph, ctx["out"] / "lava" / "digits-sugru", fixed_point=True, n_steps=x.shape[1])
    ref = simulate(graph, x, backend="reference")
    rows, result = [], {}
    for backend in ("lava", "lava-fixed"):
        t0 = time.perf_counter()
        trace = simulate(graph, x, backend=backend, progress=True)
        secs = time.perf_counter() - t0
        same_gates = all(np.array_equal(trace.gate_spikes[k], ref.gate_spikes[k]) for k in ref.gate_spikes)
        differ = [f for f in ("events", "synaptic_ops", "neuron_updates", "dense_macs")
                  if not np.array_equal(getattr(trace, f), getattr(ref, f))]
        same_counts = not differ
        diff = float(np.abs(trace.outputs - ref.outputs).max())
        agree_pred = float((trace.outputs.argmax(-1) == ref.outputs.argmax(-1)).mean())
        acc = score_trace(task, trace, y)
        rows.append([backend, f"{100 * acc:.2f}", "yes" if same_gates else "NO",
                     "yes" if same_counts else "no: " + ", ".join(differ), f"{diff:.2e}",
                     f"{100 * agree_pred:.1f}",
                     f"{trace.total('events') * 1.0 / trace.n_samples:.0f}", f"{secs:.0f}"])
        result[backend] = {"accuracy": acc, "gates_match_reference": same_gates,
                           "counts_match_reference": same_counts, "counts_that_differ": differ,
                           "max_abs_output_diff": diff,
                           "same_prediction_fraction": agree_pred, "seconds": secs}
    ref_acc = score_trace(task, ref, y)
    sub = _subset(ctx, "lava stage (--lava-limit)", len(y), len(task.y_test))
    table = _table(rows, ["backend", f"accuracy % ({sub})", "gates = reference", "counts = reference",
                          "max |out − reference|", "same prediction %", "events/inference", "wall s"])
    res = summary.get("resources", {})
    head = f"Lava (Loihi2SimCfg), sugru on digits, {sub} (--lava-limit)"
    lines = [f"reference simulator on the same samples: {100 * ref_acc:.2f} % accuracy",
             f"fixed point minus float: {100 * (result['lava-fixed']['accuracy'] - result['lava']['accuracy']):+.2f} "
             "accuracy points",
             f"Loihi 2 resource estimate: {res.get('neurons_total')} neurons, {res.get('synapses_total')} "
             f"synapses, {res.get('synaptic_memory_bytes_8bit')} B synaptic memory at 8 bits, "
             f"{res.get('cores_needed')} of 128 cores ({res.get('chips_needed')} chip)"]
    print(f"\n## {head}; {lines[0]}\n")
    print(table)
    print("\n" + "\n".join(lines[1:]))
    print(f"process graph: {ctx['out'] / 'lava' / 'digits-sugru'}/network.pickle and summary.md")
    write_text_atomic(ctx["out"] / "lava" / "lava_table.md", table + "\n")
    ctx.setdefault("sections", {})["lava"] = [Section(head, table + "\n\n" + "\n".join(f"- {ln}" for ln in lines)
                                                      + "\n- process graph and its summary: "
                                                        "[lava/digits-sugru/summary.md](lava/digits-sugru/summary.md)")]
    return {"n": len(y), "accuracy_subset": sub, "reference_accuracy": ref_acc, "backends": result,
            "resources": {k: v for k, v in res.items() if isinstance(v, (int, float))}}
