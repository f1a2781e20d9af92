"""Synthetic sequence tasks generated from a seed: the same seed gives the same data.

=============  ======================================================  ========  ===========
task           data                                                    readout   metric
=============  ======================================================  ========  ===========
adding         SA-RNN §4.5: values U(0,1) + two markers; y = sum       last      mse (solved < 0.01)
copy           copy memory: symbols, blanks, delimiter, recall         all       accuracy
selective-copy Mamba's selective copy: tokens at random places         all       accuracy
=============  ======================================================  ========  ===========

Each generator draws from its own ``RandomState(base + seed)`` (bases 1000, 2000, 3000), so tasks
never share a random stream; the first ``n_test`` samples drawn are the test split.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.datasets.task import TaskData, TaskSpec
from surnn_neuro.errors import UserError
from surnn_neuro.preflight import check_fits


def _fits(task: str, n: int, seq_len: int, width: int) -> None:
    """Refuse a sequence length whose arrays (n × T × width float32, plus the generator's
    temporaries, about twice that) cannot be allocated, before drawing them."""
    check_fits(2 * 4.0 * n * seq_len * width, f"--seq-len {seq_len}: the {task} task's {n} sequences",
               "use a shorter --seq-len")


def adding(seq_len=500, n_train=10000, n_test=1000, seed=0, **_) -> TaskData:
    """Adding problem (SA-RNN §4.5): x_t = (value_t ~ U(0,1), marker_t); two markers, one in each
    half of the sequence; target = sum of the two marked values. Predicting the mean 1.0 scores an
    MSE of Var(u1 + u2) = 2/12 ≈ 0.167; 'solved' means MSE < 0.01. x: (N, T, 2), y: (N,) float32."""
    if seq_len < 4:
        raise UserError(f"--seq-len: the adding task needs at least 4 steps, got {seq_len}")
    n = n_train + n_test
    _fits("adding", n, seq_len, 2 + 2)  # values and markers, stacked into x
    rng = np.random.RandomState(1000 + seed)
    values = rng.uniform(0, 1, size=(n, seq_len)).astype(np.float32)
    markers = np.zeros((n, seq_len), np.float32)
    half = seq_len // 2
    i = rng.randint(0, half, size=n)
    j = rng.randint(half, seq_len, size=n)
    markers[np.arange(n), i] = 1
    markers[np.arange(n), j] = 1
    x = np.stack([values, markers], -1)
    y = (values[np.arange(n), i] + values[np.arange(n), j]).astype(np.float32)
    return TaskData("adding", "regression", x[n_test:], y[n_test:], x[:n_test], y[:n_test],
                    1, "last", "mse", {"seq_len": seq_len, "solved_below": 0.01})


def _one_hot(tokens, n):
    return np.eye(n, dtype=np.float32)[tokens]


def copy(seq_len=100, n_train=10000, n_test=1000, seed=0, n_symbols=10, alphabet=8, **_) -> TaskData:
    """Copy memory task: ``n_symbols`` random symbols (1..alphabet), blanks (0), a delimiter
    (alphabet+1) at step T−n_symbols−1, blanks; the last n_symbols outputs must repeat the symbols.
    Inputs are one-hot (V = alphabet + 2); y: (N, n_symbols) int64 in 0..alphabet−1. Chance
    accuracy = 1/alphabet."""
    S = n_symbols
    if seq_len < 2 * S + 1:
        raise UserError(f"--seq-len: the copy task needs at least {2 * S + 1} steps, got {seq_len}")
    n = n_train + n_test
    _fits("copy", n, seq_len, alphabet + 2 + 2)  # one-hot x plus the int64 tokens
    rng = np.random.RandomState(2000 + seed)
    sym = rng.randint(1, alphabet + 1, size=(n, S))
    tok = np.zeros((n, seq_len), np.int64)
    tok[:, :S] = sym
    tok[:, seq_len - S - 1] = alphabet + 1
    x = _one_hot(tok, alphabet + 2)
    y = (sym - 1).astype(np.int64)
    return TaskData("copy", "sequence", x[n_test:], y[n_test:], x[:n_test], y[:n_test], alphabet,
                    "all", "accuracy", {"seq_len": seq_len, "n_symbols": S, "chance": 1 / alphabet})


def selective_copy(seq_len=100, n_train=10000, n_test=1000, seed=0, n_tokens=8, alphabet=8,
                   **_) -> TaskData:
    """Selective copy (Mamba, Gu & Dao 2023): ``n_tokens`` tokens (1..alphabet) at random positions
    among blanks (0) in the first T−n_tokens−1 steps, then a delimiter, then blanks; the last
    n_tokens outputs must list the tokens in order. One-hot inputs (V = alphabet + 2)."""
    S = n_tokens
    span = seq_len - S - 1
    if span < S:
        raise UserError(f"--seq-len: selective copy needs at least {2 * S + 1} steps, got {seq_len}")
    n = n_train + n_test
    _fits("selective-copy", n, seq_len, alphabet + 2 + 2)
    rng = np.random.RandomState(3000 + seed)
    tok = np.zeros((n, seq_len), np.int64)
    sym = rng.randint(1, alphabet + 1, size=(n, S))
    for k in range(n):
        pos = np.sort(rng.choice(span, size=S, replace=False))
        tok[k, pos] = sym[k]
    tok[:, span] = alphabet + 1
    x = _one_hot(tok, alphabet + 2)
    y = (sym - 1).astype(np.int64)
    return TaskData("selective-copy", "sequence", x[n_test:], y[n_test:], x[:n_test], y[:n_test],
                    alphabet, "all", "accuracy",
                    {"seq_len": seq_len, "n_tokens": S, "chance": 1 / alphabet})


TASKS = (
    TaskSpec(name="adding", load=adding,
             description="SA-RNN adding problem (regression, T=500 by default)"),
    TaskSpec(name="copy", load=copy, description="copy memory task"),
    TaskSpec(name="selective-copy", load=selective_copy, description="selective copy task"),
)
