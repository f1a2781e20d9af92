"""Typed model options: one table of names, types and bounds, read at the command boundary and by
:func:`surnn_neuro.models.build`.

``--option KEY=VALUE`` strings become typed values in :func:`parse_options` (the command line) and
every value, from the command line or from Python, is checked by :meth:`Option.check` before a
model is built, so a gate never sees a string where an integer belongs, a NaN duty or a
``learn_gate=maybe``. Each error names the option and what it accepts.

>>> DUTY.check(0.2), DUTY.parse("0.25"), LEARN_GATE.parse("false")
(0.2, 0.25, False)
>>> DUTY.check(float("nan"))
Traceback (most recent call last):
    ...
ValueError: option duty: expected a number in (0, 1], got nan
"""

from __future__ import annotations

import ast
import math
import numbers
from dataclasses import dataclass

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


@dataclass(frozen=True)
class Option:
    """One model option: ``kind`` is ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` or ``"ints"`` (a
    non-empty tuple of integers); numbers lie in ``[low, high]`` (``open_low`` / ``open_high``
    exclude an end); ``none_ok`` lets None stand for "derive it" (e.g. from the sequence length)."""

    name: str
    kind: str
    doc: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple = ()
    none_ok: bool = False

    def __post_init__(self):
        if self.kind not in ("int", "float", "bool", "choice", "ints"):
            raise ValueError(f"Option {self.name}: unknown kind {self.kind!r}")

    # -- what it accepts, in words ----------------------------------------------------------------
    def accepts(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        what = {"int": "an integer", "float": "a number", "ints": "a tuple of integers"}[self.kind]
        if self.low is not None or self.high is not None:
            lo = "(" if self.open_low else "["
            hi = ")" if self.open_high else "]"
            a = "-inf" if self.low is None else _fmt(self.low)
            b = "inf" if self.high is None else _fmt(self.high)
            what += f" in {lo}{a}, {b}{hi}"
        return what + (" or None" if self.none_ok else "")

    def _fail(self, value):
        if self.kind == "choice":  # STYLE.md §5: name the unknown value and list the known ones
            raise ValueError(f"option {self.name}: unknown {self.name} {value!r}; known: {', '.join(self.choices)}")
        raise ValueError(f"option {self.name}: expected {self.accepts()}, got {value!r}")

    def _in_bounds(self, v) -> bool:
        if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
            return False
        if self.high is not None and (v > self.high or (self.open_high and v == self.high)):
            return False
        return True

    # -- Python values -----------------------------------------------------------------------------
    def check(self, value):
        """``value`` validated and normalised (int, float, bool, str or tuple); ValueError otherwise."""
        if value is None and self.none_ok:
            return None
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            self._fail(value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            self._fail(value)
        if self.kind == "ints":
            if isinstance(value, (list, tuple)) and value and all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) and self._in_bounds(v) for v in value):
                return tuple(int(v) for v in value)
            self._fail(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self._fail(value)
        if self.kind == "int":
            if not isinstance(value, numbers.Integral):
                self._fail(value)
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                self._fail(value)
        if not self._in_bounds(value):
            self._fail(value)
        return value

    # -- command-line strings ----------------------------------------------------------------------
    def parse(self, text: str):
        """The typed value of a command-line string (``KEY=VALUE``'s VALUE), checked."""
        s = text.strip()
        if self.none_ok and s.lower() == "none":
            return None
        if self.kind == "bool":
            if s.lower() in _TRUE:
                return True
            if s.lower() in _FALSE:
                return False
            self._fail(text)
        if self.kind == "choice":
            return self.check(s)
        try:
            value = ast.literal_eval(s)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            if self.kind == "float" and s.lower() in ("nan", "inf", "-inf", "+inf"):
                value = float(s)
            else:
                self._fail(text)
        if self.kind == "ints" and isinstance(value, numbers.Integral):
            value = (value,)
        return self.check(value)


def _fmt(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# -- the options of each gate family (defaults are in the factories' signatures) ----------------------

READOUT = Option("readout", "choice", "how the readout reads the last layer", choices=("last", "mean", "all"))
SEQ_LEN = Option("seq_len", "int", "training sequence length (sets the default period range)", low=1)
HARMONICS = Option("harmonics", "int", "oscillator harmonics K", low=1, high=64)
DUTY = Option("duty", "float", "initial fraction of open steps", low=0, high=1, open_low=True)
PERIOD_MAX = Option("period_max", "int", "longest oscillator/phase period in steps (None: seq_len)", low=2,
                    none_ok=True)
LEARN_OMEGA = Option("learn_omega", "bool", "train the oscillator frequencies")
LEARN_GATE = Option("learn_gate", "bool", "train the oscillator (False: a fixed schedule)")
ANNEAL = Option("anneal", "bool", "anneal the hard-sigmoid slope per epoch (False: fixed 0.1)")
PERIODS = Option("periods", "ints", "clockwork module periods", low=1)
R_ON = Option("r_on", "float", "Phased-LSTM open ratio", low=0, high=1, open_low=True, open_high=True)
RATE = Option("rate", "float", "random update rate", low=0, high=1, open_low=True)
SEED = Option("seed", "int", "seed of the frozen random mask", low=0, high=2 ** 32 - 1)


def surrogate_option(names) -> Option:
    return Option("surrogate", "choice", "surrogate gradient of the oscillator's Heaviside", choices=tuple(names))


__all__ = ["ANNEAL", "DUTY", "HARMONICS", "LEARN_GATE", "LEARN_OMEGA", "Option", "PERIODS", "PERIOD_MAX",
           "RATE", "READOUT", "R_ON", "SEED", "SEQ_LEN", "surrogate_option"]
