"""The selective-update rule in torch: the one implementation shared by the trainable layer and the
snnTorch / Norse adapters (docs/semantics.md §1, §3; numpy twin: ``ir.cells.su_update``).

    f, c'  = cell(S_in, S_rec, h, c)             S_in = W_ih x_t + b_ih, S_rec = W_hh h + b_hh
    h_t    = where(g, f, h)   (c likewise)       exact copy where closed, exact f where open
    Δ      = h_t − h                             the delta events (0 exactly where g = 0)
    S_rec ← S_rec + W_hh Δ                       event form only: acts from step t + 1

Two forms of the same rule, chosen by the state: **dense** (``SUState.rec`` is None) recomputes
``S_rec = W_hh h + b_hh`` every step, which is what training differentiates; **event** (``rec`` a
tensor) keeps ``S_rec`` as a sigma accumulator fed by the delta events, which is what the spiking
networks compute (equal up to float rounding, docs/semantics.md §3).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F

from surnn_neuro.models.functional.cells import candidate


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


class SUParameters(NamedTuple):
    """Parameters of selective-update neurons.

    Parameters:
        cell (str): candidate kind, "gru", "rnn" or "lstm" (torch.nn.*Cell gate order)
        weight_hh (torch.Tensor): recurrent weights W_hh, (G·H, H)
        bias_hh (torch.Tensor): recurrent bias b_hh, (G·H,)
    """

    cell: str
    weight_hh: torch.Tensor
    bias_hh: torch.Tensor


class SUState(NamedTuple):
    """State of selective-update neurons.

    Parameters:
        h (torch.Tensor): state h_{t-1}, (B, H)
        c (torch.Tensor): LSTM cell c_{t-1}, (B, H); None for gru and rnn
        rec (torch.Tensor): event form: the recurrent sigma accumulator W_hh h_{t-1} + b_hh,
            (B, G·H); None in the dense form
    """

    h: torch.Tensor
    c: Optional[torch.Tensor]
    rec: Optional[torch.Tensor]


def su_initial_state(batch: int, p: SUParameters, like: torch.Tensor, events: bool = True,
                     h0: Optional[torch.Tensor] = None, c0: Optional[torch.Tensor] = None) -> SUState:
    """``h = h0 or 0``, ``c = c0 or 0`` (LSTM, else None), and in the event form ``rec = W_hh·0 + b_hh``
    (dtype and device of ``like``; ``h0`` is not supported in the event form)."""
    hidden = p.weight_hh.shape[1]
    h = like.new_zeros(batch, hidden) if h0 is None else h0
    c = None
    if p.cell == "lstm":
        c = like.new_zeros(batch, hidden) if c0 is None else c0
    if not events:
        return SUState(h=h, c=c, rec=None)
    if h0 is not None:
        raise ValueError("su_initial_state: the event form starts from h = 0")
    return SUState(h=h, c=c, rec=p.bias_hh.to(like.dtype).expand(batch, -1))


def su_step(
    input_tensor: torch.Tensor, gate: torch.Tensor, state: SUState, p: SUParameters, gd=None
) -> Tuple[Optional[torch.Tensor], SUState]:
    r"""One step of selective-update neurons; returns their delta events and the new state.

    .. math::
        \begin{align*}
            f, c' &= \text{cell}(S_\text{in}, S_\text{rec}, h, c) \\
            h_t &= \text{where}(g, f, h), \quad c_t = \text{where}(g, c', c) \\
            \Delta &= h_t - h \quad (0 \text{ exactly where } g = 0) \\
            S_\text{rec} &\leftarrow S_\text{rec} + W_{hh} \Delta \quad (\text{used from step } t + 1)
        \end{align*}

    Parameters:
        input_tensor (torch.Tensor): input sigma ``S_in = W_ih x_t + b_ih``, (B, G·H)
        gate (torch.Tensor): gate spikes in {0, 1}, (B, H), (1, H) or (B, 1)
        state (SUState): state at t − 1 (``rec`` None: the dense form, see the module doc)
        p (SUParameters): cell kind and recurrent weights
        gd: the zero-valued gate gradient carrier ``g − sg(g)`` if precomputed (:func:`select`)

    Returns ``(Δ, state)``; ``Δ`` is None in the dense form (nothing consumes it there). Gradient:
    identity through a closed gate, ``f − h`` into the gate.
    """
    dense = state.rec is None
    gh = F.linear(state.h, p.weight_hh, p.bias_hh) if dense else state.rec
    f, c_f = candidate(p.cell, input_tensor, gh, state.h, state.c)
    if gd is None and gate.requires_grad:
        gd = gate - gate.detach()
    h_new = select(gate, f, state.h, gd)
    c_new = select(gate, c_f, state.c, gd) if state.c is not None else None
    if dense:
        return None, SUState(h=h_new, c=c_new, rec=None)
    delta = h_new - state.h
    return delta, SUState(h=h_new, c=c_new, rec=state.rec + F.linear(delta, p.weight_hh))
