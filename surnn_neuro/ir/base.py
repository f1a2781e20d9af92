"""The base of every node kind of the event graph: a name and the field validators.

Every node validates in ``__post_init__`` and raises ``ValueError("<NodeKind> '<name>': field
<field>: <problem>")``. Array fields are coerced to fresh, read-only numpy arrays (float64 for
weights, bool for masks), so a node never aliases the caller's buffers and cannot be mutated after
validation. The kinds themselves: :mod:`surnn_neuro.ir.nodes` (input, layer, readout and the table
of every kind), :mod:`surnn_neuro.ir.gates`, :mod:`surnn_neuro.ir.spiking`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


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
        kind = getattr(np.asarray(raw), "dtype", np.dtype(float)).kind
        if kind not in "biuf":  # complex would be cast (dropping the imaginary part), objects vary
            self._fail(field, f"expected a real-valued float array, got dtype {np.asarray(raw).dtype}")
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

