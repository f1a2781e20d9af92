"""The one loop that owns time: a selective-update layer over a sequence (time-first).

    for t in 0 … T−1:
        g_t, gd, gate_state = gate.fire(t, gate_drive_t, gate_state, state)     the gate's decision
        Δ_t, state          = su_step(drive_t, g_t, state, p, gd)              the update rule
        gate_state          = gate.receive(Δ_t, g_t, state, gate_state)        its own events

Used by the trainable layer (dense form) and by the snnTorch and Norse adapters (event form): what
differs between them is only the gate object (its spike nonlinearity) and how the per-step drives
were formed. A gate object provides ``begin(n_steps, batch, like) -> gate_state``, ``fire`` and
``receive`` as above; ``gd`` is the precomputed zero-valued gate-gradient carrier or None.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import torch

from surnn_neuro.models.functional.update import SUParameters, SUState, su_step


class LoopResult(NamedTuple):
    """Per-step records of :func:`su_loop` (lists of T tensors) and the final states.

    Parameters:
        h (list): h_t after each step, (B, H)
        c (list): LSTM c_t after each step (empty for gru, rnn)
        delta (list): delta events of each step, (B, H) (empty in the dense form)
        gate (list): the gate spikes of each step, (B, H), (1, H) or (B, 1) as the gate gives them
        state (SUState): the final neuron state
        gate_state: the gate's final state
    """

    h: list
    c: list
    delta: list
    gate: list
    state: SUState
    gate_state: object


def su_loop(drive: Sequence[torch.Tensor], p: SUParameters, gate, state: SUState,
            gate_drive: Optional[Sequence[torch.Tensor]] = None, gate_state=None) -> LoopResult:
    """Run one layer over ``len(drive)`` steps. ``drive[t]``: the input sigma ``W_ih x_t + b_ih``
    (B, G·H); ``gate_drive[t]``: the gate's input drive (e.g. ``W_in x_t + bias``) or None;
    ``gate_state``: the gate's state at t = −1 if the caller already made it (else ``gate.begin``)."""
    n_steps = len(drive)
    batch = state.h.shape[0]
    gstate = gate.begin(n_steps, batch, state.h) if gate_state is None else gate_state
    hs, cs, ds, gs = [], [], [], []
    for t in range(n_steps):
        g, gd, gstate = gate.fire(t, None if gate_drive is None else gate_drive[t], gstate, state)
        delta, state = su_step(drive[t], g, state, p, gd)
        gstate = gate.receive(delta, g, state, gstate)
        hs.append(state.h)
        if state.c is not None:
            cs.append(state.c)
        if delta is not None:
            ds.append(delta)
        gs.append(g)
    return LoopResult(h=hs, c=cs, delta=ds, gate=gs, state=state, gate_state=gstate)
