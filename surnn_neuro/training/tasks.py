"""Tasks wiring: any task of :mod:`surnn_neuro.datasets` by name, as torch tensors.

The data and its loaders live in the data layer (numpy, no torch): :func:`load_task` is
:func:`surnn_neuro.datasets.load_task_arrays` plus :func:`as_torch`, which wraps the arrays with
``torch.from_numpy`` (no copy, dtypes kept: x float32, y int64 or float32). The task loss and score
are in :mod:`surnn_neuro.training.losses`.

Tasks (``surnn-neuro tasks`` lists them):

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

Event datasets (shd, ssc, dvs-gesture, nmnist, event-digits) are binned to (T, V) frames; for them
``seq_len`` is the number of time bins. Synthetic tasks are generated from a seed: the same seed
gives the same data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from surnn_neuro import datasets
from surnn_neuro.datasets import EVENT_TASKS, TaskData, known_tasks

__all__ = ["TaskData", "TASKS", "EVENT_TASKS", "known_tasks", "load_task", "as_torch"]


def _tensor(a) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a
    a = np.ascontiguousarray(a)
    if not a.flags.writeable:  # torch.from_numpy needs writeable memory
        a = a.copy()
    return torch.from_numpy(a)


def as_torch(task: TaskData) -> TaskData:
    """The same task with torch tensors sharing memory with its numpy arrays (idempotent)."""
    return replace(task, x_train=_tensor(task.x_train), y_train=_tensor(task.y_train),
                   x_test=_tensor(task.x_test), y_test=_tensor(task.y_test))


def _factory(name: str):
    def load(**kw) -> TaskData:
        return as_torch(datasets.TASKS[name].load(**kw))

    return load


#: task name -> (factory returning the torch view, description); event datasets in EVENT_TASKS.
TASKS = {name: (_factory(name), spec.description) for name, spec in datasets.TASKS.items()}


def load_task(name: str, seq_len=None, data_dir=None, seed=0, **kw) -> TaskData:
    """Build a task by name (torch tensors); UserError listing the known tasks otherwise."""
    return as_torch(datasets.load_task_arrays(name, seq_len=seq_len, data_dir=data_dir, seed=seed,
                                              **kw))
