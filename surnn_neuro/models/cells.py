"""Candidate cells f(h_{t-1}, x_t) as pure step functions (docs/semantics.md §1).

The input drive ``gi = W_ih x + b_ih`` is computed for the whole sequence at once by the layer (one
big matmul), so a step takes ``gi_t: (B, G·H)``. Weights use the ``torch.nn.*Cell`` layout and gate
order. Each step returns ``(h_candidate, c_candidate)``; ``c`` is ``None`` except for the LSTM.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: number of stacked gate blocks per cell, in torch.nn.*Cell order
GATE_BLOCKS = {"gru": 3, "rnn": 1, "lstm": 4}


def candidate(cell: str, gi, gh, h, c):
    """``(f, c')`` of ``cell`` from the drives ``gi = W_ih x + b_ih`` and ``gh = W_hh h + b_hh``,
    both (B, G·H). ``c'`` is ``c`` unchanged for gru and rnn. Shared by the models and by the
    snnTorch/Norse networks, which keep ``gh`` as a sigma accumulated from delta events.

    gru (reset-after): r, z = σ(gi + gh), n = tanh(gi_n + r ⊙ gh_n), f = (1 − z) ⊙ n + z ⊙ h;
    rnn: tanh(gi + gh); lstm (i, f, g, o): c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), f = σ(o) ⊙ tanh(c').
    """
    if cell == "gru":
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, c
    if cell == "rnn":
        return torch.tanh(gi + gh), c
    if cell == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c_new), c_new
    raise ValueError(f"unknown cell {cell!r}; known: {', '.join(GATE_BLOCKS)}")


def gru_step(gi, h, c, w_hh, b_hh):
    """Reset-after GRU (``torch.nn.GRUCell``).

    r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), f = (1 − z) ⊙ n + z ⊙ h,
    with gh = W_hh h + b_hh. Shapes: gi (B, 3H), h (B, H), w_hh (3H, H).
    """
    return candidate("gru", gi, F.linear(h, w_hh, b_hh), h, c)


def rnn_step(gi, h, c, w_hh, b_hh):
    """Elman tanh RNN (``torch.nn.RNNCell``): f = tanh(gi + W_hh h + b_hh)."""
    return candidate("rnn", gi, F.linear(h, w_hh, b_hh), h, c)


def lstm_step(gi, h, c, w_hh, b_hh):
    """LSTM (``torch.nn.LSTMCell``, gate order i, f, g, o): c' = f⊙c + i⊙g, h' = o⊙tanh(c')."""
    return candidate("lstm", gi, F.linear(h, w_hh, b_hh), h, c)


CELL_STEPS = {"gru": gru_step, "rnn": rnn_step, "lstm": lstm_step}


def get_cell_step(name: str):
    """Step function of a cell kind; ValueError listing the known kinds otherwise."""
    try:
        return CELL_STEPS[name]
    except KeyError:
        raise ValueError(f"unknown cell {name!r}; known: {', '.join(CELL_STEPS)}") from None
