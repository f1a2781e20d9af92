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

Adding a kind (e.g. the LIF / CubaLIF layers a NIR import will need): write the dataclass with its
``kind`` and ``role``, add it to ``NODE_KINDS``. HDF5 read/write (``surnn_neuro.ir.io``) is generic
over ``dataclasses.fields``: numpy array fields become datasets, scalar fields attributes.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from surnn_neuro.errors import UserError

#: Cell kind -> number of stacked gate blocks G in the torch.nn.*Cell weight layout.
CELL_GATES = {"gru": 3, "rnn": 1, "lstm": 4}
#: Input encodings (docs/semantics.md §3).
ENCODINGS = ("dense", "delta", "spikes")
#: Readout modes (docs/semantics.md §2).
READOUT_MODES = ("last", "mean", "all")


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
}


def node_kind(kind: str) -> type:
    """The dataclass of ``kind``; ValueError listing the known kinds otherwise."""
    try:
        return NODE_KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown node kind {kind!r}; known: {', '.join(NODE_KINDS)}") from None
