"""Sequential MNIST from local IDX files (tasks ``smnist``, ``psmnist``); no download.

``data_dir`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``; also the
``train-images.idx3-ubyte`` spelling). x: (N, 784, 1) float32, pixel values / 255, row by row;
y: (N,) int64 in 0..9; the official 60 000 / 10 000 split. ``psmnist`` applies one fixed pixel
permutation (seed 0) to every sample.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from surnn_neuro.datasets.task import TaskData, TaskSpec, fixed_permutation
from surnn_neuro.errors import UserError

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST format; gzip accepted): magic 0x0000 08 nd, nd big-endian uint32
    sizes, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08 or head[3] not in (1, 3):
                raise UserError(f"{path}: not an IDX ubyte file (bad magic number {head.hex()})")
            nd = head[3]
            dims = struct.unpack(">" + "I" * nd, f.read(4 * nd))
            data = f.read()
    except (OSError, EOFError, struct.error) as e:
        raise UserError(f"{path}: cannot read IDX file ({e})") from None
    expected = int(np.prod(dims))
    if len(data) != expected:
        raise UserError(f"{path}: truncated or oversized IDX data: {len(data)} bytes for shape {dims}")
    return np.frombuffer(data, np.uint8).reshape(dims)


def _find(data_dir: Path, stem: str) -> Path:
    for cand in (data_dir / stem, data_dir / (stem + ".gz"), data_dir / stem.replace("-idx", ".idx")):
        if cand.exists():
            return cand
    raise UserError(f"--data-dir {data_dir}: missing {stem} (or {stem}.gz); MNIST IDX files are "
                    f"published at https://yann.lecun.com/exdb/mnist/ and mirrors")


def smnist(data_dir=None, permute=False, seed=0, **_) -> TaskData:
    """Sequential MNIST from local IDX files in ``data_dir`` (T = 784, V = 1, values /255)."""
    if data_dir is None:
        raise UserError("task smnist/psmnist needs --data-dir with the MNIST IDX files "
                        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                        "t10k-labels-idx1-ubyte, optionally .gz)")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"--data-dir {data_dir}: not a directory")
    out = {}
    for split, (img, lab) in IDX_FILES.items():
        ip, lp = _find(data_dir, img), _find(data_dir, lab)
        images, labels = read_idx(ip), read_idx(lp)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise UserError(f"{ip}: {len(images)} images do not match {len(labels)} labels in {lp}")
        if labels.max(initial=0) > 9:
            raise UserError(f"{lp}: label {int(labels.max())} out of range 0..9")
        x = images.reshape(len(images), -1).astype(np.float32) / 255.0
        if permute:
            x = x[:, fixed_permutation(x.shape[1])]
        out[split] = (x[..., None], labels.astype(np.int64))
    name = "psmnist" if permute else "smnist"
    (xtr, ytr), (xte, yte) = out["train"], out["test"]
    return TaskData(name, "classification", xtr, ytr, xte, yte, 10, "last", "accuracy",
                    {"seq_len": xtr.shape[1]})


def _smnist(**kw) -> TaskData:
    return smnist(permute=False, **kw)


def _psmnist(**kw) -> TaskData:
    return smnist(permute=True, **kw)


TASKS = (
    TaskSpec(name="smnist", load=_smnist, description="sequential MNIST from --data-dir IDX files",
             fixed_length=True),
    TaskSpec(name="psmnist", load=_psmnist, description="permuted sequential MNIST",
             fixed_length=True),
)
