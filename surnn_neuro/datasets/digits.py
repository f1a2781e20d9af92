"""scikit-learn's 1797 handwritten 8×8 digits, fed pixel by pixel (tasks ``digits``, ``pdigits``).

No download: ``sklearn.datasets.load_digits`` ships with scikit-learn. x: (N, 64, 1) float32, pixel
values / 16 in [0, 1], row by row; y: (N,) int64 in 0..9. A fixed 80/20 split (360 test samples,
permutation seed 0 whatever the run seed). ``pdigits`` applies one fixed pixel permutation (seed 0)
to every sample.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.datasets.task import TaskData, TaskSpec, fixed_permutation, split_fixed

N_TEST = 360


def digits(permute=False, seed=0, **_) -> TaskData:
    """The digits task (``permute``: pdigits); ``seed`` does not change the data or the split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.reshape(-1, 64) / 16.0).astype(np.float32)
    if permute:
        x = x[:, fixed_permutation(64)]
    xtr, ytr, xte, yte = split_fixed(x[..., None], d.target.astype(np.int64), N_TEST, 0)
    name = "pdigits" if permute else "digits"
    return TaskData(name, "classification", xtr, ytr, xte, yte, 10, "last", "accuracy",
                    {"seq_len": 64})


def _digits(**kw) -> TaskData:
    return digits(False, **kw)


def _pdigits(**kw) -> TaskData:
    return digits(True, **kw)


TASKS = (
    TaskSpec(name="digits", load=_digits, description="sklearn digits pixel by pixel (T=64)",
             fixed_length=True),
    TaskSpec(name="pdigits", load=_pdigits, description="permuted sklearn digits",
             fixed_length=True),
)
