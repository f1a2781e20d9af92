"""Typed options: one name, type and bounds per option, checked where values enter the program.

An :class:`Option` parses a command-line string (:meth:`Option.parse`) and checks a Python value
(:meth:`Option.check`); each error names the option and says what it accepts. Two tables use it:
the model and gate options (:mod:`surnn_neuro.models.options`, ``--option KEY=VALUE``) and the
command-line options of every subcommand (:data:`surnn_neuro.preflight.OPTIONS`). An option whose
name starts with ``-`` is a command-line flag and its messages start with the flag itself.

>>> Option("--threads", "int", "CPU threads", low=1, high=8).parse("100000")
Traceback (most recent call last):
    ...
ValueError: --threads: must be <= 8, got 100000
>>> Option("duty", "float", "duty cycle", low=0, high=1, open_low=True).check(float("nan"))
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
    """One option: ``kind`` is ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` or ``"ints"`` (a
    non-empty tuple of integers); numbers lie in ``[low, high]`` (``open_low`` / ``open_high``
    exclude an end; floats are always finite); ``none_ok`` lets None stand for "derive it" (e.g.
    from the sequence length). ``name``: a model option's key (``duty``) or a command-line flag
    (``--threads``). ``note``: why the bounds are what they are, added to a message about them.

    A flag's out-of-range value is named by the bound it crosses (``--hidden: must be >= 1, got
    0``), any other problem by what the option accepts (``expected an integer in [1, 65536]``)."""

    name: str
    kind: str
    doc: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple = ()
    none_ok: bool = False
    note: str = ""

    def __post_init__(self):
        if self.kind not in ("int", "float", "bool", "choice", "ints"):
            raise ValueError(f"Option {self.name}: unknown kind {self.kind!r}; known: int, float, bool, choice, ints")

    @property
    def label(self) -> str:
        """How messages name the option: the flag itself, or ``option KEY``."""
        return self.name if self.name.startswith("-") else f"option {self.name}"

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

    def problem(self, value) -> str:
        """What is wrong with ``value``, in words (the message of :meth:`check` without the label)."""
        if self.kind == "choice":  # STYLE.md §5: name the unknown value and list the known ones
            noun = self.name.lstrip("-").replace("-", " ")
            return f"unknown {noun} {_show(value)}; known: {', '.join(self.choices)}"
        if self.name.startswith("-") and self.kind in ("int", "float") and _is_number(value, self.kind):
            crossed = self._crossed(value)
            if crossed:
                return f"must be {crossed}, got {_show(value)}" + (f" ({self.note})" if self.note else "")
        return f"expected {self.accepts()}, got {_show(value)}" + (f" ({self.note})" if self.note else "")

    def _crossed(self, v) -> str:
        """The bound ``v`` crosses, in words (``>= 1``), or "" if it lies within them."""
        if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
            return f"{'>' if self.open_low else '>='} {_fmt(self.low)}"
        if self.high is not None and (v > self.high or (self.open_high and v == self.high)):
            return f"{'<' if self.open_high else '<='} {_fmt(self.high)}"
        return ""

    def _fail(self, value):
        raise ValueError(f"{self.label}: {self.problem(value)}")

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
            try:
                value = float(value)
            except OverflowError:  # an integer beyond the float range
                self._fail(value)
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


def _is_number(value, kind: str) -> bool:
    """A value of the option's own kind (so that only the bounds are wrong)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if kind == "int":
        return isinstance(value, numbers.Integral)
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _show(value, width: int = 60) -> str:
    """``repr(value)``, shortened: a hostile value (a 5000-digit integer) stays a short message."""
    try:
        text = repr(value)
    except ValueError:  # int too large for str() (sys.get_int_max_str_digits)
        return "a number too large to print"
    return text if len(text) <= width else text[: width - 3] + "..."


def _fmt(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
