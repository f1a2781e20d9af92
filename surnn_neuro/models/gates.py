"""Gates: the binary switch g_t ∈ {0,1}^H of each selective-update layer (docs/semantics.md §1).

Two families, each a base class implementing the loop protocol of
:func:`surnn_neuro.models.functional.su_loop` (``begin``, ``fire``, ``receive``) once:

- **input-independent** gates (:class:`Gate`: temporal, clockwork, phased, random, always) produce a
  whole (T, H) mask at once with :meth:`Gate.schedule`; it is shared by every sample of the batch
  and can be precomputed as a spike schedule;
- **state-dependent** gates (:class:`StateGate`: coordinator, skip) decide step by step from
  h_{t-1} and x_t (:meth:`StateGate.decide`) and may keep a state of their own
  (:meth:`StateGate.init_state`, :meth:`StateGate.after_update`).

The gate meaning itself (drives, state updates) is in :mod:`surnn_neuro.models.functional.gates`.

Every gate's forward value is exactly 0 or 1; what differs is its training gradient. ``kind`` names the
event-graph node the gate becomes (oscillator, threshold, schedule, global, always).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from surnn_neuro.models.functional.gates import (OscillatorParameters, SkipParameters, oscillation,
                                                 oscillator_drive, skip_initial_state, skip_update,
                                                 threshold_drive)
from surnn_neuro.ir import gates as ir
from surnn_neuro.models.surrogates import MultiGaussian, heaviside, round_ste


def _np(t: torch.Tensor):
    """A parameter as the float64 numpy array an IR node stores (exact: float32 widens)."""
    return t.detach().cpu().double().numpy()


class Gate(nn.Module):
    """Base class of every gate and of the input-independent family (module docstring)."""

    kind = "always"
    input_independent = True

    def __init__(self, hidden_size: int):
        super().__init__()
        if hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: hidden_size must be >= 1, got {hidden_size}")
        self.hidden_size = hidden_size

    def set_epoch(self, epoch: int) -> None:
        """Per-epoch schedules (the coordinator's slope annealing); no-op by default."""

    def schedule(self, T: int, device=None, dtype=torch.float32) -> torch.Tensor:
        """The (T, H) mask for steps t = 0..T-1."""
        raise NotImplementedError

    def input_projection(self, x: torch.Tensor):
        """Gate drive from the input for all steps at once, (T, B, H), or None."""
        return None

    def to_node(self, name: str, horizon: int) -> ir.GateNode:
        """The event-graph node of this gate (``horizon``: steps a non-periodic mask covers)."""
        raise ValueError(f"no event-graph node for gate {type(self).__name__}")

    # -- the loop protocol (models.functional.loop.su_loop) ----------------------------------------
    def begin(self, n_steps: int, batch: int, like: torch.Tensor):
        """The whole schedule, its per-step rows (1, H) and, if it carries a gradient, the
        zero-valued gradient carrier ``g − sg(g)`` of each step, computed once for all steps."""
        return self.start(self.schedule(n_steps, device=like.device, dtype=like.dtype))

    def start(self, mask: torch.Tensor):
        """The loop state of an already drawn (T, H) mask (shared by the batch): what :meth:`begin`
        returns, for a caller that looked at the mask first (the layer's sparse/dense choice)."""
        rows = mask.unsqueeze(1).unbind(0)
        gd = (mask - mask.detach()).unsqueeze(1).unbind(0) if mask.requires_grad else None
        return mask, rows, gd

    def fire(self, t: int, gx_t, state, su_state):
        mask, rows, gd = state
        return rows[t], (gd[t] if gd is not None else None), state

    def receive(self, delta, g, su_state, state):
        return state

    def sequence(self, gates: list, state, n_steps: int, batch: int) -> torch.Tensor:
        """The (T, B, H) gates of a run: the schedule itself (no per-step stacking)."""
        return self.spikes(state[0], batch)

    def spikes(self, mask: torch.Tensor, batch: int) -> torch.Tensor:
        """The (T, B, H) gates of a (T, H) mask shared by ``batch`` samples (a view)."""
        return mask.unsqueeze(1).expand(mask.shape[0], batch, self.hidden_size)


class StateGate(Gate):
    """Base of the state-dependent family: a decision per step from ``h_{t−1}`` and ``x_t``."""

    input_independent = False

    def init_state(self, batch: int, device, dtype):
        return None

    def decide(self, t: int, h: torch.Tensor, gx_t, state) -> torch.Tensor:
        """Gate (B, H) or (B, 1) at step t from h_{t-1} (B, H) and the input drive."""
        raise NotImplementedError

    def after_update(self, h_new: torch.Tensor, g: torch.Tensor, state):
        return state

    def begin(self, n_steps, batch, like):
        return self.init_state(batch, like.device, like.dtype)

    def fire(self, t, gx_t, state, su_state):
        return self.decide(t, su_state.h, gx_t, state), None, state

    def receive(self, delta, g, su_state, state):
        return self.after_update(su_state.h, g, state)

    def sequence(self, gates, state, n_steps, batch):
        return torch.stack(gates).expand(n_steps, batch, self.hidden_size)


class DenseGate(Gate):
    """g ≡ 1: the dense baseline (every neuron updates every step)."""

    kind = "always"

    def schedule(self, T, device=None, dtype=torch.float32):
        return torch.ones(T, self.hidden_size, device=device, dtype=dtype)

    def to_node(self, name, horizon):
        return ir.AlwaysGate(name, size=self.hidden_size)

class TemporalGate(Gate):
    """suRNN oscillator gate: a_{t,i} = b_i + Σ_k α_{ik} sin(ω_k t + φ_{ik}); g = H(a) (strict).

    Time only, shared across the batch; H has a surrogate gradient (default multi-Gaussian). Init
    (reference/surnn_models.md §2.7, an assumption since the paper's is unknown): periods 2π/ω_k
    log-uniform in [2, period_max], φ ~ U(0, 2π), α = 1, and b_i chosen so that neuron i is open on a
    fraction ``duty`` of the steps t = 0..period_max-1. ω is frozen unless ``learn_omega`` (its
    gradient t·cos(ωt + φ) grows with t). ``learn_gate=False`` freezes b, α and φ as well: the
    schedule, and so the update rate, stays exactly the initial one (a fixed budget, where λ only
    pushes it down and λ = 0 lets it drift up).
    """

    kind = "oscillator"

    def __init__(self, hidden_size, harmonics=4, period_max=64, duty=0.3, learn_omega=False,
                 surrogate=None, learn_gate=True):
        super().__init__(hidden_size)
        if harmonics < 1:
            raise ValueError(f"TemporalGate: harmonics must be >= 1, got {harmonics}")
        if not 0.0 < duty <= 1.0:
            raise ValueError(f"TemporalGate: duty must be in (0, 1], got {duty}")
        if period_max < 2:
            raise ValueError(f"TemporalGate: period_max must be >= 2, got {period_max}")
        self.surrogate = surrogate if surrogate is not None else MultiGaussian()
        K, H = harmonics, hidden_size
        periods = torch.exp(torch.empty(K).uniform_(math.log(2.0), math.log(float(period_max))))
        omega = 2 * math.pi / periods
        self.omega = nn.Parameter(omega, requires_grad=learn_omega)
        self.alpha = nn.Parameter(torch.ones(H, K))
        self.phi = nn.Parameter(torch.empty(H, K).uniform_(0.0, 2 * math.pi))
        with torch.no_grad():
            t = torch.arange(int(period_max), dtype=torch.float32)
            osc = oscillation(t, self.alpha, self.phi, self.omega)  # (T, H)
            # open on a fraction `duty` of the steps: b = −(1 − duty)-quantile of the oscillation
            b = -torch.quantile(osc, 1.0 - duty, dim=0) if duty < 1.0 else osc.abs().max(0).values + 1
        self.bias = nn.Parameter(b.clone())
        if not learn_gate:
            for p in (self.alpha, self.phi, self.bias):
                p.requires_grad_(False)

    @property
    def p(self) -> OscillatorParameters:
        return OscillatorParameters(self.bias, self.alpha, self.phi, self.omega)

    def drive(self, T, device=None, dtype=torch.float32):
        """a: (T, H), the membrane drive of the oscillator neurons."""
        return oscillator_drive(T, self.p, dtype=dtype, device=device)

    def schedule(self, T, device=None, dtype=torch.float32):
        # the drive is evaluated in float64 so that every backend (numpy reference, Lava) takes the
        # same decisions: a float32 sin could flip a gate whose drive is within 1e-7 of zero
        return heaviside(self.drive(T, device, torch.float64), self.surrogate).to(dtype)

    def to_node(self, name, horizon):
        return ir.OscillatorGate(name, bias=_np(self.bias), alpha=_np(self.alpha), phi=_np(self.phi),
                                 omega=_np(self.omega))

class CoordinatorGate(StateGate):
    """SA-RNN coordinator: p = hardσ_s(w_ii h_{t-1,i} + (W_x x_t)_i + b_i), g = round(p) (STE).

    hardσ_s(x) = clamp((s·x + 1)/2, 0, 1); the slope s = min(5, 1 + 0.04·epoch) is annealed per epoch
    (fixed at 0.1 with ``anneal=False``, as in the authors' code). The forward decision is the strict
    threshold logit > 0 for every slope. The hidden-to-gate weights are stored as the vector w_ii, so
    they are diagonal by construction and stay so through training.
    """

    kind = "threshold"

    def __init__(self, input_size, hidden_size, anneal=True):
        super().__init__(hidden_size)
        bound = 1.0 / math.sqrt(input_size + hidden_size)  # nn.Linear(H + V, H) init, as in [SA-C]
        self.w_self = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        self.weight_x = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        self.anneal = bool(anneal)
        self.slope = 1.0 if anneal else 0.1

    def set_epoch(self, epoch):
        self.slope = min(5.0, 1.0 + 0.04 * epoch) if self.anneal else 0.1

    def input_projection(self, x):
        return torch.nn.functional.linear(x, self.weight_x, self.bias)

    def decide(self, t, h, gx_t, state):
        logit = threshold_drive(self.w_self * h, gx_t)
        p = torch.clamp((self.slope * logit + 1.0) / 2.0, 0.0, 1.0)
        return round_ste(p)

    def to_node(self, name, horizon):
        return ir.ThresholdGate(name, w_self=_np(self.w_self), w_in=_np(self.weight_x), bias=_np(self.bias))

class SkipGate(StateGate):
    """Skip RNN (Campos et al. 2018): one binary gate per sample for the whole state.

    u_t = round(ũ_t) (STE); after an update Δũ = σ(w·h_t + b), else Δũ is kept;
    ũ_{t+1} = u_t Δũ + (1 − u_t)(ũ_t + min(Δũ, 1 − ũ_t)); ũ_0 = 1, so step 0 always updates.
    b is initialised to 1 as in the original code.
    """

    kind = "global"

    def __init__(self, hidden_size):
        super().__init__(hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.tensor(1.0))

    @property
    def p(self) -> SkipParameters:
        return SkipParameters(self.weight, self.bias, 1.0)

    def init_state(self, batch, device, dtype):
        return skip_initial_state(batch, self.p, torch.empty(0, device=device, dtype=dtype), events=False)

    def decide(self, t, h, gx_t, state):
        return round_ste(state.u_tilde)

    def after_update(self, h_new, g, state):
        return skip_update(h_new @ self.weight[:, None], g, state, self.p)

    def to_node(self, name, horizon):
        return ir.GlobalGate(name, weight=_np(self.weight), bias=float(self.bias), init_prob=1.0)

class ClockworkGate(Gate):
    """Clockwork RNN (Koutník et al. 2014): H split into modules with fixed periods T_g.

    Module g updates when t mod T_g = 0. Recurrent weights run only from slower to faster modules
    (:meth:`recurrent_mask`).
    """

    kind = "schedule"

    def __init__(self, hidden_size, periods=(1, 2, 4, 8)):
        super().__init__(hidden_size)
        periods = tuple(int(p) for p in periods)
        if not periods or min(periods) < 1 or len(periods) > hidden_size:
            raise ValueError(f"ClockworkGate: periods must be 1..H positive integers, got {periods}")
        self.periods = periods
        module = torch.arange(hidden_size) * len(periods) // hidden_size
        self.register_buffer("neuron_period", torch.tensor(periods)[module], persistent=False)

    @property
    def period(self) -> int:
        """Length of one cycle of the mask: lcm of the module periods."""
        return math.lcm(*self.periods)

    def recurrent_mask(self, blocks: int = 1) -> torch.Tensor:
        """(blocks·H, H): 1 where the recurrent weight from j into i exists (T_j ≥ T_i)."""
        p = self.neuron_period
        m = (p[None, :] >= p[:, None]).float()
        return m.repeat(blocks, 1)

    def schedule(self, T, device=None, dtype=torch.float32):
        t = torch.arange(T, device=self.neuron_period.device)[:, None]
        return (t % self.neuron_period[None, :] == 0).to(device=device, dtype=dtype)

    def to_node(self, name, horizon):
        return ir.ScheduleGate(name, mask=self.schedule(self.period).bool().cpu().numpy(), periodic=True)

class PhasedGate(Gate):
    """Binary Phased-LSTM time gate (Neil et al. 2016), learned period τ_i, shift s_i, open ratio r_i.

    Phase φ_t = ((t − s) mod τ)/τ; the gate is open (g = 1) while φ_t < r. The original gate is soft
    (a trapezoid k_t with leak α); here the forward value is binary, to keep the exact copy of closed
    neurons, and k_t is the straight-through surrogate that carries the gradient to τ, s and r.
    Init: τ log-uniform in [2, period_max], s ~ U(0, τ), r = r_on.
    """

    kind = "schedule"

    def __init__(self, hidden_size, period_max=64, r_on=0.2, leak=1e-3):
        super().__init__(hidden_size)
        if not 0.0 < r_on < 1.0:
            raise ValueError(f"PhasedGate: r_on must be in (0, 1), got {r_on}")
        tau = torch.exp(torch.empty(hidden_size).uniform_(math.log(2.0), math.log(float(period_max))))
        self.log_tau = nn.Parameter(tau.log())
        self.shift = nn.Parameter(torch.rand(hidden_size) * tau)
        self.r_on = nn.Parameter(torch.full((hidden_size,), float(r_on)))
        self.leak = float(leak)

    def schedule(self, T, device=None, dtype=torch.float32):
        # float64 for the same reason as TemporalGate.schedule
        t = torch.arange(T, device=self.shift.device, dtype=torch.float64)
        tau = self.log_tau.double().exp()
        r = self.r_on.double().clamp(1e-3, 1.0)
        phi = torch.remainder(t[:, None] - self.shift.double(), tau) / tau
        hard = (phi < r).double()
        if torch.is_grad_enabled() and self.training:
            k = torch.where(phi < 0.5 * r, 2 * phi / r,
                            torch.where(phi < r, 2 - 2 * phi / r, self.leak * phi))
            hard = hard + (k - k.detach())
        return hard.to(device=device, dtype=dtype)

    def to_node(self, name, horizon):
        """The inference mask for ``horizon`` steps (real periods are not periodic in integer steps)."""
        was = self.training
        self.eval()
        mask = self.schedule(horizon).bool().cpu().numpy()
        self.train(was)
        return ir.ScheduleGate(name, mask=mask, periodic=False)

class RandomGate(Gate):
    """Random updates at a fixed rate (SA-RNN's baseline): a fresh Bernoulli(rate) mask per forward
    pass while training; at inference a fixed mask drawn once from ``seed`` and repeated with period
    ``period``, so that the converted spiking network is deterministic."""

    kind = "schedule"

    def __init__(self, hidden_size, rate=0.5, period=1000, seed=0):
        super().__init__(hidden_size)
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"RandomGate: rate must be in (0, 1], got {rate}")
        self.rate = float(rate)
        self.period = int(period)
        gen = torch.Generator().manual_seed(int(seed))
        self.register_buffer("mask", (torch.rand(self.period, hidden_size, generator=gen) < rate).float())

    def schedule(self, T, device=None, dtype=torch.float32):
        if self.training:
            return (torch.rand(T, self.hidden_size, device=self.mask.device) < self.rate).to(device=device, dtype=dtype)
        idx = torch.arange(T, device=self.mask.device) % self.period
        return self.mask[idx].to(device=device, dtype=dtype)

    def to_node(self, name, horizon):
        return ir.ScheduleGate(name, mask=self.mask.bool().cpu().numpy(), periodic=True)
