"""Typed model options: one table of names, types and bounds, read at the command boundary and by
:func:`surnn_neuro.models.build`.

``--option KEY=VALUE`` strings become typed values in :func:`parse_options` (the command line) and
every value, from the command line or from Python, is checked by
:meth:`surnn_neuro.options.Option.check` before a
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

from surnn_neuro.options import Option  # the kind itself lives a floor below (also used by the CLI table)

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
