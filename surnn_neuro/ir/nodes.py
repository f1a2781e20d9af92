"""Node kinds of the event graph: one frozen dataclass per kind, one table (``NODE_KINDS``).

Every node validates in ``__post_init__`` and raises ``ValueError("<NodeKind> '<name>': field
<field>: <problem>")``. Array fields are coerced to fresh, read-only numpy arrays (float64 for
weights, bool for masks), so a node never aliases the caller's buffers and cannot be mutated after
validation.

Roles (class attribute ``role``) tell the graph how a kind may be wired (docs/semantics.md §2):

- ``"input"``   the single source, ``x_t ∈ R^V``;
- ``"layer"``   a selective-update layer ``h_t = where(g_t, cell(h_{t-1}, x_t), h_{t-1})``;
- ``"gate"``    the gate ``g_t ∈ {0,1}^H`` of exactly one layer (no data edges);
- ``"readout"`` the single sink, ``y = W_o h + b_o``.

A layer kind with class attribute ``gated = False`` (:class:`SpikingLayerNode`, LIF / CubaLIF layers
imported from NIR, docs/nir.md) takes no gate: its "gate spikes" are its output spikes.

Adding a kind (e.g. the LIF / CubaLIF layers a NIR import will need): write the dataclass with its
``kind`` and ``role``, add it to ``NODE_KINDS``. HDF5 read/write (``surnn_neuro.ir.io``) is generic
over ``dataclasses.fields``: numpy array fields become datasets, scalar fields attributes.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from surnn_neuro.errors import UserError

#: Cell kind -> number of stacked gate blocks G in the torch.nn.*Cell weight layout.
CELL_GATES = {"gru": 3, "rnn": 1, "lstm": 4}
#: Input encodings (docs/semantics.md §3).
ENCODINGS = ("dense", "delta", "spikes")
#: Readout modes (docs/semantics.md §2).
READOUT_MODES = ("last", "mean", "all")
#: Neuron models of a spiking layer (NIR ``LIF`` and ``CubaLIF``), docs/semantics.md §5.
SPIKING_NEURONS = ("lif", "cubalif")


@dataclass(frozen=True, eq=False)
class Node:
    """Base of every node kind: a unique ``name`` (non-empty, no '/': it names an HDF5 group)."""

    kind: ClassVar[str] = ""
    role: ClassVar[str] = ""

    name: str

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: field name: must be a non-empty string without '/'"
            )

    # -- helpers for subclasses ---------------------------------------------------------------
    def _fail(self, field: str, problem: str):
        raise ValueError(f"{type(self).__name__} '{self.name}': field {field}: {problem}")

    def _float_array(self, field: str, shape: tuple) -> np.ndarray:
        """Coerce ``field`` to a read-only float64 array; ``shape`` entries None are free."""
        raw = getattr(self, field)
        if isinstance(raw, (str, bytes)) or raw is None:
            self._fail(field, f"expected a float array, got {type(raw).__name__}")
        try:
            arr = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError) as e:
            self._fail(field, f"expected a float array ({e})")
        self._check_shape(field, arr, shape)
        if not np.all(np.isfinite(arr)):
            self._fail(field, "contains non-finite values (nan or inf)")
        arr.flags.writeable = False
        object.__setattr__(self, field, arr)
        return arr

    def _bool_array(self, field: str, shape: tuple) -> np.ndarray:
        """Coerce ``field`` to a read-only bool array; accepts bool or numbers that are 0 or 1."""
        raw = np.asarray(getattr(self, field))
        if raw.dtype != np.bool_:
            if raw.dtype.kind not in "iuf" or not np.all((raw == 0) | (raw == 1)):
                self._fail(field, f"expected a boolean array (or 0/1), got dtype {raw.dtype}")
        arr = np.array(raw, dtype=np.bool_)
        self._check_shape(field, arr, shape)
        arr.flags.writeable = False
        object.__setattr__(self, field, arr)
        return arr

    def _check_shape(self, field: str, arr: np.ndarray, shape: tuple):
        dims = ["?" if s is None else str(s) for s in shape]
        want = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            self._fail(field, f"expected shape {want}, got {tuple(arr.shape)}")

    def _positive_int(self, field: str) -> int:
        raw = getattr(self, field)
        if isinstance(raw, (bool, np.bool_)) or not isinstance(raw, numbers.Integral) or raw < 1:
            self._fail(field, f"expected an integer >= 1, got {raw!r}")
        object.__setattr__(self, field, int(raw))
        return int(raw)

    def _finite_float(self, field: str) -> float:
        raw = getattr(self, field)
        if isinstance(raw, (bool, np.bool_)) or not isinstance(raw, numbers.Real) or not math.isfinite(raw):
            self._fail(field, f"expected a finite number, got {raw!r}")
        object.__setattr__(self, field, float(raw))
        return float(raw)

    def _choice(self, field: str, known) -> str:
        raw = getattr(self, field)
        if raw not in known:
            self._fail(field, f"unknown value {raw!r}; known: {', '.join(known)}")
        object.__setattr__(self, field, str(raw))
        return str(raw)


# ------------------------------------------------------------------------------------------------
# input, layer, readout
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class InputNode(Node):
    """The network input ``x_t ∈ R^V`` (``size`` = V) and how it is sent (docs/semantics.md §3).

    ``encoding``: ``"dense"`` and ``"spikes"`` send one event per non-zero entry of ``x_t``;
    ``"delta"`` one event per non-zero entry of ``x_t − x_{t−1}`` (``x_{−1} = 0``).
    """

    kind: ClassVar[str] = "input"
    role: ClassVar[str] = "input"

    size: int
    encoding: str = "dense"

    def __post_init__(self):
        super().__post_init__()
        self._positive_int("size")
        self._choice("encoding", ENCODINGS)


@dataclass(frozen=True, eq=False)
class LayerNode(Node):
    """A selective-update layer with a torch.nn.{GRU,RNN,LSTM}Cell candidate (docs/semantics.md §1).

    ``h_t = where(g_t, f(h_{t-1}, x_t), h_{t-1})`` with ``g_t`` from the layer's gate node.
    Weights in torch layout, G = 3 (gru: r, z, n), 1 (rnn), 4 (lstm: i, f, g, o):
    ``w_ih: (G·H, V)``, ``w_hh: (G·H, H)``, ``b_ih, b_hh: (G·H,)``, float64, dimensionless.
    """

    kind: ClassVar[str] = "layer"
    role: ClassVar[str] = "layer"

    cell: str
    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray

    def __post_init__(self):
        super().__post_init__()
        self._choice("cell", tuple(CELL_GATES))
        g = CELL_GATES[self.cell]
        w_hh = self._float_array("w_hh", (None, None))
        h = w_hh.shape[1]
        if h < 1 or w_hh.shape[0] != g * h:
            self._fail("w_hh", f"expected shape (G·H, H) with G={g} for {self.cell}, H >= 1, got {w_hh.shape}")
        w_ih = self._float_array("w_ih", (g * h, None))
        if w_ih.shape[1] < 1:
            self._fail("w_ih", f"expected at least one input column, got shape {w_ih.shape}")
        self._float_array("b_ih", (g * h,))
        self._float_array("b_hh", (g * h,))

    @property
    def gates_per_cell(self) -> int:
        """G: 3 (gru), 1 (rnn), 4 (lstm)."""
        return CELL_GATES[self.cell]

    @property
    def hidden_size(self) -> int:
        """H."""
        return int(self.w_hh.shape[1])

    @property
    def input_size(self) -> int:
        """V (the previous node's size)."""
        return int(self.w_ih.shape[1])

    @property
    def size(self) -> int:
        """Output size of the node (H)."""
        return self.hidden_size


@dataclass(frozen=True, eq=False)
class ReadoutNode(Node):
    """Linear readout ``y = W_o h + b_o``, ``weight: (O, H_L)``, ``bias: (O,)``.

    ``mode``: ``"last"`` (``y = W_o h_{T-1} + b_o``, ``(B, O)``), ``"mean"`` (mean over t,
    ``(B, O)``), ``"all"`` (every step, ``(B, T, O)``).
    """

    kind: ClassVar[str] = "readout"
    role: ClassVar[str] = "readout"

    weight: np.ndarray
    bias: np.ndarray
    mode: str = "last"

    def __post_init__(self):
        super().__post_init__()
        w = self._float_array("weight", (None, None))
        if w.shape[0] < 1 or w.shape[1] < 1:
            self._fail("weight", f"expected shape (O, H) with O, H >= 1, got {w.shape}")
        self._float_array("bias", (w.shape[0],))
        self._choice("mode", READOUT_MODES)

    @property
    def output_size(self) -> int:
        """O."""
        return int(self.weight.shape[0])

    @property
    def input_size(self) -> int:
        """H of the last layer."""
        return int(self.weight.shape[1])


# ------------------------------------------------------------------------------------------------
# gates: g_t ∈ {0,1}^H of one layer
# ------------------------------------------------------------------------------------------------


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
        """``(T, H)`` bool: ``a_{t,i} > 0`` for t = 0 … T−1 (every backend uses this function)."""
        t = np.arange(n_steps, dtype=np.float64)
        phase = self.omega[None, None, :] * t[:, None, None] + self.phi[None, :, :]  # (T, H, K)
        a = self.bias[None, :] + (self.alpha[None, :, :] * np.sin(phase)).sum(axis=2)
        return a > 0


@dataclass(frozen=True, eq=False)
class ThresholdGate(GateNode):
    """SA-RNN coordinator: ``g_{t,i} = [w_self,i h_{t-1,i} + (W_in x_t)_i + bias_i > 0]`` (strict).

    ``w_self: (H,)`` (the diagonal hidden weights), ``w_in: (H, V)`` on the layer's input,
    ``bias: (H,)``. Per sample, memoryless.
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


# ------------------------------------------------------------------------------------------------
# spiking layer (LIF / CubaLIF): imported from NIR, no gate
# ------------------------------------------------------------------------------------------------


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

    This is NIR's forward Euler ``I_t = I_{t−1} + du(−I_{t−1} + w_in S_t)``,
    ``v_t = v_{t−1} + dv(v_leak − v_{t−1} + r I_t)`` multiplied out (docs/semantics.md §5).
    Output: the binary spikes ``z_t``; the layer's events are its spikes, every neuron updates every step.

    Fields (H neurons, V inputs; every parameter a per-neuron vector):
    ``neuron``: ``"lif"`` or ``"cubalif"``; ``weight: (H, V)``, ``bias: (H,)`` (the input Affine's,
    plus the recurrent Affine's); ``tau_mem, r, v_leak, v_threshold: (H,)``; ``dt`` (s, > 0);
    ``tau_syn: (H,)`` (required for cubalif; lif: ``dt``, i.e. ``du = 1``); ``w_in: (H,)`` (default 1;
    lif: 1); ``v_reset: (H,)`` (default 0); ``w_rec: (H, H)`` (default: none, stored as zeros).
    Time constants in seconds (> 0), voltages and currents dimensionless.
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

    def __post_init__(self):
        super().__post_init__()
        self._choice("neuron", SPIKING_NEURONS)
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


#: The one table of node kinds, used by graph validation, HDF5 read and HDF5 write.
NODE_KINDS = {
    "input": InputNode,
    "layer": LayerNode,
    "oscillator": OscillatorGate,
    "threshold": ThresholdGate,
    "schedule": ScheduleGate,
    "global": GlobalGate,
    "always": AlwaysGate,
    "readout": ReadoutNode,
    "spiking": SpikingLayerNode,
}


def node_kind(kind: str) -> type:
    """The dataclass of ``kind``; ValueError listing the known kinds otherwise."""
    try:
        return NODE_KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown node kind {kind!r}; known: {', '.join(NODE_KINDS)}") from None
