"""The Ray Tune trainable: one trial trains, converts, simulates and estimates energy.

A trial runs in a Ray worker process (``tune.with_parameters(run_trial, settings=...)``):

1. its TrainConfig from the Ray config (:func:`~surnn_neuro.sweep.trials.trial_train_config`) and
   its folder ``OUT/runs/<key>`` (:func:`~surnn_neuro.sweep.trials.trial_key`);
2. training through :func:`~surnn_neuro.training.runs.train_run`, exactly as ``surnn-neuro train``
   (same task loading, seed, loop and scoring: the row's command retrains the same weights),
   reporting one result per epoch to Ray Tune (``epoch``, ``loss``, ``task_loss``, ``update_rate``)
   so that a scheduler can stop it; ``train.log`` gets one line per epoch;
3. conversion (:func:`~surnn_neuro.converters.torch_to_ir.to_graph`, ``graph.h5``), the reference
   simulator on the first ``sim_samples`` test samples (``trace.h5``), and the energy estimate on
   every profile (:func:`~surnn_neuro.metrics.energy.estimate`);
4. ``result.json`` (written last, atomically) and the final report: the last epoch's record with the
   test metric, update rate, FLOPs, synaptic ops and ``energy_pJ_<profile>`` for every profile.

A trial killed while training (the sweep killed, a node lost) continues after its last finished
epoch when the sweep is resumed: the training state is saved after every epoch
(``RUN_DIR/resume.pt``: weights, optimiser, batch order and random states) and the continued run
reaches the same weights as an uninterrupted one; the epochs already done are reported to Ray Tune
again, so a scheduler decides as it did. The file is removed once the run folder is written.

A folder whose ``result.json`` matches the configuration and the simulation settings is not
recomputed: its history is replayed to Ray Tune (same reports, same decisions) and its result
reported again. A folder with a finished training but another simulation setting (e.g. a profile
added) is re-simulated without retraining.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from surnn_neuro.fileio import write_json_atomic

#: per-epoch keys reported to Ray Tune
EPOCH_KEYS = ("epoch", "loss", "task_loss", "update_rate")
#: training outputs of :func:`train_run` (a finished training has all three)
TRAIN_FILES = ("checkpoint.pt", "metrics.json", "history.json")
#: the training state after the last finished epoch of a trial still training
SNAPSHOT_FILE = "resume.pt"


def _epoch_report(rec: dict) -> dict:
    return {k: rec[k] for k in EPOCH_KEYS if k in rec}


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def sim_settings(settings: dict) -> dict:
    return {"sim_samples": settings.get("sim_samples"), "profiles": list(settings["profiles"]),
            "memory": bool(settings.get("memory", False))}


def flat_result(result: dict) -> dict:
    """The numbers of a result.json as one flat dict (what Ray Tune receives and the table holds)."""
    keys = ("key", "metric", "value", result["metric"], "update_rate", "skip_percent",
            "flops_per_sequence", "params", "sim_samples", "sim_value", "events", "synaptic_ops",
            "train_seconds", "trial_seconds", "epochs_run")
    out = {k: result[k] for k in keys if k in result}
    for p, v in result.get("energy_pJ", {}).items():
        out[f"energy_pJ_{p}"] = v
    for p, v in result.get("dense_energy_pJ", {}).items():
        out[f"dense_energy_pJ_{p}"] = v
    return out


def simulate_and_estimate(run_dir: Path, task, sim: dict) -> dict:
    """Convert the trained model, run it on the reference simulator and estimate energy."""
    import numpy as np

    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.ir.io import write_graph, write_trace
    from surnn_neuro.metrics.energy import estimate
    from surnn_neuro.metrics.profiles import PROFILES
    from surnn_neuro.simulators import simulate
    from surnn_neuro.simulate_task import score_trace
    from surnn_neuro.training.checkpoint import load_checkpoint

    model, _ = load_checkpoint(run_dir)  # the weights as written (CPU), as any later user sees them
    graph = to_graph(model)
    n = len(task.x_test) if sim["sim_samples"] is None else min(sim["sim_samples"], len(task.x_test))
    x = task.x_test[:n].numpy().astype(np.float64)
    trace = simulate(graph, x, backend="reference")
    write_graph(graph, run_dir / "graph.h5")
    write_trace(trace, run_dir / "trace.h5")
    energy, dense = {}, {}
    for p in sim["profiles"]:
        energy[p] = estimate(trace, PROFILES[p], memory=sim["memory"]).total_pJ
        dense[p] = estimate(trace, PROFILES[p], memory=sim["memory"], execution="dense").total_pJ
    return {"sim_samples": n, "sim_value": score_trace(task, trace, task.y_test[:n]),
            "events": trace.total("events", per_sample=True),
            "synaptic_ops": trace.total("synaptic_ops", per_sample=True),
            "energy_pJ": energy, "dense_energy_pJ": dense}


def _finished_training(run_dir: Path, train_config: dict):
    """(metrics, history) of a finished training of this configuration in ``run_dir``, else None."""
    if not all((run_dir / f).is_file() for f in TRAIN_FILES):
        return None
    metrics, history = _read_json(run_dir / "metrics.json"), _read_json(run_dir / "history.json")
    if not metrics or not history or not history.get("epochs"):
        return None
    from surnn_neuro.errors import UserError
    from surnn_neuro.training.checkpoint import load_checkpoint

    try:
        _, payload = load_checkpoint(run_dir)
    except UserError:  # unreadable or foreign checkpoint: train again
        return None
    if json.dumps(payload.get("train_config"), sort_keys=True, default=str) != \
            json.dumps(train_config, sort_keys=True, default=str):
        return None
    return metrics, history


def run_trial(config: dict, settings: dict) -> None:
    """Ray Tune function trainable (see module doc). ``settings``: out (absolute), model_options,
    sim_samples, profiles, memory."""
    from ray import tune

    from surnn_neuro.sweep.search import trial_settings
    from surnn_neuro.sweep.trials import trial_key, trial_train_config
    from surnn_neuro.training.runs import task_for, train_run

    t0 = time.perf_counter()
    cfg = trial_train_config(trial_settings(config), settings["model_options"])
    key = trial_key(cfg)
    run_dir = Path(settings["out"]) / "runs" / key
    train_config = json.loads(json.dumps(asdict(cfg), default=str))
    sim = sim_settings(settings)
    done = _read_json(run_dir / "result.json")
    if done and done.get("sim") == sim and json.dumps(done.get("train_config"), sort_keys=True) == \
            json.dumps(train_config, sort_keys=True):
        for rec in done["history"][:-1]:
            tune.report(_epoch_report(rec))
        tune.report({**_epoch_report(done["history"][-1]), **flat_result(done), "cached": True})
        return
    task = task_for(cfg)
    finished = _finished_training(run_dir, train_config)
    if finished is None:
        run_dir.mkdir(parents=True, exist_ok=True)
        log_path = run_dir / "train.log"
        log_path.write_text(f"{key}\n")

        def log(rec):
            with open(log_path, "a") as f:
                f.write(f"epoch {rec['epoch'] + 1}/{cfg.epochs}  loss {rec['loss']:.5f}  task loss "
                        f"{rec['task_loss']:.5f}  update rate {rec['update_rate']:.4f}\n")
            if rec["epoch"] < cfg.epochs - 1:  # the last epoch is reported with the final scores
                tune.report(_epoch_report(rec))

        def resumed(state):
            # a trial that a killed sweep left mid-training continues after its last finished epoch
            # (RUN_DIR/resume.pt, written after every epoch): its epochs so far are reported again
            with open(log_path, "a") as f:
                f.write(f"continued from {SNAPSHOT_FILE} after epoch {state['epoch'] + 1}\n")
            for rec in state["history"]:
                log(rec)

        metrics = train_run(cfg, run_dir, progress=False, task=task, log=log, keep_other_files=True,
                            snapshot_file=run_dir / SNAPSHOT_FILE, on_resume=resumed)
        history = _read_json(run_dir / "history.json")
    else:
        metrics, history = finished
        (run_dir / SNAPSHOT_FILE).unlink(missing_ok=True)  # (killed between the run and its removal)
        for rec in history["epochs"][:-1]:
            tune.report(_epoch_report(rec))
    epochs = history["epochs"]
    result = {"key": key, "run_dir": f"runs/{key}", "train_config": train_config, "sim": sim,
              "metric": metrics["metric"], "value": metrics["value"], metrics["metric"]: metrics["value"],
              "update_rate": metrics["update_rate"], "skip_percent": metrics["skip_percent"],
              "flops_per_sequence": metrics["flops_per_sequence"], "params": metrics["params"],
              "train_seconds": metrics.get("train_seconds"), "epochs_run": len(epochs), "history": epochs}
    result.update(simulate_and_estimate(run_dir, task, sim))
    result["trial_seconds"] = time.perf_counter() - t0
    write_json_atomic(run_dir / "result.json", result)
    tune.report({**_epoch_report(epochs[-1]), **flat_result(result), "cached": False})
