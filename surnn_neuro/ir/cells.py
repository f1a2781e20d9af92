"""Cell kinds: one specification each, the numpy candidate functions and the numpy update rule.

    f_t = cell(h_{t−1}, x_t)                   candidate, computed only where g_t = 1
    h_t = where(g_t, f_t, h_{t−1})             docs/semantics.md §1

:data:`CELLS` is the one table of cell kinds: block count and names (``torch.nn.*Cell`` weight layout
and gate order), SA-RNN FLOPs per update, and the numpy candidate. Counting, the reference and dense
simulators, the Lava network, its resource estimate and the fixed-point plan all read it; the torch
candidate lives in :mod:`surnn_neuro.models.functional`.

Pre-activations arrive split by gate block on axis 0: ``gi = W_ih x + b_ih`` and
``gh = W_hh h + b_hh`` as ``(G, ...)``. The trailing shape is free: ``(n,)`` (the neurons whose gate
fired, reference and Lava) or ``(n,)`` gathered from a batch (dense simulator).

>>> CELLS["gru"].blocks, CELLS["lstm"].n_blocks, CELLS["gru"].flops(2, 128)
(('r', 'z', 'n'), 4, 393)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{−x}), written as ½(1 + tanh(x/2)) so that it never overflows."""
    y = np.asarray(np.multiply(x, 0.5))  # 0-d input gives a numpy scalar: make it an array
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


def gru(gi, gh, h, c):
    """Reset-after GRU: r, z = σ(gi + gh); n = tanh(gi_n + r ⊙ gh_n); f = (1 − z) ⊙ n + z ⊙ h."""
    rz = sigmoid(gi[:2] + gh[:2])
    n = np.tanh(gi[2] + rz[0] * gh[2])
    z = rz[1]
    return (1.0 - z) * n + z * h, None


def rnn(gi, gh, h, c):
    """f = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    return np.tanh(gi[0] + gh[0]), None


def lstm(gi, gh, h, c):
    """i, f, o = σ(·), g = tanh(·); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'). Returns (h', c')."""
    pre = gi + gh
    s = sigmoid(pre[[0, 1, 3]])
    c_new = s[1] * c + s[0] * np.tanh(pre[2])
    return s[2] * np.tanh(c_new), c_new


@dataclass(frozen=True)
class CellSpec:
    """What a cell kind is: its gate blocks (torch order), whether it keeps a cell state ``c``, the
    SA-RNN FLOPs of one candidate (multiplications per updated neuron, ``flops(V, H)``) and the
    numpy candidate ``fn(gi, gh, h, c) -> (f, c' or None)``."""

    kind: str
    blocks: tuple
    has_cell_state: bool
    flops: Callable[[int, int], int]
    fn: Callable

    @property
    def n_blocks(self) -> int:
        """G: the number of stacked gate blocks of ``W_ih``, ``W_hh`` and the biases."""
        return len(self.blocks)


#: The one table of cell kinds (docs/semantics.md §1, §4).
CELLS = {
    # three matrix rows per gate kind + r⊙gh_n, z⊙h, (1−z)⊙n
    "gru": CellSpec("gru", ("r", "z", "n"), False, lambda v, h: 3 * (v + h) + 3, gru),
    "rnn": CellSpec("rnn", ("n",), False, lambda v, h: v + h, rnn),
    "lstm": CellSpec("lstm", ("i", "f", "g", "o"), True, lambda v, h: 4 * (v + h) + 3, lstm),
}
#: Cell kind -> G, the number of stacked gate blocks (derived from :data:`CELLS`).
CELL_GATES = {kind: spec.n_blocks for kind, spec in CELLS.items()}


def cell_spec(kind: str) -> CellSpec:
    """The :data:`CELLS` entry of ``kind``; ValueError listing the known cells otherwise."""
    try:
        return CELLS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown cell {kind!r}; known: {', '.join(CELLS)}") from None


def cell_fn(kind: str):
    """The numpy candidate function of ``kind`` (see :class:`CellSpec`)."""
    return cell_spec(kind).fn


def su_update(fn, gi, gh, h: np.ndarray, c, fired) -> np.ndarray:
    """The selective update, in place: ``h[fired] ← f``, ``c[fired] ← c'`` (LSTM); returns
    ``Δ = f − h_old`` at ``fired``. Neurons not in ``fired`` are not touched (exact copy).

    ``fn``: a candidate ``(gi, gh, h, c) -> (f, c' or None)`` (:data:`CELLS`, or the fixed-point
    one of the Lava target); ``gi, gh: (G, n)`` pre-activations of the fired neurons; ``h, c``: the
    state arrays (``c`` None for cells without one); ``fired``: an index array or a boolean mask
    into ``h``.

    >>> h = np.array([0.5, -0.25]); gi = np.array([[0.2]]); gh = np.array([[0.3]])
    >>> su_update(rnn, gi, gh, h, None, np.array([1])).round(6).tolist(), h.round(6).tolist()
    ([0.712117], [0.5, 0.462117])
    """
    h_old = h[fired]
    f, c_new = fn(gi, gh, h_old, None if c is None else c[fired])
    if c_new is not None:
        c[fired] = c_new
    h[fired] = f
    return f - h_old


__all__ = ["CELLS", "CELL_GATES", "CellSpec", "cell_fn", "cell_spec", "gru", "lstm", "rnn", "sigmoid",
           "su_update"]
