"""Sigma accumulators of the event-driven reference: ``S += W[:, idx] @ v`` on cached transposes.

Shared by the reference simulator's numpy engine and its spiking path (numpy only).
"""

from __future__ import annotations

import weakref

import numpy as np

from surnn_neuro.ir.graph import EventGraph

#: When more than this fraction of a matrix' columns carries events, one dense product over the
#: scattered event vector is cheaper than gathering the columns (same sum up to rounding; zeros add 0).
DENSE_CROSSOVER = 0.4
#: Rows of the transposed matrix gathered at once (128 × 3072 float64 = 3 MB).
GATHER_CHUNK = 128

EMPTY_IDX = np.zeros(0, dtype=np.intp)


def split_by_step(mask: np.ndarray):
    """``mask: (T, N)`` -> ``(steps, idx, bounds)``: the events of step t are ``idx[bounds[t]:bounds[t+1]]``
    (``steps`` is the step of each event)."""
    tt, ii = np.nonzero(mask)
    bounds = np.searchsorted(tt, np.arange(mask.shape[0] + 1))
    return tt, ii.astype(np.intp), bounds


#: EventGraph -> {(matrix key, dtype): (W.T contiguous, read-only; fan-out of each column)}.
#: Graphs are immutable (frozen, read-only arrays), so the transposes are made once per graph and
#: dtype and live as long as the graph: repeated ``run`` calls (batches of a test set) skip the copy.
_TRANSPOSED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def transposed(graph: EventGraph, key: str, make_w, dtype):
    cache = _TRANSPOSED.setdefault(graph, {})
    k = (key, np.dtype(dtype).str)
    if k not in cache:
        w_t = np.ascontiguousarray(make_w().T, dtype=dtype)  # column j of W is row j of w_t
        w_t.flags.writeable = False
        cache[k] = (w_t, np.count_nonzero(w_t, axis=1).astype(np.int64))
    return cache[k]


class Sigma:
    """``S += W[:, idx] @ v`` on a transposed weight matrix ``w_t = W.T`` with a reusable buffer.

    Columns are gathered in chunks of ``GATHER_CHUNK`` rows of ``w_t`` into a small buffer that stays
    in cache; ``np.take(..., mode="clip")`` because ``mode="raise"`` buffers ``out`` (about 3×
    slower). Above ``DENSE_CROSSOVER`` of the columns one product with the scattered event vector is
    faster than gathering (same sum; zero entries add exact zeros).
    """

    def __init__(self, graph: EventGraph, key: str, make_w, dtype):
        self.w_t, self.fanout = transposed(graph, key, make_w, dtype)  # w_t: (n_cols, n_rows)
        self.n_cols = self.w_t.shape[0]
        self.crossover = max(1, int(DENSE_CROSSOVER * self.n_cols))
        self.buf = np.empty((min(GATHER_CHUNK, self.n_cols), self.w_t.shape[1]), dtype=dtype)
        self.scatter = np.zeros(self.n_cols, dtype=dtype)

    def product(self, idx: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``W[:, idx] @ v`` (a new array)."""
        n = idx.shape[0]
        if n > self.crossover:
            self.scatter[idx] = v
            out = self.scatter @ self.w_t
            self.scatter[idx] = 0.0
            return out
        if n <= GATHER_CHUNK:
            return v @ self.w_t.take(idx, axis=0, out=self.buf[:n], mode="clip")
        out = v[:GATHER_CHUNK] @ self.w_t.take(idx[:GATHER_CHUNK], axis=0, out=self.buf, mode="clip")
        for a in range(GATHER_CHUNK, n, GATHER_CHUNK):
            b = min(n, a + GATHER_CHUNK)
            out += v[a:b] @ self.w_t.take(idx[a:b], axis=0, out=self.buf[: b - a], mode="clip")
        return out

    def add(self, s: np.ndarray, idx: np.ndarray, v: np.ndarray) -> None:
        """``S += W[:, idx] @ v`` in place."""
        s += self.product(idx, v)

    def set(self, s: np.ndarray, base: np.ndarray, idx: np.ndarray, v: np.ndarray) -> None:
        """``S = base + W[:, idx] @ v`` in place (input sigma rebuilt from this step's events)."""
        if idx.shape[0] == 0:
            s[...] = base
        else:
            np.add(base, self.product(idx, v), out=s)


