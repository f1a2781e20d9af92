"""Gate node kinds: ``g_t ∈ {0,1}^H`` of one layer, each with its own meaning.

One frozen dataclass per kind (docs/semantics.md §1). Besides its decision rule, every kind
declares what it adds to its layer, so that counting, the simulators, the Lava network, the
Loihi 2 resource estimate and the fixed-point plan read one definition instead of testing kinds:

- :meth:`GateNode.synapses`: its extra synapses (:class:`GateSynapse`), fed by the layer's input
  events (``source="input"``) or by the layer's own delta events (``source="self"``);
- :attr:`GateNode.hardware_neurons`: neurons it needs on a neuromorphic core (a spike generator
  for input-independent kinds needs none);
- :meth:`GateNode.fanout_in`, :meth:`GateNode.fanout_rec`, :meth:`GateNode.dense_macs`: its share of
  the synaptic ops and of the dense-equivalent MACs (derived from its synapses);
- :meth:`GateNode.flops`: its SA-RNN FLOPs per step and sample.

Adding a gate kind: docs/architecture.md ("A new gate kind").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.ir.base import Node


def fanout(w: np.ndarray) -> np.ndarray:
    """``fanout(W, j) = nnz(W[:, j])`` for every column j: ``(n_cols,)`` int64 (zero weights are not
    synapses, as in NeuroBench)."""
    return np.count_nonzero(np.asarray(w), axis=0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class GateSynapse:
    """One extra synapse (matrix) of a gate.

    ``role``: its name in the fixed-point plan and the Lava network (``in``, ``self``, ``w``);
    ``source``: ``"input"`` (the layer's input events) or ``"self"`` (the layer's delta events, used
    from the next step); ``port``: the gate process's input port on the Lava target; ``field``: the
    node field it is stored in, with ``layout`` ``"matrix"`` (as is), ``"diagonal"`` (a vector
    ``w`` standing for ``diag(w)``: H entries, not H²) or ``"row"`` (a vector standing for one row);
    ``matrix``: the dense ``(rows, cols)`` form; ``symbol``: its name in the docs (``W_in``, ...).
    """

    role: str
    source: str
    port: str
    field: str
    layout: str
    matrix: np.ndarray
    symbol: str = ""

    @property
    def entries(self) -> int:
        """Stored weights: the matrix size, H for a diagonal."""
        return int(self.matrix.shape[0]) if self.layout == "diagonal" else int(self.matrix.size)

    def field_value(self, dense: np.ndarray) -> np.ndarray:
        """The node field holding ``dense`` (a matrix of this synapse's shape), inverse of ``matrix``."""
        if self.layout == "diagonal":
            return np.diag(dense).copy()
        if self.layout == "row":
            return np.asarray(dense)[0].copy()
        return np.asarray(dense)


@dataclass(frozen=True, eq=False)
class GateNode(Node):
    """Base of gate kinds. ``input_independent`` gates have a precomputable ``spike_train(T)``."""

    role: ClassVar[str] = "gate"
    input_independent: ClassVar[bool] = False

    # Every kind provides ``size`` (H): a property, or a field (AlwaysGate). Not declared here,
    # because a base-class property would shadow the dataclass field of AlwaysGate.

    def spike_train(self, n_steps: int) -> np.ndarray:
        """``(T, H)`` bool gate spikes, shared over the batch (input-independent kinds only)."""
        raise ValueError(f"{type(self).__name__} '{self.name}': gate depends on the input; no spike train")

    # -- meaning: what the gate adds to its layer ------------------------------------------------
    def synapses(self) -> tuple:
        """The gate's extra synapses (:class:`GateSynapse`), input synapses first. None by default."""
        return ()

    @property
    def hardware_neurons(self) -> int:
        """Neurons on a neuromorphic core (assumed: input-independent kinds are spike generators on
        an embedded core, 0 neurons)."""
        return 0

    def fanout_in(self, n_inputs: int) -> np.ndarray:
        """Extra fan-out of each of the layer's input events, ``(V,)`` int64."""
        out = np.zeros(n_inputs, dtype=np.int64)
        for s in self.synapses():
            if s.source == "input":
                out = out + fanout(s.matrix)
        return out

    def fanout_rec(self) -> np.ndarray:
        """Extra fan-out of each of the layer's own delta events, ``(H,)`` int64."""
        out = np.zeros(self.size, dtype=np.int64)
        for s in self.synapses():
            if s.source == "self":
                out = out + fanout(s.matrix)
        return out

    def dense_macs(self, n_inputs: int) -> int:
        """MACs of the gate network per dense step and sample: one per stored weight."""
        return sum(s.entries for s in self.synapses())

    def flops(self, n_inputs: int, updated: np.ndarray) -> np.ndarray:
        """SA-RNN FLOPs of the gate (multiplications) per step and sample, ``updated: (B, T)`` the
        number of updated neurons. None by default."""
        return np.zeros_like(updated)

    def sigma_bound(self, input_scale: float) -> float:
        """Largest |gate drive| for inputs up to ``input_scale`` (the first layer's input range, 1
        after it) and states |h| ≤ 1: Σ over the input synapses of ``Σ_j |W_ij|·input_scale``, the
        bias, then Σ over the self synapses of ``Σ_j |W_ij|``, the largest row (fixed point)."""
        bound = 0.0
        for s in self.synapses():
            if s.source == "input":
                bound = bound + np.abs(s.matrix).sum(axis=1) * input_scale
        bound = bound + np.abs(self.bias)
        for s in self.synapses():
            if s.source == "self":
                bound = bound + np.abs(s.matrix).sum(axis=1)
        return float(np.max(bound))


@dataclass(frozen=True, eq=False)
class OscillatorGate(GateNode):
    """suRNN temporal gate: ``g_{t,i} = [b_i + Σ_k α_{ik} sin(ω_k t + φ_{ik}) > 0]`` (strict).

    ``bias: (H,)``, ``alpha: (H, K)``, ``phi: (H, K)`` (rad), ``omega: (K,)`` (rad per step),
    ``t = 0 … T−1`` the integer step. Input-independent, shared over the batch.
    """

    kind: ClassVar[str] = "oscillator"
    input_independent: ClassVar[bool] = True

    bias: np.ndarray
    alpha: np.ndarray
    phi: np.ndarray
    omega: np.ndarray

    def __post_init__(self):
        super().__post_init__()
        b = self._float_array("bias", (None,))
        if b.shape[0] < 1:
            self._fail("bias", "expected at least one neuron")
        a = self._float_array("alpha", (b.shape[0], None))
        self._float_array("phi", a.shape)
        self._float_array("omega", (a.shape[1],))

    @property
    def size(self) -> int:
        return int(self.bias.shape[0])

    def spike_train(self, n_steps: int) -> np.ndarray:
        """``(T, H)`` bool: ``a_{t,i} > 0`` for t = 0 … T−1 (every numpy backend uses this function)."""
        t = np.arange(n_steps, dtype=np.float64)
        phase = self.omega[None, None, :] * t[:, None, None] + self.phi[None, :, :]  # (T, H, K)
        a = self.bias[None, :] + (self.alpha[None, :, :] * np.sin(phase)).sum(axis=2)
        return a > 0

    def flops(self, n_inputs, updated):
        return np.full_like(updated, self.size * self.omega.shape[0])  # H·K every step


@dataclass(frozen=True, eq=False)
class ThresholdGate(GateNode):
    """SA-RNN coordinator: ``g_{t,i} = [w_self,i h_{t-1,i} + (W_in x_t)_i + bias_i > 0]`` (strict).

    ``w_self: (H,)`` (the diagonal hidden weights), ``w_in: (H, V)`` on the layer's input,
    ``bias: (H,)``. Per sample, memoryless; one hardware neuron per unit.
    """

    kind: ClassVar[str] = "threshold"

    w_self: np.ndarray
    w_in: np.ndarray
    bias: np.ndarray

    def __post_init__(self):
        super().__post_init__()
        w = self._float_array("w_self", (None,))
        if w.shape[0] < 1:
            self._fail("w_self", "expected at least one neuron")
        w_in = self._float_array("w_in", (w.shape[0], None))
        if w_in.shape[1] < 1:
            self._fail("w_in", f"expected at least one input column, got shape {w_in.shape}")
        self._float_array("bias", (w.shape[0],))

    @property
    def size(self) -> int:
        return int(self.w_self.shape[0])

    @property
    def input_size(self) -> int:
        """V: columns of ``w_in`` (must equal the layer's input size)."""
        return int(self.w_in.shape[1])

    def synapses(self):
        return (GateSynapse("in", "input", "a_in", "w_in", "matrix", self.w_in, "W_in"),
                GateSynapse("self", "self", "self_in", "w_self", "diagonal", np.diag(self.w_self), "w_self"))

    @property
    def hardware_neurons(self) -> int:
        return self.size

    def flops(self, n_inputs, updated):
        return np.full_like(updated, self.size * (n_inputs + 1))  # H·(V+1) every step


@dataclass(frozen=True, eq=False)
class ScheduleGate(GateNode):
    """A fixed mask: ``g_{t,i} = mask[t mod P, i]`` if ``periodic`` else ``mask[t, i]`` (t < P).

    ``mask: (P, H)`` bool. Clockwork, random-update and (at inference) Phased LSTM gates.
    """

    kind: ClassVar[str] = "schedule"
    input_independent: ClassVar[bool] = True

    mask: np.ndarray
    periodic: bool = True

    def __post_init__(self):
        super().__post_init__()
        m = self._bool_array("mask", (None, None))
        if m.shape[0] < 1 or m.shape[1] < 1:
            self._fail("mask", f"expected shape (P, H) with P, H >= 1, got {m.shape}")
        if not isinstance(self.periodic, (bool, np.bool_)):
            self._fail("periodic", f"expected a bool, got {self.periodic!r}")
        object.__setattr__(self, "periodic", bool(self.periodic))

    @property
    def size(self) -> int:
        return int(self.mask.shape[1])

    @property
    def period(self) -> int:
        """P, the number of mask rows."""
        return int(self.mask.shape[0])

    def spike_train(self, n_steps: int) -> np.ndarray:
        """``(T, H)`` bool. A non-periodic mask shorter than T is a :class:`UserError`."""
        p = self.period
        if self.periodic:
            return self.mask[np.arange(n_steps) % p]
        if n_steps > p:
            raise UserError(
                f"ScheduleGate '{self.name}': non-periodic mask covers {p} steps, input has {n_steps}"
            )
        return self.mask[:n_steps].copy()


@dataclass(frozen=True, eq=False)
class GlobalGate(GateNode):
    """Skip-RNN gate: one bit per sample ``u_t = [ũ_t > 0.5]`` for all H neurons.

    ``ũ_0 = init_prob``; after an update ``Δũ = σ(w·h_t + b)``;
    ``ũ_{t+1} = u_t Δũ + (1 − u_t)(ũ_t + min(Δũ, 1 − ũ_t))``. Before the first update
    ``Δũ = σ(w·h_{-1} + b) = σ(b)`` (``h_{-1} = 0``). ``weight: (H,)``, ``bias``, ``init_prob ∈ [0, 1]``.
    One hardware neuron.
    """

    kind: ClassVar[str] = "global"

    weight: np.ndarray
    bias: float
    init_prob: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        w = self._float_array("weight", (None,))
        if w.shape[0] < 1:
            self._fail("weight", "expected at least one neuron")
        self._finite_float("bias")
        p = self._finite_float("init_prob")
        if not 0.0 <= p <= 1.0:
            self._fail("init_prob", f"expected a probability in [0, 1], got {p}")

    @property
    def size(self) -> int:
        return int(self.weight.shape[0])

    def synapses(self):
        return (GateSynapse("w", "self", "a_in", "weight", "row", self.weight[None, :], "w"),)

    @property
    def hardware_neurons(self) -> int:
        return 1

    def flops(self, n_inputs, updated):
        return np.where(updated > 0, self.size, 0).astype(np.int64)  # w·h_t after each update


@dataclass(frozen=True, eq=False)
class AlwaysGate(GateNode):
    """Always open (``g = 1``): the dense baseline. ``size`` = H."""

    kind: ClassVar[str] = "always"
    input_independent: ClassVar[bool] = True

    size: int

    def __post_init__(self):
        super().__post_init__()
        self._positive_int("size")

    def spike_train(self, n_steps: int) -> np.ndarray:
        """``(T, H)`` all True."""
        return np.ones((n_steps, self.size), dtype=bool)


#: Gate kinds by name (part of :data:`surnn_neuro.ir.nodes.NODE_KINDS`).
GATE_KINDS = {cls.kind: cls for cls in (OscillatorGate, ThresholdGate, ScheduleGate, GlobalGate, AlwaysGate)}

__all__ = ["AlwaysGate", "GATE_KINDS", "GateNode", "GateSynapse", "GlobalGate", "OscillatorGate", "ScheduleGate",
           "ThresholdGate", "fanout"]
