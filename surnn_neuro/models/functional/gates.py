"""Gate kinds as pure torch functions over typed parameter and state tuples (docs/semantics.md §1).

What a gate *decides* lives here once, for the trainable gates (:mod:`surnn_neuro.models.gates`)
and for the snnTorch / Norse adapters alike; the spike nonlinearity itself (a surrogate-gradient
Heaviside, snnTorch's ``Leaky``, Norse's ``threshold``) is the caller's. Numpy twins: the gate
nodes of :mod:`surnn_neuro.ir.gates`.

========== ========================================== ===========================================
kind       drive (spike where drive > 0)              state
========== ========================================== ===========================================
oscillator ``b_i + Σ_k α_ik sin(ω_k t + φ_ik)``       none (input-independent, float64)
threshold  ``w_self ⊙ h_{t−1} + W_in x_t + bias``     event form: ``S_self = Σ w_self ⊙ Δ``
global     ``ũ_t − ½``, one bit per sample            ``(ũ, Δũ, S = w·h)`` (:class:`SkipState`)
schedule   a fixed mask (:func:`schedule_train`)      none
========== ========================================== ===========================================
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch

from surnn_neuro.errors import UserError


class OscillatorParameters(NamedTuple):
    """suRNN oscillator gate: ``a_{t,i} = bias_i + Σ_k alpha_{ik} sin(omega_k t + phi_{ik})``.

    Parameters:
        bias (torch.Tensor): (H,)
        alpha (torch.Tensor): amplitudes, (H, K)
        phi (torch.Tensor): phases in rad, (H, K)
        omega (torch.Tensor): angular frequencies in rad per step, (K,)
    """

    bias: torch.Tensor
    alpha: torch.Tensor
    phi: torch.Tensor
    omega: torch.Tensor


def oscillation(t: torch.Tensor, alpha: torch.Tensor, phi: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """``Σ_k α_ik sin(ω_k t + φ_ik)`` at the steps ``t: (T,)``: (T, H), in the dtype torch promotes to."""
    phase = t[:, None, None] * omega[None, None, :] + phi[None]  # (T, H, K)
    return (alpha[None] * torch.sin(phase)).sum(-1)


def oscillator_drive(n_steps: int, p: OscillatorParameters, dtype=torch.float64, device=None) -> torch.Tensor:
    """``a: (T, H)`` for t = 0 … T−1. Float64 by default: a float32 ``sin`` could flip a gate whose
    drive is within 1e-7 of zero, and then backends would disagree on a spike."""
    t = torch.arange(n_steps, device=device if device is not None else p.bias.device, dtype=dtype)
    return p.bias + oscillation(t, p.alpha, p.phi, p.omega)


def schedule_train(mask: torch.Tensor, n_steps: int, periodic: bool, name: str = "schedule") -> torch.Tensor:
    """``mask[t mod P]`` (periodic) or ``mask[t]`` (``T ≤ P``, else :class:`UserError`): (T, H)."""
    p = mask.shape[0]
    if periodic:
        return mask[torch.arange(n_steps, device=mask.device) % p]
    if n_steps > p:
        raise UserError(f"ScheduleGate '{name}': non-periodic mask covers {p} steps, input has {n_steps}")
    return mask[:n_steps]


class ThresholdState(NamedTuple):
    """State of threshold gate neurons in the event form.

    Parameters:
        s_self (torch.Tensor): sigma accumulator ``w_self ⊙ h_{t-1}``, (B, H)
    """

    s_self: torch.Tensor


def threshold_drive(s_self: torch.Tensor, input_drive: torch.Tensor) -> torch.Tensor:
    """SA-RNN coordinator drive ``w_self ⊙ h_{t−1} + (W_in x_t + bias)``: ``s_self`` is
    ``w_self ⊙ h_{t−1}`` (dense form) or the event accumulator, ``input_drive`` (B, H)."""
    return s_self + input_drive


def threshold_receive(delta: torch.Tensor, state: ThresholdState, w_self: torch.Tensor) -> ThresholdState:
    """The layer's own delta events: ``S_self ← S_self + w_self ⊙ Δ``."""
    return ThresholdState(s_self=state.s_self + w_self * delta)


class SkipParameters(NamedTuple):
    """Skip-RNN gate: one bit per sample, ``u_t = [ũ_t > ½]``.

    Parameters:
        weight (torch.Tensor): w in ``Δũ = σ(w·h_t + b)``, (H,)
        bias (torch.Tensor): b, scalar
        init_prob (float): ũ_0
    """

    weight: torch.Tensor
    bias: torch.Tensor
    init_prob: float = 1.0


class SkipState(NamedTuple):
    """State of a Skip-RNN gate, each (B, 1).

    Parameters:
        u_tilde (torch.Tensor): update probability ũ_t
        du (torch.Tensor): increment Δũ (from the last update; σ(b) before the first)
        s (torch.Tensor): event form: the sigma accumulator ``w·h``; None in the dense form
    """

    u_tilde: torch.Tensor
    du: torch.Tensor
    s: Optional[torch.Tensor]


def skip_initial_state(batch: int, p: SkipParameters, like: torch.Tensor, events: bool = True) -> SkipState:
    """``ũ_0 = init_prob``, ``w·h_{-1} = 0``, ``Δũ = σ(b)``."""
    s = like.new_zeros(batch, 1)
    return SkipState(u_tilde=torch.full_like(s, p.init_prob), du=torch.sigmoid(s + p.bias), s=s if events else None)


def skip_update(w_dot_h: torch.Tensor, u: torch.Tensor, state: SkipState, p: SkipParameters) -> SkipState:
    """After step t with bit ``u`` (B, 1) and ``w·h_t`` (B, 1): ``Δũ = σ(w·h_t + b)`` where it
    updated (else kept); ``ũ_{t+1} = u Δũ + (1 − u)(ũ + min(Δũ, 1 − ũ))``."""
    du = u * torch.sigmoid(w_dot_h + p.bias) + (1 - u) * state.du
    u_tilde = u * du + (1 - u) * (state.u_tilde + torch.minimum(du, 1 - state.u_tilde))
    return SkipState(u_tilde=u_tilde, du=du, s=state.s)


def skip_receive(delta: torch.Tensor, u: torch.Tensor, state: SkipState, p: SkipParameters) -> SkipState:
    """Event form: ``S ← S + w·Δ``, then :func:`skip_update` with ``w·h_t = S``."""
    s = state.s + delta @ p.weight[:, None]
    return skip_update(s, u, state._replace(s=s), p)
