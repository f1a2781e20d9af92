"""Candidate cells ``f(h_{t-1}, x_t)`` in torch (docs/semantics.md §1; numpy twin: ``ir.cells``).

Weights use the ``torch.nn.*Cell`` layout and gate order; the block count of each kind is
:data:`surnn_neuro.ir.cells.CELLS`. The drives arrive pre-computed: ``gi = W_ih x + b_ih`` (the
trainable layer computes it for the whole sequence in one matmul) and ``gh = W_hh h + b_hh`` (dense
in training, a sigma accumulated from delta events in the snnTorch / Norse adapters).
"""

from __future__ import annotations

import torch

from surnn_neuro.ir.cells import CELLS


def candidate(cell: str, gi, gh, h, c):
    """``(f, c')`` of ``cell`` from the drives ``gi`` and ``gh``, both (B, G·H); ``c'`` is ``c``
    unchanged for gru and rnn.

    gru (reset-after): r, z = σ(gi + gh), n = tanh(gi_n + r ⊙ gh_n), f = (1 − z) ⊙ n + z ⊙ h;
    rnn: tanh(gi + gh); lstm (i, f, g, o): c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), f = σ(o) ⊙ tanh(c').

    >>> f, _ = candidate("rnn", torch.tensor([[0.5]]), torch.tensor([[-0.5]]), torch.zeros(1, 1), None)
    >>> f.tolist()
    [[0.0]]
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
    raise ValueError(f"unknown cell {cell!r}; known: {', '.join(CELLS)}")
