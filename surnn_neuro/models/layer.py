"""The selective-update layer: one cell, one gate, one loop that owns time.

    h_t = where(g_t, f(h_{t-1}, x_t), h_{t-1})                    (docs/semantics.md §1)

:func:`select` computes exactly that value, with the gradient of h + g ⊙ (f − h): the identity through
a closed gate and f − h into the gate.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from surnn_neuro.models.cells import GATE_BLOCKS, get_cell_step
from surnn_neuro.models.gates import Gate


def select(g: torch.Tensor, f: torch.Tensor, h: torch.Tensor, gd=None) -> torch.Tensor:
    """where(g, f, h) in value (a closed neuron is copied bit for bit, an open one takes f exactly);
    gradient as h + g ⊙ (f − h). ``g`` broadcasts against ``f`` and ``h``: (B, H), (1, H) or (B, 1).

    The gradient into the gate rides on ``gd = g − sg(g)``, which is exactly zero in value:
    ``out = where(g, f, h) + gd ⊙ sg(f − h)``. Callers with a whole schedule pass ``gd`` computed
    once for all steps (the cheapest form found: sugru trains within ~1.15× the dense gru's time).

    >>> g = torch.tensor([[1.0, 0.0]]); f = torch.tensor([[0.3, 0.7]]); h = torch.tensor([[0.1, 0.2]])
    >>> select(g, f, h).tolist()
    [[0.30000001192092896, 0.20000000298023224]]
    """
    out = torch.where(g > 0, f, h)
    if gd is None and g.requires_grad:
        gd = g - g.detach()
    if gd is not None:
        out = out + gd * (f.detach() - h.detach())
    return out


class SelectiveUpdateLayer(nn.Module):
    """A recurrent layer whose neurons update only where their gate is open.

    Parameters use the ``torch.nn.*Cell`` names and layout: ``weight_ih (G·H, V)``,
    ``weight_hh (G·H, H)``, ``bias_ih``, ``bias_hh`` with G = 3 (gru), 1 (rnn), 4 (lstm).
    ``recurrent_mask`` (optional, (G·H, H)) zeroes recurrent weights that must not exist (clockwork).

    forward(x: (T, B, V), h0=None, c0=None) -> (h_seq: (T, B, H), gates: (T, B, H)); h_{-1} = h0 or 0.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, gate: Gate, recurrent_mask=None):
        super().__init__()
        self.cell = cell
        self.step = get_cell_step(cell)
        G = GATE_BLOCKS[cell]
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)  # torch.nn.*Cell init
        self.weight_ih = nn.Parameter(torch.empty(G * hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(G * hidden_size, hidden_size).uniform_(-bound, bound))
        self.bias_ih = nn.Parameter(torch.empty(G * hidden_size).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.empty(G * hidden_size).uniform_(-bound, bound))
        if gate.hidden_size != hidden_size:
            raise ValueError(f"gate size {gate.hidden_size} != hidden_size {hidden_size}")
        self.gate = gate
        if recurrent_mask is not None:
            self.register_buffer("recurrent_mask", recurrent_mask.float())
            with torch.no_grad():
                self.weight_hh.mul_(self.recurrent_mask)
        else:
            self.recurrent_mask = None

    def effective_weight_hh(self) -> torch.Tensor:
        """W_hh with the structural zeros applied (what the event graph stores)."""
        if self.recurrent_mask is None:
            return self.weight_hh
        return self.weight_hh * self.recurrent_mask

    def forward(self, x: torch.Tensor, h0=None, c0=None, return_cell: bool = False):
        T, B, _ = x.shape
        gi = torch.nn.functional.linear(x, self.weight_ih, self.bias_ih)  # (T, B, G·H) in one matmul
        w_hh = self.effective_weight_hh()
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0
        c = None
        if self.cell == "lstm":
            c = x.new_zeros(B, self.hidden_size) if c0 is None else c0
        gate = self.gate
        if gate.input_independent:
            mask = gate.schedule(T, device=x.device, dtype=x.dtype)  # (T, H), shared by the batch
            gx, state = None, None
        else:
            mask = None
            gx = gate.input_projection(x)
            state = gate.init_state(B, x.device, x.dtype)
        # unbind, not gi[t]: the backward of an index op materialises a gradient of the whole
        # (T, B, G·H) tensor at every step (O(T²) memory traffic); unbind's backward stacks once
        gi_t = gi.unbind(0)
        mask_t = mask.unsqueeze(1).unbind(0) if mask is not None else None
        # zero-valued, but carries the gate's gradient: computed once for the whole schedule
        gd_t = (mask - mask.detach()).unsqueeze(1).unbind(0) if mask is not None and mask.requires_grad else None
        gx_t = gx.unbind(0) if gx is not None else None
        hs, gs, cs = [], [], []
        for t in range(T):
            if mask_t is not None:
                g = mask_t[t]
            else:
                g = gate.decide(t, h, None if gx_t is None else gx_t[t], state)
            f, c_f = self.step(gi_t[t], h, c, w_hh, self.bias_hh)
            gd = gd_t[t] if gd_t is not None else (g - g.detach() if g.requires_grad else None)
            h_new = select(g, f, h, gd)
            if c is not None:
                c = select(g, c_f, c, gd)
                cs.append(c)
            if mask is None:
                state = gate.after_update(h_new, g, state)
            h = h_new
            hs.append(h)
            if mask_t is None:
                gs.append(g)
        h_seq = torch.stack(hs)
        if mask is not None:  # the schedule itself: no per-step stacking in forward or backward
            gates = mask.unsqueeze(1).expand(T, B, self.hidden_size)
        else:
            gates = torch.stack(gs).expand(T, B, self.hidden_size)
        if return_cell:
            return h_seq, gates, (torch.stack(cs) if cs else None)
        return h_seq, gates
