"""Gate modules of the event-driven torch adapters (snnTorch, Norse), built from IR gate nodes.

One module per gate kind, written once: each holds the node's parameters and implements the loop
protocol of :func:`surnn_neuro.models.functional.su_loop` (``begin``, ``fire``, ``receive``) with the
functional gate steps of :mod:`surnn_neuro.models.functional.gates`. What a framework brings is its
**neuron** — a module ``neuron(drive, mem) -> (spikes, mem)`` firing where ``drive − threshold > 0``
(snnTorch's ``Leaky``, or a shell over Norse's ``threshold``) — and its idiom for the input synapse of
a threshold gate (:class:`Idiom`).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import torch
from torch import nn

from surnn_neuro.models.functional.gates import (OscillatorParameters, SkipParameters, ThresholdState,
                                                 oscillator_drive, schedule_train, skip_initial_state,
                                                 skip_receive, threshold_drive, threshold_receive)


def param(a, requires_grad: bool = True) -> nn.Parameter:
    """A float64 ``nn.Parameter`` copied from an IR array (cast with the network later)."""
    return nn.Parameter(torch.tensor(np.asarray(a, dtype=np.float64)), requires_grad=requires_grad)


class Idiom(NamedTuple):
    """How a framework builds gate neurons and holds a gate's input synapse.

    ``neuron(threshold, kind) -> module``: a spiking neuron for the gate ``kind`` ("oscillator",
    "threshold", "global"); ``attach(module, w, b) -> (weight path, bias path)`` registers the input
    synapse ``(W_in, bias)`` on the gate module and names where its parameters are (picklable).
    """

    neuron: Callable
    attach: Callable


class _TrainGate(nn.Module):
    """Base of the input-independent kinds: a ``(T, H)`` spike train made once per forward pass."""

    def input_synapse(self):
        return None

    def spike_train(self, n_steps: int, like: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def begin(self, n_steps, batch, like):
        return self.spike_train(n_steps, like)

    def fire(self, t, drive, train, su_state):
        return train[t].unsqueeze(0), None, train

    def receive(self, delta, g, su_state, train):
        return train


class OscillatorNeurons(_TrainGate):
    """suRNN oscillator neurons: ``g_t = neuron(a_t)``, ``a_t = b + Σ_k α_k sin(ω_k t + φ_k)`` in
    float64 (memoryless, so all T steps go through the neuron at once)."""

    kind = "oscillator"

    def __init__(self, node, idiom: Idiom, learn_omega: bool = False):
        super().__init__()
        self.bias = param(node.bias)
        self.alpha = param(node.alpha)
        self.phi = param(node.phi)
        self.omega = param(node.omega, requires_grad=learn_omega)
        self.neuron = idiom.neuron(0.0, self.kind)

    @property
    def p(self) -> OscillatorParameters:
        return OscillatorParameters(self.bias, self.alpha, self.phi, self.omega)

    def drive(self, n_steps: int) -> torch.Tensor:
        """``a: (T, H)`` float64."""
        return oscillator_drive(n_steps, self.p)

    def spike_train(self, n_steps, like):
        a = self.drive(n_steps)
        spk, _ = self.neuron(a, torch.zeros_like(a))
        return spk.to(like.dtype)


class ScheduleTrain(_TrainGate):
    """A fixed spike train: ``mask[t mod P]`` (periodic) or ``mask[t]`` (t < P)."""

    kind = "schedule"

    def __init__(self, node, idiom: Idiom, learn_omega: bool = False):
        super().__init__()
        self.register_buffer("mask", torch.from_numpy(np.array(node.mask, dtype=bool)))
        self.periodic = bool(node.periodic)
        self.node_name = node.name

    def spike_train(self, n_steps, like):
        return schedule_train(self.mask, n_steps, self.periodic, self.node_name).to(like.dtype)


class AlwaysTrain(_TrainGate):
    """A spike at every step (the dense baseline)."""

    kind = "always"

    def __init__(self, node, idiom: Idiom, learn_omega: bool = False):
        super().__init__()
        self.size = int(node.size)

    def spike_train(self, n_steps, like):
        return like.new_ones(n_steps, self.size)


class ThresholdNeurons(nn.Module):
    """SA-RNN coordinator neurons: ``g_t = neuron(w_self ⊙ h_{t-1} + W_in x_t + bias)`` (strict > 0).

    The input synapse ``(W_in, bias)`` listens to the layer's input events (the caller forms its
    drive); ``w_self`` to the layer's own delta events (``S_self += w_self ⊙ Δ``). State
    ``(ThresholdState, neuron membrane)``.
    """

    kind = "threshold"

    def __init__(self, node, idiom: Idiom, learn_omega: bool = False):
        super().__init__()
        self.synapse_paths = tuple(idiom.attach(self, node.w_in, node.bias))
        self.w_self = param(node.w_self)
        self.neuron = idiom.neuron(0.0, self.kind)

    def input_synapse(self):
        return tuple(self.get_parameter(path) for path in self.synapse_paths)

    def begin(self, n_steps, batch, like):
        z = like.new_zeros(batch, self.w_self.shape[0])
        return ThresholdState(s_self=z), z

    def fire(self, t, drive, state, su_state):
        acc, mem = state
        spk, mem = self.neuron(threshold_drive(acc.s_self, drive), mem)
        return spk.to(drive.dtype), None, (acc, mem)

    def receive(self, delta, g, su_state, state):
        acc, mem = state
        return threshold_receive(delta, acc, self.w_self), mem


class SkipNeuron(nn.Module):
    """Skip-RNN gate: one neuron per sample, ``u_t = neuron(ũ_t)`` at threshold ½ (strict).

    ``ũ_0 = init_prob``; after an update ``Δũ = σ(w·h_t + b)`` with ``w·h`` a sigma accumulator fed by
    the layer's delta events; ``ũ_{t+1} = u Δũ + (1 − u)(ũ + min(Δũ, 1 − ũ))``; before the first update
    ``Δũ = σ(b)``. State ``(SkipState, neuron membrane)``, each (B, 1).
    """

    kind = "global"

    def __init__(self, node, idiom: Idiom, learn_omega: bool = False):
        super().__init__()
        self.weight = param(node.weight)
        self.bias = param(node.bias)
        self.init_prob = float(node.init_prob)
        self.neuron = idiom.neuron(0.5, self.kind)

    def input_synapse(self):
        return None

    @property
    def p(self) -> SkipParameters:
        return SkipParameters(self.weight, self.bias, self.init_prob)

    def begin(self, n_steps, batch, like):
        state = skip_initial_state(batch, self.p, like)
        return state, torch.zeros_like(state.s)

    def fire(self, t, drive, state, su_state):
        skip, mem = state
        spk, mem = self.neuron(skip.u_tilde, mem)
        return spk.to(skip.u_tilde.dtype), None, (skip, mem)

    def receive(self, delta, u, su_state, state):
        skip, mem = state
        return skip_receive(delta, u, skip, self.p), mem


#: gate node kind -> event gate module (one table; unknown kinds fail listing the known ones)
GATES = {"oscillator": OscillatorNeurons, "threshold": ThresholdNeurons, "schedule": ScheduleTrain,
         "global": SkipNeuron, "always": AlwaysTrain}


def gate_module(node, idiom: Idiom, learn_omega: bool = False, who: str = "converter") -> nn.Module:
    """The event gate module of a gate node."""
    try:
        cls = GATES[type(node).kind]
    except KeyError:
        raise ValueError(f"{who}: no rule for gate kind {type(node).kind!r}; known: {', '.join(GATES)}") from None
    return cls(node, idiom, learn_omega=learn_omega)


def accumulate(bias: torch.Tensor, weight: torch.Tensor, events) -> list:
    """The sigma ``S_t = b + Σ_{s ≤ t} W e_s`` of every step, one event step after the other:
    ``events``, T tensors (B, in) → T tensors (B, out)."""
    s = bias.expand(events[0].shape[0], -1)
    out = []
    for e in events:
        s = s + torch.nn.functional.linear(e, weight)
        out.append(s)
    return out

