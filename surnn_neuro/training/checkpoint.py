"""Checkpoints: ``RUN_DIR/checkpoint.pt`` (weights + configs) and ``RUN_DIR/metrics.json``.

Loading uses ``torch.load(weights_only=True)``: a checkpoint holds only tensors, dicts, lists and
plain values, so loading one never executes pickled code. Writes are atomic. Every field a reader
uses is checked on load (version, the configs, the task, finite weights), so a damaged or edited
checkpoint gives one line naming the file and the field, never a KeyError or a NaN network.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from surnn_neuro.errors import UserError
from surnn_neuro.fileio import atomic_path
from surnn_neuro.models import from_config

FORMAT = "surnn-neuro-checkpoint"
VERSION = 1


def save_checkpoint(path, model, train_config: dict, metrics: dict | None = None) -> None:
    """Write weights, the model config and the training config to ``path`` atomically."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": model.config,
        "train_config": train_config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metrics": metrics or {},
    }
    with atomic_path(path, keep_name=True) as tmp:  # same name inside, same bytes for the same run
        torch.save(payload, tmp)


def load_checkpoint(path, device="cpu"):
    """Rebuild (model, payload) from a checkpoint file; UserError naming the file otherwise."""
    path = Path(path)
    if path.is_dir() or path.suffix != ".pt":
        path = path / "checkpoint.pt"
    if not path.exists():
        raise UserError(f"{path}: checkpoint not found; train one with "
                        f"'surnn-neuro train --task TASK --model MODEL --out {path.parent}'")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise UserError(f"{path}: corrupt or not a surnn-neuro checkpoint ({type(e).__name__} while "
                        f"loading); re-train or restore the file") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise UserError(f"{path}: not a surnn-neuro checkpoint (no '{FORMAT}' marker)")
    check_payload(path, payload)
    try:
        model = from_config(payload["model_config"])
        model.load_state_dict(payload["state_dict"])
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"{path}: checkpoint does not match its model config ({first[:160]})") from None
    return model.to(device).eval(), payload


def check_payload(path, payload: dict) -> None:
    """UserError naming ``path`` and the field if a loaded checkpoint cannot be used as it is."""
    def bad(field, problem):
        raise UserError(f"{path}: checkpoint field '{field}' {problem}; re-train or restore the file")

    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        bad("version", f"must be an integer >= 1, got {version!r}"[:120])
    if version > VERSION:
        raise UserError(f"{path}: written by a newer surnn-neuro (checkpoint version "
                        f"{version} > {VERSION}); upgrade surnn-neuro")
    for field in ("model_config", "train_config", "state_dict"):
        if not isinstance(payload.get(field), dict):
            bad(field, f"is missing or not a table (got {type(payload.get(field)).__name__})")
    cfg = payload["train_config"]
    for key in ("task", "model"):
        if not isinstance(cfg.get(key), str) or not cfg[key]:
            bad(f"train_config.{key}", f"must be a name, got {cfg.get(key)!r}"[:120])
    from surnn_neuro.datasets import known_tasks
    from surnn_neuro.preflight import OPTIONS

    if cfg["task"] not in known_tasks():
        bad("train_config.task", f"names an unknown task {cfg['task']!r}"[:120])
    for key in ("seq_len", "seed"):
        if cfg.get(key) is not None:
            try:
                OPTIONS[f"--{key.replace('_', '-')}"].check(cfg[key])
            except ValueError as e:
                bad(f"train_config.{key}", str(e).split(": ", 1)[-1])
    if cfg.get("data_dir") is not None and not isinstance(cfg["data_dir"], str):
        bad("train_config.data_dir", f"must be a path or null, got {type(cfg['data_dir']).__name__}")
    mc = payload["model_config"]
    sizes = [("hidden_size", "--hidden"), ("input_size", None), ("output_size", None)]
    for key, flag in sizes:
        v = mc.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= (OPTIONS[flag].high if flag else 1 << 24):
            bad(f"model_config.{key}", f"must be a positive integer within bounds, got {v!r}"[:120])
    layers = (mc.get("options") or {}).get("layers", 1) if isinstance(mc.get("options", {}), dict) else None
    try:
        OPTIONS["--layers"].check(layers)
    except ValueError as e:
        bad("model_config.options.layers", str(e).split(": ", 1)[-1])
    # the shapes the config implies, built without memory (meta device), against the stored ones:
    # a forged or damaged config never makes the real build allocate without end
    try:
        with torch.device("meta"):
            expected = {k: tuple(v.shape) for k, v in from_config(mc).state_dict().items()}
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"{path}: checkpoint field 'model_config' cannot be built ({first[:160]})") from None
    stored = payload["state_dict"]
    for name, t in stored.items():
        if not isinstance(t, torch.Tensor):
            bad(f"state_dict.{name}", f"is not a tensor (got {type(t).__name__})")
        if (t.is_floating_point() or t.is_complex()) and not bool(torch.isfinite(t).all()):
            bad(f"state_dict.{name}", "holds non-finite weights (NaN or infinity)")
    wrong = sorted(set(expected) ^ set(stored)) or [k for k in expected if tuple(stored[k].shape) != expected[k]]
    if wrong:
        raise UserError(f"{path}: checkpoint does not match its model config (state_dict entry "
                        f"'{wrong[0]}' missing, unexpected or of another shape)")


#: what a training snapshot file says it is (``RUN_DIR/resume.pt`` of a sweep trial)
SNAPSHOT_FORMAT = "surnn-neuro-training-snapshot"


def _config_text(train_config: dict) -> str:
    import json

    return json.dumps(train_config, sort_keys=True, default=str)


def save_snapshot(path, state: dict, train_config: dict) -> None:
    """Write :func:`~surnn_neuro.training.loop.train`'s snapshot ``state`` for ``train_config``
    atomically (tensors moved to the CPU; loads with ``weights_only``)."""
    def cpu(v):
        if isinstance(v, torch.Tensor):
            return v.detach().cpu()
        if isinstance(v, dict):
            return {k: cpu(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(cpu(x) for x in v)
        return v

    payload = {"format": SNAPSHOT_FORMAT, "version": VERSION, "train_config": _config_text(train_config),
               **cpu(state)}
    with atomic_path(path, keep_name=True) as tmp:
        torch.save(payload, tmp)


def load_snapshot(path, train_config: dict) -> dict | None:
    """The snapshot state in ``path`` if it is one, readable, and of this ``train_config``; else None
    (a missing, damaged or foreign snapshot means: train from the start)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile):
        return None
    if not isinstance(payload, dict) or payload.get("format") != SNAPSHOT_FORMAT or \
            payload.get("version") != VERSION or payload.get("train_config") != _config_text(train_config):
        return None
    keys = ("epoch", "model", "optimizer", "generator", "rng", "history", "train_seconds")
    return {k: payload[k] for k in keys} if all(k in payload for k in keys) else None
