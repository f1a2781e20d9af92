"""Selective-update networks by name: a stack of layers and a linear readout.

``build(name, input_size, hidden_size, output_size, **options)`` returns a
:class:`SelectiveUpdateNetwork`; ``forward(x: (T, B, V))`` returns ``(outputs, gates)`` with
``outputs`` (B, O) for readout ``last``/``mean`` or (T, B, O) for ``all``, and ``gates`` a list with
one (T, B, H) tensor per layer.

Layers are stacked plainly (layer l reads h^{l-1}_t): no normalisation or residual between them,
because both would break the linearity in h that exact event-driven execution relies on
(docs/semantics.md §2). The suRNN paper's deep block is unknown anyway (surnn_models.md §2.8).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
from torch import nn

from surnn_neuro.ir.cells import cell_spec
from surnn_neuro.models.gates import (DenseGate, ClockworkGate, CoordinatorGate, PhasedGate,
                                      RandomGate, SkipGate, TemporalGate)
from surnn_neuro.models.layer import SelectiveUpdateLayer
from surnn_neuro.models import options as O
from surnn_neuro.models.surrogates import SURROGATES, get_surrogate

READOUTS = ("last", "mean", "all")


def _temporal(V, H, seq_len, harmonics=4, duty=0.3, period_max=None, learn_omega=False,
              surrogate="multi-gaussian", learn_gate=True):
    return TemporalGate(H, harmonics=harmonics, period_max=period_max or max(2, seq_len), duty=duty,
                        learn_omega=learn_omega, surrogate=get_surrogate(surrogate), learn_gate=learn_gate)


def _coordinator(V, H, seq_len, anneal=True):
    return CoordinatorGate(V, H, anneal=anneal)


def _skip(V, H, seq_len):
    return SkipGate(H)


def _clockwork(V, H, seq_len, periods=(1, 2, 4, 8)):
    return ClockworkGate(H, periods=periods)


def _phased(V, H, seq_len, period_max=None, r_on=0.2):
    return PhasedGate(H, period_max=period_max or max(2, seq_len), r_on=r_on)


def _random(V, H, seq_len, rate=0.5, seed=0):
    return RandomGate(H, rate=rate, seed=seed)


def _always(V, H, seq_len):
    return DenseGate(H)


class ModelSpec(NamedTuple):
    """One model: its cell kind, its gate factory ``(V, H, seq_len, **options) -> Gate``, a
    description and the typed options of its gate (:mod:`surnn_neuro.models.options`)."""

    cell: str
    gate: Callable
    description: str
    options: tuple


_TEMPORAL_OPTIONS = (O.HARMONICS, O.DUTY, O.PERIOD_MAX, O.LEARN_OMEGA, O.surrogate_option(SURROGATES), O.LEARN_GATE)

#: model name -> :class:`ModelSpec`
MODELS = {
    "sugru": ModelSpec("gru", _temporal, "GRU with the suRNN temporal (oscillator) gate", _TEMPORAL_OPTIONS),
    "surnn": ModelSpec("rnn", _temporal, "tanh RNN with the suRNN temporal gate", _TEMPORAL_OPTIONS),
    "sarnn": ModelSpec("gru", _coordinator, "GRU with the SA-RNN coordinator gate", (O.ANNEAL,)),
    "gru": ModelSpec("gru", _always, "dense GRU (gate always open)", ()),
    "skiprnn": ModelSpec("gru", _skip, "GRU with one Skip RNN gate per sample", ()),
    "clockwork": ModelSpec("rnn", _clockwork, "Clockwork RNN (fixed module periods)", (O.PERIODS,)),
    "phased": ModelSpec("lstm", _phased, "LSTM with a binary Phased LSTM time gate", (O.PERIOD_MAX, O.R_ON)),
    "random": ModelSpec("gru", _random, "GRU with random updates at a fixed rate", (O.RATE, O.SEED)),
}

#: options every model takes (the rest are its gate's); ``layers`` is an argument of :func:`build`
COMMON_OPTIONS = (O.READOUT, O.SEQ_LEN)


def option_specs(name: str) -> dict:
    """``{option name: Option}`` of a model (common options first)."""
    _check_name(name)
    return {o.name: o for o in COMMON_OPTIONS + MODELS[name].options}


def model_options(name: str) -> tuple:
    """The keyword options a model accepts (``layers`` and the :func:`option_specs`)."""
    return ("layers",) + tuple(option_specs(name))


def check_options(name: str, options: dict) -> dict:
    """``options`` validated and normalised by their :class:`~surnn_neuro.models.options.Option`;
    ValueError naming an unknown option (with the known ones) or a bad value."""
    specs = option_specs(name)
    unknown = sorted(set(options) - set(specs))
    if unknown:
        raise ValueError(f"model {name!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(specs)}")
    return {k: specs[k].check(v) for k, v in options.items()}


def parse_options(name: str, pairs) -> dict:
    """Command-line ``KEY=VALUE`` strings of model ``name`` as typed, checked options (ValueError
    naming the pair and what the option accepts)."""
    specs = option_specs(name)
    out = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise ValueError(f"{pair!r}: expected KEY=VALUE, e.g. --option harmonics=4")
        key, value = (p.strip() for p in pair.split("=", 1))
        if key == "layers":
            raise ValueError("layers: give the number of layers with --layers, not --option")
        if key not in specs:
            raise ValueError(f"model {name!r}: unknown option {key!r}; known: {', '.join(specs)}")
        if key in out:
            raise ValueError(f"{key}: given twice")
        out[key] = specs[key].parse(value)
    return out


def _check_name(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")


class SelectiveUpdateNetwork(nn.Module):
    """Stack of :class:`SelectiveUpdateLayer` plus a linear readout (see module docstring)."""

    def __init__(self, layers, readout: nn.Linear, readout_mode: str, config: dict):
        super().__init__()
        if readout_mode not in READOUTS:
            raise ValueError(f"unknown readout {readout_mode!r}; known: {', '.join(READOUTS)}")
        self.layers = nn.ModuleList(layers)
        self.readout = readout
        self.readout_mode = readout_mode
        self.config = dict(config)

    def set_epoch(self, epoch: int) -> None:
        """Forward the epoch to the gates (SA-RNN slope annealing)."""
        for layer in self.layers:
            layer.gate.set_epoch(epoch)

    def forward(self, x: torch.Tensor):
        if x.dim() != 3:
            raise ValueError(f"expected x of shape (T, B, V), got {tuple(x.shape)}")
        gates = []
        h = x
        for layer in self.layers:
            h, g = layer(h)
            gates.append(g)
        if self.readout_mode == "last":
            out = self.readout(h[-1])
        elif self.readout_mode == "mean":
            out = self.readout(h.mean(0))
        else:
            out = self.readout(h)
        return out, gates


def build(name: str, input_size: int, hidden_size: int, output_size: int, layers: int | None = None,
          **options) -> SelectiveUpdateNetwork:
    """Build a model by name (see :data:`MODELS`).

    ``layers`` (default 1) stacked layers. Common options: ``readout`` ("last", "mean" or "all"),
    ``seq_len`` (the training length; sets the default oscillator/phased period range, 64 if not
    given). Gate options per model: :func:`option_specs`, each checked by its type and bounds; unknown
    options raise ValueError naming them and the known ones.

    >>> m = build("sugru", 1, 8, 10, seq_len=64)
    >>> out, gates = m(torch.zeros(64, 2, 1))
    >>> tuple(out.shape), tuple(gates[0].shape)
    ((2, 10), (64, 2, 8))
    """
    _check_name(name)
    checked = check_options(name, options)
    if min(input_size, hidden_size, output_size) < 1:
        raise ValueError("input_size, hidden_size and output_size must be >= 1")
    n_layers = 1 if layers is None else layers
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
        raise ValueError(f"layers must be an integer >= 1, got {layers!r}")
    gate_opts = dict(checked)
    readout_mode = gate_opts.pop("readout", "last")
    seq_len = gate_opts.pop("seq_len", 64)
    spec = MODELS[name]
    blocks = cell_spec(spec.cell).n_blocks
    net_layers = []
    v = input_size
    for _ in range(n_layers):
        gate = spec.gate(v, hidden_size, seq_len, **gate_opts)
        mask = gate.recurrent_mask(blocks=blocks) if isinstance(gate, ClockworkGate) else None
        net_layers.append(SelectiveUpdateLayer(spec.cell, v, hidden_size, gate, recurrent_mask=mask))
        v = hidden_size
    # the config records the options as given (and layers if given): from_config rebuilds the same model
    recorded = dict(options) if layers is None else dict(options, layers=layers)
    config = dict(name=name, input_size=input_size, hidden_size=hidden_size, output_size=output_size,
                  options=recorded)
    return SelectiveUpdateNetwork(net_layers, nn.Linear(hidden_size, output_size), readout_mode, config)


def from_config(config: dict) -> SelectiveUpdateNetwork:
    """Rebuild a model from ``model.config`` (as stored in checkpoints)."""
    return build(config["name"], config["input_size"], config["hidden_size"], config["output_size"],
                 **config.get("options", {}))
