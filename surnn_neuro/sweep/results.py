"""What a sweep leaves in ``OUT``: the results table (CSV and JSON, Pareto fronts marked), one Pareto
figure per profile (and one for synaptic ops) and ``report.md`` linking the best runs' folders.

One row per distinct configuration (trials that share a configuration share a row). Row keys:
``key``, ``status`` (done; stopped: ended early by the scheduler; unfinished: the sweep was
interrupted; error),
``on_front`` (on the front of the sweep's objective), the training settings, the task metric under
its own name (``accuracy`` or ``mse``, the test split as in metrics.json) and ``sim_<metric>`` (the
reference simulator on ``sim_samples`` test samples), ``update_rate``, ``skip_percent``,
``flops_per_sequence``, ``params``, ``events`` and ``synaptic_ops`` per inference,
``energy_pJ_<profile>`` (event-driven) and ``dense_energy_pJ_<profile>`` (the same graph run densely)
per inference, ``pareto_<profile>`` / ``pareto_synaptic_ops``, ``epochs_run``, seconds, ``run_dir``
(relative to OUT), ``command`` (the ``surnn-neuro train`` command that retrains the row) and ``error``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from surnn_neuro.fileio import write_json_atomic, write_text_atomic
from surnn_neuro.sweep.pareto import SYNOPS, cost_keys, front_name, mark_fronts
from surnn_neuro.sweep.trainable import flat_result, sim_settings
from surnn_neuro.sweep.trials import reproduce_command, trial_key, trial_train_config

SETTINGS = ("task", "model", "hidden", "layers", "epochs", "batch_size", "lr", "budget", "seq_len", "seed")


def _settings_of(cfg) -> dict:
    return {"model_options": cfg.model_options, "sim_samples": cfg.settings.sim_samples,
            "profiles": list(cfg.settings.profiles), "memory": cfg.settings.memory}


def collect_rows(entries, cfg, out, interrupted: bool = False) -> list:
    """Rows from Ray Tune's trials: ``entries`` = [(config, last metrics, error or None)]. A trial
    that neither finished nor failed was stopped by the scheduler, or by an interruption."""
    from surnn_neuro.sweep.search import trial_settings

    out = Path(out)
    sim = sim_settings(_settings_of(cfg))
    rows: dict = {}
    for config, metrics, error in entries:
        tc = trial_train_config(trial_settings(config), cfg.model_options)
        key = trial_key(tc)
        row = {"key": key, "status": "", **{k: getattr(tc, k) for k in SETTINGS},
               "options": dict(tc.options), "run_dir": f"runs/{key}"}
        try:
            res = json.loads((out / "runs" / key / "result.json").read_text())
        except (OSError, ValueError):
            res = None
        if res and res.get("sim") == sim:
            row.update(flat_result(res))
            row[f"sim_{res['metric']}"] = res.get("sim_value")
            row["status"] = "done"
        elif error is not None:
            row["status"] = "error"
            row["error"] = (str(error).strip().splitlines() or [type(error).__name__])[-1][:300]
        else:
            row["status"] = "unfinished" if interrupted else "stopped"
            row["epochs_run"] = int((metrics or {}).get("training_iteration", 0))
        row["command"] = reproduce_command(tc, out=f"runs/repro-{key}")
        if key not in rows or (rows[key]["status"] != "done" and row["status"] == "done"):
            rows[key] = row
    return list(rows.values())


def columns(metric: str, profiles) -> list:
    return (["key", "status", "on_front", *SETTINGS, "options", metric, f"sim_{metric}", "update_rate",
             "skip_percent", "flops_per_sequence", "params", "sim_samples", "events", SYNOPS]
            + [f"energy_pJ_{p}" for p in profiles] + [f"dense_energy_pJ_{p}" for p in profiles]
            + [f"pareto_{front_name(k)}" for k in cost_keys(profiles)]
            + ["epochs_run", "train_seconds", "trial_seconds", "run_dir", "command", "error"])


def to_csv(rows, cols) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: json.dumps(r[c], sort_keys=True) if isinstance(r.get(c), dict) else r.get(c, "")
                    for c in cols})
    return buf.getvalue()


def _fmt_metric(metric, v):
    if not isinstance(v, (int, float)):
        return "–"
    return f"{100 * v:.2f} %" if metric == "accuracy" else f"{v:.4g}"


def _fmt_cost(key, v):
    from surnn_neuro.metrics.energy import format_energy

    if not isinstance(v, (int, float)):
        return "–"
    return f"{v:.4g}" if key == SYNOPS else format_energy(v)


def _md(rows, headers) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _options_text(o: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in o.items()) or "–"


def _cost_label(key: str) -> str:
    from surnn_neuro.metrics.profiles import PROFILES

    if key == SYNOPS:
        return "synaptic operations per inference"
    return PROFILES[front_name(key)].label


def write_figures(out: Path, rows, fronts, metric, profiles) -> dict:
    """One Pareto figure per task and cost; returns {(task, cost name): path}."""
    from surnn_neuro.reports.plots import ENERGY_AXIS, plot_pareto

    figs = {}
    tasks = sorted(fronts)
    for task in tasks:
        done = [r for r in rows if r["task"] == task and r["status"] == "done"]
        for key in cost_keys(profiles):
            name = front_name(key)
            pts = [{"energy_pJ": r[key], metric: r[metric], "model": r["model"],
                    "label": f"h{r['hidden']} λ={r['budget']:.2g}"} for r in done if r.get(key, 0) > 0]
            if not pts:
                continue
            fname = f"pareto_{name}.png" if len(tasks) == 1 else f"pareto_{task}_{name}.png"
            figs[(task, name)] = plot_pareto(
                pts, out / fname, metric=metric, front="all", annotate="front",
                x_label="synaptic operations per inference" if key == SYNOPS else ENERGY_AXIS,
                title=f"{task}: {metric} vs " + ("synaptic operations per inference" if key == SYNOPS
                                                 else f"estimated energy, {_cost_label(key)}"))
    return figs


def write_results(out, cfg, rows, metric, info: dict | None = None) -> dict:
    """Mark the fronts; write results.csv, results.json, the figures and report.md into ``out``."""
    out = Path(out)
    profiles = list(cfg.settings.profiles)
    fronts = mark_fronts(rows, metric, profiles)
    objective = front_name(cfg.cost_key)
    for r in rows:
        r["on_front"] = r.get(f"pareto_{objective}", False)
    cols = columns(metric, profiles)
    write_text_atomic(out / "results.csv", to_csv(rows, cols))
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "stopped", "unfinished", "error")}
    table = {"sweep": cfg.settings.name, "config": cfg.normalized(), "metric": metric,
             "mode": "max" if metric == "accuracy" else "min", "objective": [metric, cfg.cost_key],
             "counts": counts, "columns": cols, "rows": rows,
             "fronts": {t: {n: [rows[i]["key"] for i in idx] for n, idx in f.items()} for t, f in fronts.items()},
             **(info or {})}
    write_json_atomic(out / "results.json", table)
    figs = write_figures(out, rows, fronts, metric, profiles)
    report = write_report_md(out, cfg, rows, fronts, figs, metric, counts, info or {})
    return {"rows": rows, "fronts": table["fronts"], "counts": counts, "report": str(report),
            "figures": [str(p) for p in figs.values()]}


def write_report_md(out, cfg, rows, fronts, figs, metric, counts, info) -> Path:
    from surnn_neuro.reports.report import ESTIMATE_NOTE, ReportFigure, Section, write_report

    s = cfg.settings
    objective_key = cfg.cost_key
    keys = [objective_key] + [k for k in cost_keys(s.profiles) if k != objective_key]
    intro = (f"Sweep file `{cfg.path}`; search **{s.search}**"
             + (f" ({s.sampler}, seed {s.seed})" if s.search == "optuna" else "")
             + f", scheduler **{s.scheduler}**; objective: {metric} against {_cost_label(objective_key)}.\n\n"
             f"{len(rows)} configurations: {counts['done']} done, {counts['stopped']} stopped early, "
             + (f"{counts['unfinished']} unfinished (interrupted; continue with --resume), "
                if counts["unfinished"] else "")
             + f"{counts['error']} failed. Energies come from the reference simulator on "
             f"{'all' if s.sim_samples is None else 'the first ' + str(s.sim_samples)} test samples per run; "
             f"the metric is the full test split (as `surnn-neuro train` reports it).\n\n"
             "Tables: [results.csv](results.csv), [results.json](results.json). Each run's folder holds "
             "checkpoint.pt, metrics.json, history.json, train.log, graph.h5, trace.h5 and result.json; "
             "Ray Tune's own records are in [ray/](ray/).")
    if info.get("seconds") is not None:
        intro += f"\n\nThis session: {info['seconds']:.0f} s on {info.get('where', 'Ray')}."
    sections = [Section("Sweep", intro)]
    for task in sorted(fronts):
        for key in keys:
            name = front_name(key)
            idx = fronts[task].get(name, [])
            body = _md([[i + 1, f"[{rows[j]['key']}]({rows[j]['run_dir']}/)", rows[j]["model"], rows[j]["hidden"],
                         rows[j]["layers"], f"{rows[j]['budget']:g}", f"{rows[j]['lr']:g}", rows[j]["seed"],
                         _options_text(rows[j]["options"]), _fmt_metric(metric, rows[j].get(metric)),
                         f"{rows[j].get('update_rate', float('nan')):.3f}", _fmt_cost(key, rows[j].get(key))]
                        for i, j in enumerate(idx)],
                       ["#", "run", "model", "H", "layers", "λ", "lr", "seed", "options", metric,
                        "update rate", "synaptic ops" if key == SYNOPS else "energy / inference"])
            fig = figs.get((task, name))
            title = f"Pareto front{'' if len(fronts) == 1 else ' (' + task + ')'}: {_cost_label(key)}"
            sections.append(Section(title, body if idx else "No finished run.",
                                    (ReportFigure(fig, f"{metric} against {_cost_label(key)}; "
                                                       "the black line joins the front"),) if fig else ()))
    done = [r for r in rows if r["status"] == "done"]
    if done:
        sign = 1 if metric == "accuracy" else -1
        best = max(done, key=lambda r: sign * r[metric])
        front = [r for r in done if r.get("on_front")]
        cheapest = min(front, key=lambda r: r[objective_key]) if front else None
        lines = [f"- Best {metric}: [{best['key']}]({best['run_dir']}/), {_fmt_metric(metric, best[metric])} at "
                 f"{_fmt_cost(objective_key, best.get(objective_key))}."]
        if cheapest is not None:
            lines.append(f"- Cheapest on the front ({_cost_label(objective_key)}): [{cheapest['key']}]"
                         f"({cheapest['run_dir']}/), {_fmt_cost(objective_key, cheapest[objective_key])} at "
                         f"{_fmt_metric(metric, cheapest[metric])}.")
        lines += ["", "Retrain the best run outside the sweep (same seed, same metrics):", "",
                  "```sh", best["command"], "```"]
        sections.append(Section("Best runs", "\n".join(lines)))
    allrows = [[f"[{r['key']}]({r['run_dir']}/)", r["status"] + (f" ({r['error']})" if r.get("error") else ""),
                "yes" if r.get("on_front") else "", _fmt_metric(metric, r.get(metric)),
                _fmt_cost(objective_key, r.get(objective_key)), r.get("epochs_run", "–")] for r in rows]
    sections.append(Section("All runs", _md(allrows, ["run", "status", "on front", metric,
                                                      _cost_label(objective_key), "epochs"])))
    sections.append(Section("Estimates", ESTIMATE_NOTE))
    return write_report(out, *sections, title=f"Sweep {s.name}: {metric} against energy")
