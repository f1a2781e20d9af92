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
    f, c_new, _ = candidate_parts(cell, gi, gh, h, c)
    return f, c_new


def candidate_parts(cell: str, gi, gh, h, c):
    """:func:`candidate` and the activations its derivative (:func:`candidate_vjp`) reuses:
    ``(f, c', parts)`` with parts ``(r, z, n)`` for gru, ``(f,)`` for rnn,
    ``(σ_i, σ_f, tanh g, σ_o, tanh c')`` for lstm."""
    if cell == "gru":
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        # r and z in two calls, not one σ over [r, z]: a vectorised kernel rounds its tail elements
        # differently, and the snnTorch / Norse adapters must stay bit-identical to their history
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, c, (r, z, n)
    if cell == "rnn":
        f = torch.tanh(gi + gh)
        return f, c, (f,)
    if cell == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        si, sf, tg, so = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_new = sf * c + si * tg
        tc = torch.tanh(c_new)
        return so * tc, c_new, (si, sf, tg, so, tc)
    raise ValueError(f"unknown cell {cell!r}; known: {', '.join(CELLS)}")


def candidate_vjp(cell: str, parts, gh, h, c, df, dc=None):
    """The vector–Jacobian product of :func:`candidate`: ``(dgi, dgh, dh, dc)`` for the output
    cotangents ``df`` (B, H) and, for lstm, ``dc`` (B, H) (the gradient into ``c'``), from the
    ``parts`` :func:`candidate_parts` returned and the inputs ``gh``, ``h``, ``c`` of that call.

    Written out by hand for the sparse training path (:mod:`.sparse`), where autograd's per-node
    overhead on T small steps would cost as much as the arithmetic; a test checks it against
    ``torch.autograd.grad`` of :func:`candidate` for every cell. ``dh`` is the direct dependence of
    ``f`` on ``h`` (gru: ``df ⊙ z``; None for rnn and lstm, which see ``h`` only through ``gh``),
    ``dc`` the gradient into the old cell state (lstm, else None). ``dgi`` and ``dgh`` are the same
    tensor for rnn and lstm (both drives enter as ``gi + gh``).

    gru: a_n = gi_n + r ⊙ gh_n, n = tanh(a_n); f = (1 − z) ⊙ n + z ⊙ h, so
    ∂f/∂z = h − n, ∂f/∂n = 1 − z, ∂f/∂h = z, ∂n/∂a_n = 1 − n², ∂a_n/∂r = gh_n, ∂a_n/∂gh_n = r,
    σ' = σ(1 − σ). lstm: c' = σ_f c + σ_i g, f = σ_o tanh(c'): the gradient into c' is
    ``dc + df ⊙ σ_o (1 − tanh² c')``. (``a − a⊙b`` is written ``addcmul(a, a, b, value=−1)``: one
    kernel and no Python-number operand, whose wrapping costs more than the arithmetic here.)
    """
    if cell == "gru":
        r, z, n = parts
        k = n.shape[-1]
        dn = torch.addcmul(df, df, z, value=-1)  # df ⊙ (1 − z)
        da_n = torch.addcmul(dn, dn * n, n, value=-1)  # ⊙ (1 − n²)
        d_rz = torch.cat([da_n * gh[..., 2 * k:], df * (h - n)], -1)
        rz = torch.cat([r, z], -1)
        d_rz = d_rz.mul_(torch.addcmul(rz, rz, rz, value=-1))  # ⊙ σ(1 − σ)
        return torch.cat([d_rz, da_n], -1), torch.cat([d_rz, da_n * r], -1), df * z, None
    if cell == "rnn":
        (y,) = parts
        da = torch.addcmul(df, df * y, y, value=-1)  # df ⊙ (1 − y²)
        return da, da, None, None
    if cell == "lstm":
        si, sf, tg, so, tc = parts
        dcn = df * so
        dcn = torch.addcmul(dcn, dcn * tc, tc, value=-1)  # df ⊙ σ_o (1 − tanh² c')
        if dc is not None:
            dcn = dcn + dc
        d_i, d_f = dcn * tg, dcn * c
        d_g, d_o = dcn * si, df * tc
        da = torch.cat([torch.addcmul(d_i, d_i, si, value=-1) * si, torch.addcmul(d_f, d_f, sf, value=-1) * sf,
                        torch.addcmul(d_g, d_g * tg, tg, value=-1), torch.addcmul(d_o, d_o, so, value=-1) * so], -1)
        return da, da, None, dcn * sf
    raise ValueError(f"unknown cell {cell!r}; known: {', '.join(CELLS)}")
