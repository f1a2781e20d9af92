"""Spiking layers (LIF / CubaLIF, imported from NIR): the node kind and its numpy arithmetic.

:class:`SpikingLayerNode` (IR kind ``spiking``, role ``layer``, no gate; docs/semantics.md §5) and
the numpy functions every numpy backend uses for it: :func:`spike_sum`, :func:`lif_step`,
:func:`spiking_readout`. They do the same arithmetic, in the same order, as Lava's floating-point
LIF (``lava.proc.lif.models.AbstractPyLifModelFloat``) and Dense models, so that the reference, the
dense simulator and Lava give bit-identical states for binary inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from surnn_neuro.ir.base import Node

#: Neuron models of a spiking layer (NIR ``LIF`` and ``CubaLIF``), docs/semantics.md §5.
SPIKING_NEURONS = ("lif", "cubalif")

#: Reset rules of a spiking layer, with θ = v_threshold − v_reset (docs/semantics.md §5). NIR itself
#: has one (``value``); the two others are snnTorch's, so that its networks run here as snnTorch
#: runs them (NIR cannot carry them: docs/nir.md §3).
RESETS = {
    "value": "v ← v_reset in the step it fires (NIR, Lava, Norse; snnTorch reset_mechanism='zero')",
    "subtract": "v ← v − θ in the step it fires, snnTorch's rule for a voltage left above θ "
                "(snnTorch 'subtract', reset_delay=False)",
    "subtract-delayed": "θ is subtracted from the next step's voltage (snnTorch's default: "
                        "'subtract', reset_delay=True)",
}

#: The largest dt/τ (``du``, ``dv``) a discretisation may have: above it the decay factor 1 − dt/τ
#: of forward Euler is negative, so a leaking state changes sign every step (and snnTorch clamps its
#: α, β to [0, 1], Lava's du, dv are fractions in [0, 1]). Imports refuse such layers (docs/nir.md).
MAX_DT_OVER_TAU = 1.0


class SpikingConstants(NamedTuple):
    """Per-neuron constants of the discrete-time update of a :class:`SpikingLayerNode` (all ``(H,)``
    float64 except the matrices). Every backend (reference, dense, Lava) uses these very arrays."""

    du: np.ndarray  # dt / tau_syn (1 for lif)
    dv: np.ndarray  # dt / tau_mem
    scale: np.ndarray  # ((dv · r) · du) · w_in, the input scaling into û
    w_eff: np.ndarray  # (H, V) scale[:, None] · weight
    w_rec_eff: np.ndarray  # (H, H) scale[:, None] · w_rec
    c: np.ndarray  # scale · bias, the constant drive into û
    beta: np.ndarray  # dv · (v_leak − v_reset), the constant drive into v̂
    theta: np.ndarray  # v_threshold − v_reset
    v0: np.ndarray  # v̂_{-1} = 0 − v_reset (the physical v starts at 0)


@dataclass(frozen=True, eq=False)
class SpikingLayerNode(Node):
    """A layer of LIF or CubaLIF neurons (NIR 1.0.8 ``LIF`` / ``CubaLIF``), forward Euler with step ``dt``.

    Continuous model (NIR): ``τ_syn İ = −I + w_in ⊙ S``, ``τ_mem v̇ = (v_leak − v) + r ⊙ I``, spike
    when ``v > v_threshold``, then ``v ← v_reset``; the input ``S_t = W x_t + b + W_rec z_{t−1}``.
    ``lif`` has no synaptic current (``I = S``): it is the same update with ``du = 1``, ``w_in = 1``.

    Discrete time, in the variables of Lava's ``lava.proc.lif`` LIF (``û = dv·r·I``,
    ``v̂ = v − v_reset``), with ``du = dt/τ_syn``, ``dv = dt/τ_mem``, ``s = ((dv·r)·du)·w_in``,
    ``û_{−1} = 0``, ``v̂_{−1} = −v_reset`` (so ``v_{−1} = 0``), ``z_{−1} = 0``; per step ``t``::

        a_t  = (s ⊙ W) x_t + (s ⊙ W_rec) z_{t−1} + s ⊙ b        synaptic input
        û_t  = û_{t−1} · (1 − du) + a_t                          current first (Lava order)
        v̂_t' = v̂_{t−1} · (1 − dv) + û_t + dv ⊙ (v_leak − v_reset)   then voltage, from û_t
        z_t  = v̂_t' > v_threshold − v_reset                       strict threshold
        v̂_t  = where(z_t, 0, v̂_t')                               reset (v = v_reset)

    ``reset`` (:data:`RESETS`, θ = v_threshold − v_reset) changes the last two lines, as snnTorch
    computes its resets: ``"subtract-delayed"`` (snnTorch's default): ``v̂_t' −= θ ⊙ z_{t−1}``, then
    the threshold, no reset after it; ``"subtract"`` (snnTorch's ``reset_delay=False``): with
    ``ρ_t = [v̂_{t−1} > θ]`` (a voltage still above θ after its last subtraction),
    ``v̂_t' −= θ ⊙ ρ_t``, the threshold, then ``v̂_t = v̂_t' − θ ⊙ (z_t − ρ_t)``: ``v̂ − θ`` where it
    fires, and a neuron left above θ needs ``θ`` more to fire at the next step.

    This is NIR's forward Euler ``I_t = I_{t−1} + du(−I_{t−1} + w_in S_t)``,
    ``v_t = v_{t−1} + dv(v_leak − v_{t−1} + r I_t)`` multiplied out (docs/semantics.md §5).
    Output: the binary spikes ``z_t``; the layer's events are its spikes, every neuron updates every step.

    Fields (H neurons, V inputs; every parameter a per-neuron vector):
    ``neuron``: ``"lif"`` or ``"cubalif"``; ``weight: (H, V)``, ``bias: (H,)`` (the input Affine's,
    plus the recurrent Affine's); ``tau_mem, r, v_leak, v_threshold: (H,)``; ``dt`` (s, > 0);
    ``tau_syn: (H,)`` (required for cubalif; lif: ``dt``, i.e. ``du = 1``); ``w_in: (H,)`` (default 1;
    lif: 1); ``v_reset: (H,)`` (default 0); ``w_rec: (H, H)`` (default: none, stored as zeros);
    ``reset`` (default ``"value"``, NIR's). Time constants in seconds (> 0), voltages and currents
    dimensionless.
    """

    kind: ClassVar[str] = "spiking"
    role: ClassVar[str] = "layer"
    gated: ClassVar[bool] = False

    neuron: str
    weight: np.ndarray
    bias: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    dt: float
    tau_syn: np.ndarray = None
    w_in: np.ndarray = None
    v_reset: np.ndarray = None
    w_rec: np.ndarray = None
    reset: str = "value"

    def __post_init__(self):
        super().__post_init__()
        self._choice("neuron", SPIKING_NEURONS)
        self._choice("reset", tuple(RESETS))
        w = self._float_array("weight", (None, None))
        h, v = w.shape
        if h < 1 or v < 1:
            self._fail("weight", f"expected shape (H, V) with H, V >= 1, got {w.shape}")
        dt = self._finite_float("dt")
        if dt <= 0:
            self._fail("dt", f"expected a time step > 0 (s), got {dt}")
        for f in ("bias", "r", "v_leak", "v_threshold"):
            self._float_array(f, (h,))
        self._positive_array("tau_mem", h)
        if self.neuron == "lif":
            if self.tau_syn is None:
                object.__setattr__(self, "tau_syn", np.full(h, dt))
            if not np.array_equal(np.asarray(self.tau_syn, dtype=np.float64), np.full(h, dt)):
                self._fail("tau_syn", "a lif neuron has no synaptic current: tau_syn must equal dt (du = 1)")
            if self.w_in is not None and not np.array_equal(np.asarray(self.w_in, dtype=np.float64), np.ones(h)):
                self._fail("w_in", "a lif neuron has no input weight: w_in must be 1")
        elif self.tau_syn is None:
            self._fail("tau_syn", "required for a cubalif neuron")
        self._positive_array("tau_syn", h)
        for f, default in (("w_in", 1.0), ("v_reset", 0.0)):
            if getattr(self, f) is None:
                object.__setattr__(self, f, np.full(h, default))
            self._float_array(f, (h,))
        if self.w_rec is None:
            object.__setattr__(self, "w_rec", np.zeros((h, h)))
        self._float_array("w_rec", (h, h))

    def _positive_array(self, field: str, h: int) -> np.ndarray:
        arr = self._float_array(field, (h,))
        if np.any(arr <= 0):
            self._fail(field, f"time constants must be > 0 (s), got min {arr.min()}")
        return arr

    @property
    def hidden_size(self) -> int:
        """H."""
        return int(self.weight.shape[0])

    @property
    def input_size(self) -> int:
        """V (the previous node's size)."""
        return int(self.weight.shape[1])

    @property
    def size(self) -> int:
        """Output size of the node (H)."""
        return self.hidden_size

    @property
    def recurrent(self) -> bool:
        """True if ``w_rec`` has a non-zero weight (zero weights are not synapses)."""
        return bool(np.any(self.w_rec != 0))

    def dt_over_tau(self) -> dict:
        """The largest ``dt/τ`` of each time constant: ``{"tau_mem": max dv, "tau_syn": max du}``
        (lif: ``tau_mem`` only, its ``du`` is 1 by construction). Stable while ≤ :data:`MAX_DT_OVER_TAU`."""
        out = {"tau_mem": float(np.max(self.dt / self.tau_mem))}
        if self.neuron == "cubalif":
            out["tau_syn"] = float(np.max(self.dt / self.tau_syn))
        return out

    def constants(self) -> SpikingConstants:
        """The discrete-time constants of the class docstring, computed in one fixed order (float64).

        >>> n = SpikingLayerNode("l", neuron="cubalif", weight=[[1.0]], bias=[0.5], tau_mem=[1e-3],
        ...                      r=[10.0], v_leak=[0.0], v_threshold=[1.0], dt=1e-4, tau_syn=[2e-4],
        ...                      w_in=[2.0])
        >>> k = n.constants()
        >>> float(k.du[0]), round(float(k.dv[0]), 12), round(float(k.scale[0]), 12), round(float(k.c[0]), 12)
        (0.5, 0.1, 1.0, 0.5)
        """
        du = self.dt / self.tau_syn
        dv = self.dt / self.tau_mem
        scale = dv * self.r * du * self.w_in
        return SpikingConstants(
            du=du,
            dv=dv,
            scale=scale,
            w_eff=scale[:, None] * self.weight,
            w_rec_eff=scale[:, None] * self.w_rec,
            c=scale * self.bias,
            beta=dv * (self.v_leak - self.v_reset),
            theta=self.v_threshold - self.v_reset,
            v0=0.0 - self.v_reset,
        )




def spike_sum(w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``Σ_{j ∈ idx} W[:, j]`` as Lava's binary Dense computes it: ``W[:, idx].sum(axis=1)``.

    ``idx`` ascending (what a boolean mask selects), so the gathered columns, their order and numpy's
    pairwise summation are the same as in ``PyDenseModelFloat`` (``weights[:, s_in].sum(axis=1)``).
    """
    return w[:, idx].sum(axis=1)


def lif_step(u: np.ndarray, v: np.ndarray, a_in: np.ndarray, decay_u, decay_v, beta, theta,
             reset: str = "value", z_prev=None) -> np.ndarray:
    """One step of Lava's LIF, in place: ``u = u·(1−du) + a``; ``v = v·(1−dv) + u + β``;
    ``z = v > θ``; ``v[z] = 0``. ``decay_u = 1 − du``, ``decay_v = 1 − dv``. Returns z (bool).

    ``reset`` (:data:`RESETS`, :class:`SpikingLayerNode`): ``"subtract-delayed"``: ``v −= θ·z_prev``
    before the threshold (``z_prev`` the previous step's spikes), then no reset; ``"subtract"``:
    ``ρ = v_prev > θ``, ``v −= θ·ρ``, the threshold, ``v −= θ·(z − ρ)``. The operations are snnTorch's,
    in its order (``(β·mem + syn) − reset·threshold``). Shapes broadcast: ``(H,)`` for one sample,
    ``(B, H)`` for a batch.
    """
    rho = v > theta if reset == "subtract" else None  # before the update: v is the previous step's
    u *= decay_u
    u += a_in
    v[...] = v * decay_v + u + beta
    if reset == "subtract-delayed":
        v -= theta * z_prev
    elif reset == "subtract":
        v -= theta * rho
    z = v > theta
    if reset == "value":
        v[z] = 0.0
    elif reset == "subtract":
        v -= theta * (z.astype(v.dtype) - rho)
    elif reset != "subtract-delayed":
        raise ValueError(f"unknown reset {reset!r}; known: {', '.join(RESETS)}")
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


__all__ = ["MAX_DT_OVER_TAU", "RESETS", "SPIKING_NEURONS", "SpikingConstants", "SpikingLayerNode", "lif_step",
           "spike_sum", "spiking_readout"]
