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

import inspect

import torch
from torch import nn

from surnn_neuro.ir.cells import cell_spec
from surnn_neuro.models.gates import (AlwaysGate, ClockworkGate, CoordinatorGate, PhasedGate,
                                      RandomGate, SkipGate, TemporalGate)
from surnn_neuro.models.layer import SelectiveUpdateLayer
from surnn_neuro.models.surrogates import SURROGATES, get_surrogate

READOUTS = ("last", "mean", "all")


def _temporal(V, H, seq_len=64, harmonics=4, duty=0.3, period_max=None, learn_omega=False,
              surrogate="multi-gaussian", learn_gate=True):
    return TemporalGate(H, harmonics=harmonics, period_max=period_max or max(2, seq_len), duty=duty,
                        learn_omega=learn_omega, surrogate=get_surrogate(surrogate),
                        learn_gate=bool(learn_gate))


def _coordinator(V, H, anneal=True):
    return CoordinatorGate(V, H, anneal=anneal)


def _skip(V, H):
    return SkipGate(H)


def _clockwork(V, H, periods=(1, 2, 4, 8)):
    return ClockworkGate(H, periods=periods)


def _phased(V, H, seq_len=64, period_max=None, r_on=0.2):
    return PhasedGate(H, period_max=period_max or max(2, seq_len), r_on=r_on)


def _random(V, H, rate=0.5, seed=0):
    return RandomGate(H, rate=rate, seed=seed)


def _always(V, H):
    return AlwaysGate(H)


#: model name -> (cell, gate factory, description)
MODELS = {
    "sugru": ("gru", _temporal, "GRU with the suRNN temporal (oscillator) gate"),
    "surnn": ("rnn", _temporal, "tanh RNN with the suRNN temporal gate"),
    "sarnn": ("gru", _coordinator, "GRU with the SA-RNN coordinator gate"),
    "gru": ("gru", _always, "dense GRU (gate always open)"),
    "skiprnn": ("gru", _skip, "GRU with one Skip RNN gate per sample"),
    "clockwork": ("rnn", _clockwork, "Clockwork RNN (fixed module periods)"),
    "phased": ("lstm", _phased, "LSTM with a binary Phased LSTM time gate"),
    "random": ("gru", _random, "GRU with random updates at a fixed rate"),
}

#: options every model takes (the rest are its gate's)
COMMON_OPTIONS = ("layers", "readout", "seq_len")


def model_options(name: str) -> tuple:
    """The keyword options a model accepts."""
    _check_name(name)
    params = inspect.signature(MODELS[name][1]).parameters
    return COMMON_OPTIONS + tuple(p for p in params if p not in ("V", "H", "seq_len"))


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


def build(name: str, input_size: int, hidden_size: int, output_size: int, **options) -> SelectiveUpdateNetwork:
    """Build a model by name (see :data:`MODELS`).

    Common options: ``layers`` (default 1), ``readout`` ("last", "mean" or "all"), ``seq_len`` (the
    training length; sets the default oscillator/phased period range). Gate options per model:
    :func:`model_options`. Unknown options raise ValueError naming them and the known ones.

    >>> m = build("sugru", 1, 8, 10, seq_len=64)
    >>> out, gates = m(torch.zeros(64, 2, 1))
    >>> tuple(out.shape), tuple(gates[0].shape)
    ((2, 10), (64, 2, 8))
    """
    _check_name(name)
    known = model_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"model {name!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if min(input_size, hidden_size, output_size) < 1:
        raise ValueError("input_size, hidden_size and output_size must be >= 1")
    opts = dict(options)
    n_layers = int(opts.pop("layers", 1))
    readout_mode = opts.pop("readout", "last")
    seq_len = int(opts.pop("seq_len", 64))
    if n_layers < 1:
        raise ValueError(f"layers must be >= 1, got {n_layers}")
    if "surrogate" in opts and opts["surrogate"] not in SURROGATES:
        raise ValueError(f"unknown surrogate {opts['surrogate']!r}; known: {', '.join(SURROGATES)}")
    cell, gate_factory, _ = MODELS[name]
    gate_params = inspect.signature(gate_factory).parameters
    if "seq_len" in gate_params:
        opts["seq_len"] = seq_len
    layers = []
    v = input_size
    for _ in range(n_layers):
        gate = gate_factory(v, hidden_size, **opts)
        mask = gate.recurrent_mask(blocks=cell_spec(cell).n_blocks) if isinstance(gate, ClockworkGate) else None
        layers.append(SelectiveUpdateLayer(cell, v, hidden_size, gate, recurrent_mask=mask))
        v = hidden_size
    config = dict(name=name, input_size=input_size, hidden_size=hidden_size, output_size=output_size,
                  options=dict(options))
    return SelectiveUpdateNetwork(layers, nn.Linear(hidden_size, output_size), readout_mode, config)


def from_config(config: dict) -> SelectiveUpdateNetwork:
    """Rebuild a model from ``model.config`` (as stored in checkpoints)."""
    return build(config["name"], config["input_size"], config["hidden_size"], config["output_size"],
                 **config.get("options", {}))
