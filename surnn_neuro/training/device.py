"""Where training runs: the torch device and the CPU threads (shared by the loop and data-parallel
training)."""

from __future__ import annotations

import torch

from surnn_neuro.errors import UserError
from surnn_neuro.preflight import check_value


def set_threads(n: int) -> None:
    """CPU threads for torch. Default 1: the per-step operations of a recurrent layer are too small
    to split across cores, and on a busy 2-core machine extra threads only add synchronisation."""
    torch.set_num_threads(check_value("--threads", n))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    return torch.device(name)
