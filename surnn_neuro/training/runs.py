"""A training run on disk: ``RUN_DIR/{checkpoint.pt, metrics.json, history.json, timings.json}``.

The folder appears complete or not at all: the four files are written into a staging folder beside
``RUN_DIR`` and swapped into place (:func:`surnn_neuro.fileio.staged_dir`), so a killed or failed
run leaves an earlier run in ``RUN_DIR`` whole and never a new checkpoint beside old metrics.
Everything but ``timings.json`` (wall-clock seconds) is byte-identical between runs with the same
seed on the same machine.

metrics.json keys: task, model, metric, value and the metric under its own name (accuracy or mse;
adding also reports ``solved``), update_rate, skip_percent (100·(1 − update rate), SA-RNN eq. 10),
flops_per_sequence (SA-RNN's definition, docs/semantics.md §4, mean over test sequences),
layer_update_rates, params, seed and the training configuration.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from surnn_neuro.errors import doing
from surnn_neuro.fileio import staged_dir, write_json_atomic
from surnn_neuro.preflight import output_dir
from surnn_neuro.training.checkpoint import load_checkpoint, load_snapshot, save_checkpoint, save_snapshot
from surnn_neuro.training.device import resolve_device
from surnn_neuro.training.loop import TrainConfig, check_training_fits, evaluate, train
from surnn_neuro.training.tasks import load_task


def flops_per_sequence(model, gates, T: int) -> float:
    """Mean SA-RNN FLOPs per sequence of ``model`` given its gate decisions (list of (N, T, H))."""
    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.ir.counting import flops_per_sequence as count

    graph = to_graph(model, horizon=max(T, 1))
    spikes = {layer.name: np.asarray(g, bool) for layer, g in zip(graph.layers, gates)}
    return float(np.mean(count(graph, spikes, T)))


def score_model(model, task, cfg: dict, device=None) -> dict:
    """Test-split metrics of a model in the metrics.json layout."""
    ev = evaluate(model, task, "test", device=device, return_gates=True)
    metrics = {
        "task": task.name,
        "model": model.config["name"],
        "metric": ev["metric"],
        "value": ev["value"],
        ev["metric"]: ev["value"],
    }
    if task.metric == "mse":
        metrics["solved"] = bool(ev["value"] < task.info.get("solved_below", 0.01))
    metrics.update({
        "update_rate": ev["update_rate"],
        "skip_percent": 100.0 * (1.0 - ev["update_rate"]),
        "layer_update_rates": ev["layer_update_rates"],
        "flops_per_sequence": flops_per_sequence(model, ev["gates"], task.seq_len),
        "params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "n_test": ev["n"],
        "seq_len": task.seq_len,
        "seed": cfg.get("seed"),
        "hidden": cfg.get("hidden"),
        "layers": cfg.get("layers"),
        "budget": cfg.get("budget"),
    })
    return metrics


def task_for(cfg: TrainConfig | dict):
    c = cfg if isinstance(cfg, dict) else asdict(cfg)
    return load_task(c["task"], seq_len=c.get("seq_len"), data_dir=c.get("data_dir"), seed=c.get("seed", 0))


#: the files of a run folder (a folder holding anything else is not replaced)
RUN_FILES = ("checkpoint.pt", "metrics.json", "history.json", "timings.json")


def train_run(cfg: TrainConfig, out_dir, progress=True, task=None, log=None, distributed=False,
              keep_other_files: bool = False, snapshot_file=None, on_resume=None) -> dict | None:
    """Train, score on the test split and write ``RUN_DIR`` (module docstring). Everything is checked
    before training (the folder can be written, the task loads, the model fits in memory) and
    nothing is written if training fails. Returns metrics.json's content plus ``train_seconds``.

    ``log``: per-epoch callback of :func:`~surnn_neuro.training.loop.train`. ``distributed``: train
    data-parallel in the torch.distributed process group (torchrun; see
    :mod:`surnn_neuro.training.distributed`): every rank trains, only rank 0 scores and writes, and
    only rank 0 returns the metrics (the other ranks return None).

    A folder holding files other than :data:`RUN_FILES` is refused, since it is replaced as a
    whole; ``keep_other_files`` carries those files into the new folder instead (for callers that
    keep their own files beside a run, e.g. a sweep's log).

    ``snapshot_file`` (one process only): after every epoch the training state is saved there
    (:func:`~surnn_neuro.training.checkpoint.save_snapshot`); a run that finds a snapshot of the same
    configuration continues after its epoch, to the same weights as an uninterrupted run, and the
    file is removed once the run folder is written; ``on_resume(state)`` is told of a snapshot found
    (its ``epoch`` and ``history``) before training goes on. For sweep trials, which a killed sweep
    restarts."""
    out_dir = output_dir(out_dir, "--out", owned=None if keep_other_files else RUN_FILES)
    resolve_device(cfg.device)
    dist = None
    if distributed:
        from surnn_neuro.training.distributed import init_distributed

        dist = init_distributed(cfg.device)
    try:
        with doing(f"loading task {cfg.task}"):
            task = task or task_for(cfg)
        check_training_fits(cfg, task)
        snapshot = resume = None
        if snapshot_file is not None and dist is None:
            snapshot_file = Path(snapshot_file)
            resume = load_snapshot(snapshot_file, asdict(cfg))
            if resume is not None and on_resume is not None:
                on_resume(resume)

            def snapshot(state):
                with doing(f"writing {snapshot_file}"):
                    save_snapshot(snapshot_file, state, asdict(cfg))
        with doing(f"training {cfg.model} on {cfg.task}"):
            model, history = train(cfg, task, progress=progress, log=log, dist=dist, snapshot=snapshot,
                                   resume=resume)
        if dist is not None and not dist.is_main:
            return None
        with doing(f"scoring {cfg.model} on the test split of {cfg.task}"):
            metrics = score_model(model, task, asdict(cfg))
        metrics["final_train_loss"] = history["epochs"][-1]["loss"]
        if dist is not None:
            metrics["world_size"] = dist.world_size
        timings = {"train_seconds": history["train_seconds"]}
        with doing(f"writing {out_dir}"), staged_dir(out_dir, carry_over=keep_other_files) as stage:
            save_checkpoint(stage / "checkpoint.pt", model, asdict(cfg), metrics)
            write_json_atomic(stage / "metrics.json", metrics)
            write_json_atomic(stage / "history.json",
                              {"epochs": history["epochs"], "world_size": history["world_size"]})
            write_json_atomic(stage / "timings.json", timings)
        if snapshot is not None:
            snapshot_file.unlink(missing_ok=True)
        return {**metrics, **timings}
    finally:
        if dist is not None:
            dist.close()


def evaluate_run(run_dir, device="auto") -> dict:
    """Reload RUN_DIR's checkpoint and re-score it on the test split (nothing is written)."""
    model, payload = load_checkpoint(run_dir, device=resolve_device(device))
    cfg = payload["train_config"]
    with doing(f"loading task {cfg['task']}"):
        task = task_for(cfg)
    with doing(f"scoring {run_dir} on the test split of {cfg['task']}"):
        return score_model(model, task, cfg)
