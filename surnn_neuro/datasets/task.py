"""What every loader returns: :class:`TaskData`, a train/test pair with its readout and metric.

**numpy here, torch in training.** The data layer is numpy + h5py only (it imports without torch,
DESIGN.md §4), so every loader of this package fills ``TaskData`` with numpy arrays:
``x_*`` (N, T, V) float32, ``y_*`` (N,) int64 class labels, (N,) float32 regression targets or
(N, S) int64 tokens of the last S steps (sequence tasks). :func:`surnn_neuro.training.tasks.load_task`
returns the *same record* with ``torch.from_numpy`` views of those arrays (no copy; dtypes kept, so
the tensors are bit-for-bit the arrays), and the task loss and score (torch) live in
:mod:`surnn_neuro.training.losses`. Why one record type rather than a numpy class and a torch class:
every consumer (model sizing, scoring, subsetting with ``dataclasses.replace``) reads the same
fields; only the array type differs, and it is fixed by the layer that hands the record out.

:class:`TaskSpec` is how a module of this package declares a task (name, loader, description);
:mod:`surnn_neuro.datasets.registry` collects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

KINDS = ("classification", "regression", "sequence")
READOUTS = ("last", "mean", "all")
METRICS = {"classification": "accuracy", "sequence": "accuracy", "regression": "mse"}


def dtype_name(a) -> str:
    """``"float32"`` for a numpy float32 array and for a torch float32 tensor alike."""
    return str(a.dtype).rsplit(".", 1)[-1]


@dataclass(frozen=True, eq=False)
class TaskData:
    """Data and scoring rule of one task (shapes and the numpy/torch contract in the module
    docstring).

    name: task name. kind: "classification" | "regression" | "sequence". output_size: O, classes
    (or 1 for regression). readout: "last" | "mean" | "all" (model output taken from the last step,
    the mean over steps, or every step: sequence tasks score the last S steps). metric: "accuracy"
    or "mse". info: free metadata (sequence length, binning, sources...).

    Validated on construction (also by ``dataclasses.replace``): ValueError for an unknown kind or
    readout, a metric that does not fit the kind, wrong ranks or dtypes, train and test of different
    (T, V), inputs and targets of different lengths, labels outside ``0..output_size-1``.
    """

    name: str
    kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    output_size: int
    readout: str
    metric: str
    info: dict

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown task kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.readout not in READOUTS:
            raise ValueError(f"unknown readout {self.readout!r}; known: {', '.join(READOUTS)}")
        if self.metric != METRICS[self.kind]:
            raise ValueError(f"metric {self.metric!r} does not fit a {self.kind} task "
                             f"(expected {METRICS[self.kind]!r})")
        if self.kind == "sequence" and self.readout != "all":
            raise ValueError(f"a sequence task needs readout 'all', got {self.readout!r}")
        if not isinstance(self.output_size, (int, np.integer)) or self.output_size < 1:
            raise ValueError(f"output_size must be an integer >= 1, got {self.output_size!r}")
        y_dtype = "float32" if self.kind == "regression" else "int64"
        y_ndim = 2 if self.kind == "sequence" else 1
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim != 3 or dtype_name(x) != "float32":
                raise ValueError(f"x_{split} must be a (N, T, V) float32 array, got "
                                 f"{dtype_name(x)} {tuple(x.shape)}")
            if y.ndim != y_ndim or dtype_name(y) != y_dtype:
                raise ValueError(f"y_{split} of a {self.kind} task must be a {y_ndim}-D {y_dtype} "
                                 f"array, got {dtype_name(y)} {tuple(y.shape)}")
            if len(y) != len(x):
                raise ValueError(f"x_{split} has {len(x)} samples but y_{split} has {len(y)}")
            if self.kind != "regression" and len(y) and not 0 <= int(y.min()) <= int(y.max()) \
                    < self.output_size:
                raise ValueError(f"y_{split}: labels {int(y.min())}..{int(y.max())} outside "
                                 f"0..{self.output_size - 1}")
        if tuple(self.x_train.shape[1:]) != tuple(self.x_test.shape[1:]):
            raise ValueError(f"train inputs are (T, V) = {tuple(self.x_train.shape[1:])} but test "
                             f"inputs are {tuple(self.x_test.shape[1:])}")
        if self.kind == "sequence" and self.y_train.shape[1] > self.x_train.shape[1]:
            raise ValueError(f"{self.y_train.shape[1]} target steps exceed the "
                             f"{self.x_train.shape[1]} input steps")

    @property
    def input_size(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def seq_len(self) -> int:
        return int(self.x_train.shape[1])


@dataclass(frozen=True)
class TaskSpec:
    """How a dataset module declares a task: ``load(seed=..., data_dir=..., [seq_len=...], **kw)``
    returns a numpy :class:`TaskData`. ``fixed_length``: the task has one sequence length
    (``--seq-len`` is then refused). ``seq_len`` is passed to ``load`` only when the user gave one."""

    name: str
    load: Callable[..., TaskData]
    description: str
    fixed_length: bool = False

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"task name must be a non-empty string, got {self.name!r}")
        if not callable(self.load):
            raise ValueError(f"task {self.name}: load must be callable")


def split_fixed(x, y, n_test: int, seed: int):
    """``(x_train, y_train, x_test, y_test)``: the first ``n_test`` of a seeded permutation are the
    test samples."""
    perm = np.random.RandomState(seed).permutation(len(x))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def fixed_permutation(n: int) -> np.ndarray:
    """The pixel permutation of the permuted tasks (seed 0, whatever the run seed)."""
    return np.random.RandomState(0).permutation(n)
