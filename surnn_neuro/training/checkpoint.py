"""Checkpoints: ``RUN_DIR/checkpoint.pt`` (weights + configs) and ``RUN_DIR/metrics.json``.

Loading uses ``torch.load(weights_only=True)``: a checkpoint holds only tensors, dicts, lists and
plain values, so loading one never executes pickled code. Writes are atomic.
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
    with atomic_path(path, suffix=".pt") as tmp:
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
    if int(payload.get("version", 0)) > VERSION:
        raise UserError(f"{path}: written by a newer surnn-neuro (checkpoint version "
                        f"{payload['version']} > {VERSION}); upgrade surnn-neuro")
    try:
        model = from_config(payload["model_config"])
        model.load_state_dict(payload["state_dict"])
    except (KeyError, ValueError, RuntimeError, TypeError) as e:
        first = str(e).strip().splitlines()[0]
        raise UserError(f"{path}: checkpoint does not match its model config ({first[:160]})") from None
    return model.to(device).eval(), payload
