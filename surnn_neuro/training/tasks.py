"""Tasks: data, loss and metric for each benchmark, by name.

Every task returns a :class:`TaskData` holding batch-first tensors ``x: (N, T, V)`` (the training
loop feeds the models time-first) and targets, plus how to score them:

=============  ======================================================  ========  ===========
task           data                                                    readout   metric
=============  ======================================================  ========  ===========
adding         SA-RNN §4.5: values U(0,1) + two markers; y = sum       last      mse (solved < 0.01)
copy           copy memory: 10 symbols, blanks, delimiter, recall      all       accuracy
selective-copy Mamba's selective copy: tokens at random places         all       accuracy
digits         scikit-learn's 1797 8×8 digits, pixel by pixel (T=64)   last      accuracy
pdigits        digits with a fixed pixel permutation                   last      accuracy
smnist         MNIST from local IDX files, pixel by pixel (T=784)      last      accuracy
psmnist        smnist with a fixed permutation                         last      accuracy
=============  ======================================================  ========  ===========

Event datasets (shd, ssc, dvs-gesture, nmnist, event-digits) come from :mod:`surnn_neuro.datasets`.
Synthetic tasks are generated from a seed: the same seed gives the same data.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from surnn_neuro.errors import UserError


@dataclass(frozen=True, eq=False)
class TaskData:
    """Data and scoring of one task. ``x_*``: (N, T, V) float32; ``y_*``: (N,) int64 class labels,
    (N,) float32 regression targets, or (N, S) int64 tokens for the last S steps (sequence tasks)."""

    name: str
    kind: str  # "classification" | "regression" | "sequence"
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    output_size: int
    readout: str
    metric: str
    info: dict

    @property
    def input_size(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def seq_len(self) -> int:
        return int(self.x_train.shape[1])

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Task loss of model outputs (time-first for readout 'all') against targets."""
        if self.kind == "regression":
            return torch.nn.functional.mse_loss(out.squeeze(-1), y)
        if self.kind == "classification":
            return torch.nn.functional.cross_entropy(out, y)
        S = y.shape[1]
        logits = out[-S:].permute(1, 0, 2).reshape(-1, out.shape[-1])  # (B·S, O)
        return torch.nn.functional.cross_entropy(logits, y.reshape(-1))

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        """Sum of the per-sample metric over the batch (divide by N for the mean)."""
        if self.kind == "regression":
            return float(((out.squeeze(-1) - y) ** 2).sum())
        if self.kind == "classification":
            return float((out.argmax(-1) == y).sum())
        S = y.shape[1]
        pred = out[-S:].argmax(-1).T  # (B, S)
        return float((pred == y).float().mean(1).sum())


def _split(x, y, n_test, seed):
    perm = np.random.RandomState(seed).permutation(len(x))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def _tensor(a, dtype=torch.float32):
    return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)


def adding(seq_len=500, n_train=10000, n_test=1000, seed=0, **_):
    """Adding problem (SA-RNN §4.5): x_t = (value_t ~ U(0,1), marker_t); two markers, one in each
    half of the sequence; target = sum of the two marked values. Predicting the mean 1.0 scores an
    MSE of Var(u1 + u2) = 2/12 ≈ 0.167; 'solved' means MSE < 0.01."""
    if seq_len < 4:
        raise UserError(f"--seq-len: the adding task needs at least 4 steps, got {seq_len}")
    rng = np.random.RandomState(1000 + seed)
    n = n_train + n_test
    values = rng.uniform(0, 1, size=(n, seq_len)).astype(np.float32)
    markers = np.zeros((n, seq_len), np.float32)
    half = seq_len // 2
    i = rng.randint(0, half, size=n)
    j = rng.randint(half, seq_len, size=n)
    markers[np.arange(n), i] = 1
    markers[np.arange(n), j] = 1
    x = np.stack([values, markers], -1)
    y = (values[np.arange(n), i] + values[np.arange(n), j]).astype(np.float32)
    xtr, ytr, xte, yte = x[n_test:], y[n_test:], x[:n_test], y[:n_test]
    return TaskData("adding", "regression", _tensor(xtr), _tensor(ytr), _tensor(xte), _tensor(yte),
                    1, "last", "mse", {"seq_len": seq_len, "solved_below": 0.01})


def _one_hot(tokens, n):
    return np.eye(n, dtype=np.float32)[tokens]


def copy(seq_len=100, n_train=10000, n_test=1000, seed=0, n_symbols=10, alphabet=8, **_):
    """Copy memory task: ``n_symbols`` random symbols (1..alphabet), blanks (0), a delimiter
    (alphabet+1) at step T−n_symbols−1, blanks; the last n_symbols outputs must repeat the symbols.
    Inputs are one-hot (V = alphabet + 2). Chance accuracy = 1/alphabet."""
    S = n_symbols
    if seq_len < 2 * S + 1:
        raise UserError(f"--seq-len: the copy task needs at least {2 * S + 1} steps, got {seq_len}")
    rng = np.random.RandomState(2000 + seed)
    n = n_train + n_test
    sym = rng.randint(1, alphabet + 1, size=(n, S))
    tok = np.zeros((n, seq_len), np.int64)
    tok[:, :S] = sym
    tok[:, seq_len - S - 1] = alphabet + 1
    x = _one_hot(tok, alphabet + 2)
    y = sym - 1
    return TaskData("copy", "sequence", _tensor(x[n_test:]), _tensor(y[n_test:], torch.int64),
                    _tensor(x[:n_test]), _tensor(y[:n_test], torch.int64), alphabet, "all", "accuracy",
                    {"seq_len": seq_len, "n_symbols": S, "chance": 1 / alphabet})


