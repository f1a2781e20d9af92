"""Node kinds of the event graph: one frozen dataclass per kind, one table (``NODE_KINDS``).

This module holds the input, layer and readout kinds and the table of every kind; gate kinds are in
:mod:`surnn_neuro.ir.gates`, spiking layers in :mod:`surnn_neuro.ir.spiking`, the validation base in
:mod:`surnn_neuro.ir.base`.

Roles (class attribute ``role``) tell the graph how a kind may be wired (docs/semantics.md §2):

- ``"input"``   the single source, ``x_t ∈ R^V``;
- ``"layer"``   a selective-update layer ``h_t = where(g_t, cell(h_{t-1}, x_t), h_{t-1})``;
- ``"gate"``    the gate ``g_t ∈ {0,1}^H`` of exactly one layer (no data edges);
- ``"readout"`` the single sink, ``y = W_o h + b_o``.

A layer kind with class attribute ``gated = False`` (:class:`SpikingLayerNode`, LIF / CubaLIF layers
imported from NIR, docs/nir.md) takes no gate: its "gate spikes" are its output spikes.

Adding a kind: write the dataclass with its ``kind`` and ``role``, add it to ``NODE_KINDS``. HDF5
read/write (``surnn_neuro.ir.io``) is generic over ``dataclasses.fields``: numpy array fields become
datasets, scalar fields attributes. Gate kinds also declare their meaning (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from surnn_neuro.ir.base import Node
from surnn_neuro.ir.cells import CELL_GATES, CELLS
from surnn_neuro.ir.gates import (GATE_KINDS, AlwaysGate, GateNode, GlobalGate, OscillatorGate, ScheduleGate,
                                  ThresholdGate)
from surnn_neuro.ir.spiking import SPIKING_NEURONS, SpikingConstants, SpikingLayerNode

#: Input encodings (docs/semantics.md §3).
ENCODINGS = ("dense", "delta", "spikes")
#: Readout modes (docs/semantics.md §2).
READOUT_MODES = ("last", "mean", "all")



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
    def spec(self):
        """The cell's :class:`~surnn_neuro.ir.cells.CellSpec` (blocks, FLOPs, numpy candidate)."""
        return CELLS[self.cell]

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

#: The one table of node kinds, used by graph validation, HDF5 read and HDF5 write.
NODE_KINDS = {"input": InputNode, "layer": LayerNode, **GATE_KINDS, "readout": ReadoutNode, "spiking": SpikingLayerNode}

__all__ = ["AlwaysGate", "CELL_GATES", "CELLS", "ENCODINGS", "GateNode", "GlobalGate", "InputNode", "LayerNode",
           "NODE_KINDS", "Node", "OscillatorGate", "READOUT_MODES", "ReadoutNode", "SPIKING_NEURONS", "ScheduleGate",
           "SpikingConstants", "SpikingLayerNode", "ThresholdGate"]
