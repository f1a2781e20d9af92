"""A training run on disk: ``RUN_DIR/checkpoint.pt`` + ``RUN_DIR/metrics.json``.

metrics.json keys: task, model, metric, value and the metric under its own name (accuracy or mse;
adding also reports ``solved``), update_rate, skip_percent (100·(1 − update rate), SA-RNN eq. 10),
flops_per_sequence (SA-RNN's definition, docs/semantics.md §4, mean over test sequences),
layer_update_rates, params, seed and the training configuration.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.fileio import write_json_atomic
from surnn_neuro.training.checkpoint import load_checkpoint, save_checkpoint
from surnn_neuro.training.device import resolve_device
from surnn_neuro.training.loop import TrainConfig, evaluate, train
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


def train_run(cfg: TrainConfig, out_dir, progress=True, task=None, log=None, distributed=False):
    """Train, score on the test split and write RUN_DIR/{checkpoint.pt, metrics.json, history.json}.

    ``log``: per-epoch callback of :func:`~surnn_neuro.training.loop.train`. ``distributed``: train
    data-parallel in the torch.distributed process group (torchrun; see
    :mod:`surnn_neuro.training.distributed`): every rank trains, only rank 0 scores and writes, and
    only rank 0 returns the metrics (the other ranks return None).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a directory")
    dist = None
    if distributed:
        from surnn_neuro.training.distributed import init_distributed

        dist = init_distributed(cfg.device)
    try:
        task = task or task_for(cfg)
        model, history = train(cfg, task, progress=progress, log=log, dist=dist)
        if dist is not None and not dist.is_main:
            return None
        metrics = score_model(model, task, asdict(cfg))
        metrics["train_seconds"] = history["train_seconds"]
        metrics["final_train_loss"] = history["epochs"][-1]["loss"]
        if dist is not None:
            metrics["world_size"] = dist.world_size
        out_dir.mkdir(parents=True, exist_ok=True)
        save_checkpoint(out_dir / "checkpoint.pt", model, asdict(cfg), metrics)
        write_json_atomic(out_dir / "metrics.json", metrics)
        write_json_atomic(out_dir / "history.json", history)
        return metrics
    finally:
        if dist is not None:
            dist.close()


def evaluate_run(run_dir, device="auto") -> dict:
    """Reload RUN_DIR's checkpoint and re-score it on the test split (nothing is written)."""
    model, payload = load_checkpoint(run_dir, device=resolve_device(device))
    cfg = payload["train_config"]
    task = task_for(cfg)
    return score_model(model, task, cfg)