def selective_copy(seq_len=100, n_train=10000, n_test=1000, seed=0, n_tokens=8, alphabet=8, **_):
    """Selective copy (Mamba, Gu & Dao 2023): ``n_tokens`` tokens (1..alphabet) at random positions
    among blanks (0) in the first T−n_tokens−1 steps, then a delimiter, then blanks; the last
    n_tokens outputs must list the tokens in order. One-hot inputs (V = alphabet + 2)."""
    S = n_tokens
    span = seq_len - S - 1
    if span < S:
        raise UserError(f"--seq-len: selective copy needs at least {2 * S + 1} steps, got {seq_len}")
    rng = np.random.RandomState(3000 + seed)
    n = n_train + n_test
    tok = np.zeros((n, seq_len), np.int64)
    sym = rng.randint(1, alphabet + 1, size=(n, S))
    for k in range(n):
        pos = np.sort(rng.choice(span, size=S, replace=False))
        tok[k, pos] = sym[k]
    tok[:, span] = alphabet + 1
    x = _one_hot(tok, alphabet + 2)
    y = sym - 1
    return TaskData("selective-copy", "sequence", _tensor(x[n_test:]), _tensor(y[n_test:], torch.int64),
                    _tensor(x[:n_test]), _tensor(y[:n_test], torch.int64), alphabet, "all", "accuracy",
                    {"seq_len": seq_len, "n_tokens": S, "chance": 1 / alphabet})


def _permutation(n):
    return np.random.RandomState(0).permutation(n)


def digits(permute=False, seed=0, **_):
    """scikit-learn's 1797 handwritten 8×8 digits fed pixel by pixel (T = 64, V = 1, values in
    [0, 1]); a fixed 80/20 split (360 test samples, permutation seed 0 whatever the run seed)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.reshape(-1, 64) / 16.0).astype(np.float32)
    if permute:
        x = x[:, _permutation(64)]
    xtr, ytr, xte, yte = _split(x[..., None], d.target.astype(np.int64), 360, 0)
    name = "pdigits" if permute else "digits"
    return TaskData(name, "classification", _tensor(xtr), _tensor(ytr, torch.int64), _tensor(xte),
                    _tensor(yte, torch.int64), 10, "last", "accuracy", {"seq_len": 64})


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


def smnist(data_dir=None, permute=False, seed=0, **_):
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
            x = x[:, _permutation(x.shape[1])]
        out[split] = (x[..., None], labels.astype(np.int64))
    name = "psmnist" if permute else "smnist"
    (xtr, ytr), (xte, yte) = out["train"], out["test"]
    return TaskData(name, "classification", _tensor(xtr), _tensor(ytr, torch.int64), _tensor(xte),
                    _tensor(yte, torch.int64), 10, "last", "accuracy", {"seq_len": xtr.shape[1]})


def event_task(name, data_dir=None, seed=0, limit=None, bins=None, **_):
    """Event datasets through :func:`surnn_neuro.datasets.load_split` (binned to (T, V) frames)."""
    from surnn_neuro import datasets

    return datasets.task_data(name, data_dir=data_dir, bins=bins, limit=limit)


#: task name -> (factory, description). ``seq_len`` is honoured where the task has a free length.
TASKS = {
    "adding": (adding, "SA-RNN adding problem (regression, T=500 by default)"),
    "copy": (copy, "copy memory task"),
    "selective-copy": (selective_copy, "selective copy task"),
    "digits": (lambda **kw: digits(False, **kw), "sklearn digits pixel by pixel (T=64)"),
    "pdigits": (lambda **kw: digits(True, **kw), "permuted sklearn digits"),
    "smnist": (lambda **kw: smnist(permute=False, **kw), "sequential MNIST from --data-dir IDX files"),
    "psmnist": (lambda **kw: smnist(permute=True, **kw), "permuted sequential MNIST"),
}

EVENT_TASKS = ("shd", "ssc", "dvs-gesture", "nmnist", "event-digits")


def known_tasks():
    return tuple(TASKS) + EVENT_TASKS


def load_task(name: str, seq_len=None, data_dir=None, seed=0, **kw) -> TaskData:
    """Build a task by name; UserError listing the known tasks otherwise."""
    if name in EVENT_TASKS:  # --seq-len sets the number of time bins
        return event_task(name, data_dir=data_dir, seed=seed, bins=seq_len, **kw)
    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; known: {', '.join(known_tasks())}")
    if seq_len is not None and name in ("digits", "pdigits", "smnist", "psmnist"):
        raise UserError(f"--seq-len: task {name} has a fixed length; drop the option")
    args = dict(seed=seed, data_dir=data_dir, **kw)
    if seq_len is not None:
        args["seq_len"] = int(seq_len)
    return TASKS[name][0](**args)
