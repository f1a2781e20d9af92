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


# ------------------------------------------------------------------------------------------------
# spiking layers (LIF / CubaLIF, docs/semantics.md §5): the same arithmetic, in the same order, as
# Lava's floating-point LIF (lava.proc.lif.models.AbstractPyLifModelFloat) and Dense models, so that
# the reference, the dense simulator and Lava give bit-identical states for binary inputs.
# ------------------------------------------------------------------------------------------------


def spike_sum(w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``Σ_{j ∈ idx} W[:, j]`` as Lava's binary Dense computes it: ``W[:, idx].sum(axis=1)``.

    ``idx`` ascending (what a boolean mask selects), so the gathered columns, their order and numpy's
    pairwise summation are the same as in ``PyDenseModelFloat`` (``weights[:, s_in].sum(axis=1)``).
    """
    return w[:, idx].sum(axis=1)


def lif_step(u: np.ndarray, v: np.ndarray, a_in: np.ndarray, decay_u, decay_v, beta, theta) -> np.ndarray:
    """One step of Lava's LIF, in place: ``u = u·(1−du) + a``; ``v = v·(1−dv) + u + β``;
    ``z = v > θ``; ``v[z] = 0``. ``decay_u = 1 − du``, ``decay_v = 1 − dv``. Returns z (bool).

    Shapes broadcast: ``(H,)`` for one sample, ``(B, H)`` for a batch.
    """
    u *= decay_u
    u += a_in
    v[...] = v * decay_v + u + beta
    z = v > theta
    v[z] = 0.0
    return z


def spiking_readout(readout, spikes: np.ndarray) -> np.ndarray:
    """Readout of the last spiking layer's spikes ``z: (B, T, H)`` (docs/semantics.md §5):
    ``y_t = W_o z_t + b_o``, summed over the spiking columns like a binary Dense
    (``b_o + spike_sum(W_o, idx)``), then ``last`` / ``mean`` / ``all`` as for every readout."""
    n_b, n_t, _ = spikes.shape
    w, b = readout.weight, readout.bias
    steps = range(n_t - 1, n_t) if readout.mode == "last" else range(n_t)
    y = np.empty((n_b, len(steps), readout.output_size))
    for i in range(n_b):
        for k, t in enumerate(steps):
            y[i, k] = b + spike_sum(w, np.flatnonzero(spikes[i, t]))
    if readout.mode == "all":
        return y
    if readout.mode == "mean":
        return y.mean(axis=1)
    return y[:, 0].copy()
