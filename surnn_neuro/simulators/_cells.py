"""Candidate cells f(h, x) on pre-activations, shared by the numpy simulators (docs/semantics.md §1).

``gi = W_ih x + b_ih`` and ``gh = W_hh h + b_hh`` arrive split by gate block on axis 0:
``(G, ...)`` with the torch gate order (gru: r, z, n; lstm: i, f, g, o). The trailing shape is free:
``(B, H)`` for the dense simulator, ``(n,)`` (only the neurons whose gate fired) for the reference.
Both simulators call these functions, so a difference between them can only come from how the
pre-activations were accumulated.
"""

from __future__ import annotations

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


#: cell kind -> candidate function ``(gi, gh, h, c) -> (h_new, c_new or None)``.
CELLS = {"gru": gru, "rnn": rnn, "lstm": lstm}


def cell_fn(kind: str):
    """The candidate function of ``kind``; ValueError listing the known cells otherwise."""
    try:
        return CELLS[kind]
    except KeyError:
        raise ValueError(f"unknown cell {kind!r}; known: {', '.join(CELLS)}") from None
