"""Event graph → snnTorch network: a trainable ``nn.Module`` built from snnTorch neurons.

    net = to_snntorch(graph, dtype=torch.float64)
    outputs, gates = net(x)        # x: (T, B, V); outputs (B, O) or (T, B, O); gates [(T, B, H)]

The network computes exactly what docs/semantics.md specifies and what the reference simulator
computes, in snnTorch's idiom (one time loop in the network's ``forward``, explicit neuron states
passed in and out at every step, synapses as ``nn.Linear``):

==============  ==========================================================================================
graph node      snnTorch module
==============  ==========================================================================================
oscillator      :class:`OscillatorGate`: ``snn.Leaky(beta=0, threshold=0)`` fed the drive
                ``a_t = b + Σ_k α_k sin(ω_k t + φ_k)`` (input-independent, float64, all T steps at once)
threshold       :class:`ThresholdGate`: ``snn.Leaky(beta=0, threshold=0)`` fed
                ``w_self ⊙ h_{t-1} + W_in x_t + bias`` (both terms as sigma accumulators)
global          :class:`GlobalGate`: ``snn.Leaky(beta=0, threshold=0.5)`` with snnTorch's straight-through
                surrogate fed ``ũ_t`` (Skip RNN; ``round`` with identity gradient, as the torch model)
schedule        :class:`ScheduleGate`: a fixed spike train (no neuron)
always          :class:`AlwaysGate`: a spike at every step
layer           ``nn.Linear`` input synapse (W_ih, b_ih) + :class:`SelectiveUpdate`, a ``SpikingNeuron``
                subclass with state ``h`` (LSTM: also ``c``) and its recurrent synapse (W_hh, b_hh)
readout         ``nn.Linear`` (W_o, b_o) read through a sigma accumulator
==============  ==========================================================================================

Events (docs/semantics.md §3): every gate spike makes its state neuron emit one graded delta event
``Δ = h_t − h_{t−1}`` (exactly 0 where the gate is closed, because a closed neuron copies its state
bit for bit). Every consumer keeps a sigma accumulator ``S = W·h`` and adds ``W Δ`` per step:
``S_in`` of the next layer and of its threshold gate (same step), ``S_rec = W_hh h + b_hh`` of the
layer itself (used from step t + 1), the gates' ``w_self ⊙ h`` and ``w·h``, and the readout. Input
encoding ``dense``/``spikes`` rebuilds the first layer's ``S_in = W_ih x_t + b_ih`` every step,
``delta`` accumulates ``W_ih (x_t − x_{t−1})``. The values equal the dense computation up to float
rounding (float64 networks agree with the reference simulator to ~1e-12).

Gradients: weights and gate parameters are ``nn.Parameter`` (``omega`` frozen, as in the torch
model, unless ``learn_omega``). A closed gate passes the gradient as identity, an open one sends
``f − h`` into the gate (``models.layer.select``); the gate neurons' surrogate is snnTorch's ATan by
default (``spike_grad``), the skip gate's is snnTorch's straight-through estimator. Exact zeros of
the graph (clockwork's recurrent mask) are ordinary weights here: training may make them non-zero.

The tensors are dense (B, H): candidates are computed for every neuron and selected by the gate, so
the *work* is not event-sparse in torch; what the events and operations are is counted from the
gate spikes by :mod:`surnn_neuro.ir.counting` (simulators/snntorch_backend.py).

snnTorch details this module relies on or works around (snnTorch 1.0.0):

- ``Leaky`` fires on ``mem − threshold > 0``, **strict**, although the surrogates' docstrings say
  ``U ≥ U_thr`` (the code is ``(input_ > 0).float()``); that is the contract's strict ``a > 0``.
- ``beta=0`` alone is not memoryless: with the default ``reset_mechanism="subtract"`` the previous
  step's spike subtracts ``threshold`` from the next membrane (``u = 0.9`` at threshold 0.5 fires on
  every other step only). Gate neurons therefore use ``reset_mechanism="none"``.
- The surrogates return float32 spikes whatever the input dtype; they are cast back to the network's.
- ``snntorch.surrogate.atan()`` and friends return closures, which ``torch.save(model)`` cannot
  pickle; :class:`ATan` and :class:`StraightThrough` call the same autograd Functions from small
  picklable classes.
- Every ``SpikingNeuron`` appends itself to the class-level list ``SpikingNeuron.instances`` (a strong
  reference that keeps every network ever built alive); the neurons built here remove themselves
  from it, and nothing here uses it.
- ``Leaky`` also stores its last membrane in the buffer ``mem``; the network clears it after every
  forward pass so that the module holds no autograd graph (``copy.deepcopy`` and ``torch.save`` work).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import snntorch as snn
from snntorch import surrogate as snn_surrogate
from snntorch._neurons.neurons import SpikingNeuron

from surnn_neuro.models.cells import candidate
from surnn_neuro.errors import UserError
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import CELL_GATES
from surnn_neuro.models.layer import select

# ------------------------------------------------------------------------------------------------
# picklable snnTorch surrogates
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ATan:
    """snnTorch's ATan surrogate (its default): forward ``[x > 0]``, backward
    ``(α/2) / (1 + (π α x / 2)²)``. A picklable stand-in for ``snntorch.surrogate.atan(alpha)``."""

    alpha: float = 2.0

    def __post_init__(self):
        if not (isinstance(self.alpha, (int, float)) and math.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"ATan: alpha must be a finite number > 0, got {self.alpha!r}")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return snn_surrogate.ATan.apply(x, self.alpha)


@dataclass(frozen=True)
class StraightThrough:
    """snnTorch's straight-through estimator: forward ``[x > 0]``, backward identity (picklable)."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return snn_surrogate.StraightThroughEstimator.apply(x)


def _forget(neuron: SpikingNeuron) -> SpikingNeuron:
    """Remove ``neuron`` from snnTorch's class-level instance list (by identity, nothing else)."""
    instances = SpikingNeuron.instances
    for i in range(len(instances) - 1, -1, -1):
        if instances[i] is neuron:
            del instances[i]
    return neuron


def gate_neuron(threshold: float, spike_grad=None) -> snn.Leaky:
    """A memoryless snnTorch threshold neuron: ``snn.Leaky(beta=0, threshold, reset "none")``.

    ``spk, mem = neuron(drive, mem)`` gives ``mem = drive`` and ``spk = [drive − threshold > 0]``
    (strict) with the surrogate ``spike_grad`` (default :class:`ATan`).
    """
    neuron = snn.Leaky(beta=0.0, threshold=float(threshold), reset_mechanism="none",
                       spike_grad=spike_grad if spike_grad is not None else ATan())
    return _forget(neuron)


def _param(a, requires_grad: bool = True) -> nn.Parameter:
    return nn.Parameter(torch.tensor(np.asarray(a, dtype=np.float64)), requires_grad=requires_grad)


def _linear(w, b) -> nn.Linear:
    """``nn.Linear`` holding ``W: (out, in)`` and ``b: (out,)`` (float64 until the network is cast)."""
    w = np.asarray(w, dtype=np.float64)
    lin = nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w))
        lin.bias.copy_(torch.tensor(np.asarray(b, dtype=np.float64)))
    return lin


# ------------------------------------------------------------------------------------------------
# the selective-update state neuron
# ------------------------------------------------------------------------------------------------


class SelectiveUpdate(SpikingNeuron):
    """Selective-update state neuron in snnTorch's style (explicit states in and out).

    ``delta, h, c, rec = neuron(input_, gate, h, c, rec)``:

        f, c' = cell(input_, rec, h, c)          input_ = S_in (B, G·H), rec = S_rec = W_hh h + b_hh
        h_t   = where(gate, f, h)  (c likewise)  exact copy where closed (``models.layer.select``)
        Δ     = h_t − h               (B, H)     the delta events: 0 exactly where gate = 0
        rec   = rec + W_hh Δ                     sigma accumulation, acts from the next step

    ``gate`` (B, H), (1, H) or (B, 1) in {0, 1}: the spikes of the gate neurons. ``c`` is None except
    for the LSTM. The recurrent synapse is ``self.recurrent`` (``nn.Linear(H, G·H)``, as in
    ``snn.RLeaky``); its bias is the accumulator's start value ``W_hh·0 + b_hh``. The neuron does not
    threshold anything itself (its events are graded), so snnTorch's firing machinery is disabled.
    """

    def __init__(self, cell: str, hidden_size: int, weight_hh=None, bias_hh=None):
        super().__init__(threshold=0.0, surrogate_disable=True, reset_mechanism="none")
        _forget(self)
        if cell not in CELL_GATES:
            raise ValueError(f"unknown cell {cell!r}; known: {', '.join(CELL_GATES)}")
        self.cell = cell
        self.hidden_size = int(hidden_size)
        g = CELL_GATES[cell]
        self.recurrent = nn.Linear(self.hidden_size, g * self.hidden_size, dtype=torch.float64)
        if weight_hh is not None:
            with torch.no_grad():
                self.recurrent.weight.copy_(torch.tensor(np.asarray(weight_hh, dtype=np.float64)))
                self.recurrent.bias.copy_(torch.tensor(np.asarray(bias_hh, dtype=np.float64)))

    def init_selective_update(self, batch: int, like: torch.Tensor):
        """States at t = −1: ``h = 0``, ``c = 0`` (LSTM, else None), ``rec = b_hh`` (B, G·H)."""
        h = like.new_zeros(batch, self.hidden_size)
        c = like.new_zeros(batch, self.hidden_size) if self.cell == "lstm" else None
        rec = self.recurrent.bias.to(like.dtype).expand(batch, -1)
        return h, c, rec

    def forward(self, input_, gate, h, c, rec):
        f, c_f = candidate(self.cell, input_, rec, h, c)
        h_new = select(gate, f, h)
        c_new = select(gate, c_f, c) if c is not None else None
        delta = h_new - h
        rec = rec + F.linear(delta, self.recurrent.weight)
        return delta, h_new, c_new, rec


# ------------------------------------------------------------------------------------------------
# gates: begin(n_steps, batch, like) -> state; fire(t, drive, state) -> (g, state);
#        receive(delta, g, state) -> state (the layer's own delta events)
# ------------------------------------------------------------------------------------------------


class _InputIndependentGate(nn.Module):
    """Base of gates whose spike train is precomputed once per forward pass: ``(T, H)``."""

    synapse = None  # no input synapse

    def spike_train(self, n_steps: int, like: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def begin(self, n_steps, batch, like):
        return self.spike_train(n_steps, like)

    def fire(self, t, drive, train):
        return train[t].unsqueeze(0), train

    def receive(self, delta, g, train):
        return train

    def neurons(self):
        return ()


class OscillatorGate(_InputIndependentGate):
    """suRNN oscillator gate neurons: ``g_t = Leaky(a_t)``, ``a_t = b + Σ_k α_k sin(ω_k t + φ_k)``.

    The drive is evaluated in float64 (as ``models.gates.TemporalGate`` does) so that every backend
    takes the same decisions; memoryless, so all T steps go through the neuron at once.
    """

    kind = "oscillator"

    def __init__(self, node, spike_grad=None, learn_omega: bool = False):
        super().__init__()
        self.bias = _param(node.bias)
        self.alpha = _param(node.alpha)
        self.phi = _param(node.phi)
        self.omega = _param(node.omega, requires_grad=learn_omega)
        self.neuron = gate_neuron(0.0, spike_grad)

    def drive(self, n_steps: int) -> torch.Tensor:
        """``a: (T, H)`` float64."""
        t = torch.arange(n_steps, dtype=torch.float64, device=self.bias.device)
        phase = self.omega.double()[None, None, :] * t[:, None, None] + self.phi.double()[None]
        return self.bias.double() + (self.alpha.double()[None] * torch.sin(phase)).sum(-1)

    def spike_train(self, n_steps, like):
        a = self.drive(n_steps)
        spk, _ = self.neuron(a, torch.zeros_like(a))
        return spk.to(like.dtype)

    def neurons(self):
        return (self.neuron,)


class ScheduleGate(_InputIndependentGate):
    """A fixed spike train: ``mask[t mod P]`` (periodic) or ``mask[t]`` (t < P)."""

    kind = "schedule"

    def __init__(self, node, spike_grad=None):
        super().__init__()
        self.register_buffer("mask", torch.from_numpy(np.array(node.mask, dtype=bool)))
        self.periodic = bool(node.periodic)
        self.node_name = node.name

    def spike_train(self, n_steps, like):
        p = self.mask.shape[0]
        if self.periodic:
            idx = torch.arange(n_steps, device=self.mask.device) % p
        elif n_steps > p:
            raise UserError(f"ScheduleGate '{self.node_name}': non-periodic mask covers {p} steps, "
                            f"input has {n_steps}")
        else:
            idx = torch.arange(n_steps, device=self.mask.device)
        return self.mask[idx].to(like.dtype)


class AlwaysGate(_InputIndependentGate):
    """A spike at every step (the dense baseline)."""

    kind = "always"

    def __init__(self, node, spike_grad=None):
        super().__init__()
        self.size = int(node.size)

    def spike_train(self, n_steps, like):
        return like.new_ones(n_steps, self.size)


class ThresholdGate(nn.Module):
    """SA-RNN coordinator neurons: ``g_t = Leaky(w_self ⊙ h_{t-1} + W_in x_t + bias)`` (strict > 0).

    ``synapse`` (``nn.Linear(V, H)``: W_in, bias) listens to the layer's input events; ``w_self`` to
    the layer's own delta events (``S_self += w_self ⊙ Δ``). State ``(S_self, mem)``.
    """

    kind = "threshold"

    def __init__(self, node, spike_grad=None):
        super().__init__()
        self.synapse = _linear(node.w_in, node.bias)
        self.w_self = _param(node.w_self)
        self.neuron = gate_neuron(0.0, spike_grad)

    def begin(self, n_steps, batch, like):
        z = like.new_zeros(batch, self.w_self.shape[0])
        return z, z

    def fire(self, t, drive, state):
        s_self, mem = state
        spk, mem = self.neuron(s_self + drive, mem)
        return spk.to(drive.dtype), (s_self, mem)

    def receive(self, delta, g, state):
        s_self, mem = state
        return s_self + self.w_self * delta, mem

    def neurons(self):
        return (self.neuron,)


class GlobalGate(nn.Module):
    """Skip-RNN gate: one neuron per sample, ``u_t = Leaky(ũ_t)`` at threshold 0.5 (strict).

    ``ũ_0 = init_prob``; after an update ``Δũ = σ(w·h_t + b)`` with ``w·h`` a sigma accumulator fed by
    the layer's delta events; ``ũ_{t+1} = u Δũ + (1 − u)(ũ + min(Δũ, 1 − ũ))``; before the first update
    ``Δũ = σ(b)``. Surrogate: snnTorch's straight-through estimator (the torch model's ``round_ste``).
    State ``(ũ, Δũ, S_w, mem)``, each (B, 1).
    """

    kind = "global"
    synapse = None

    def __init__(self, node, spike_grad=None):
        super().__init__()
        self.weight = _param(node.weight)
        self.bias = _param(node.bias)
        self.init_prob = float(node.init_prob)
        self.neuron = gate_neuron(0.5, StraightThrough())

    def begin(self, n_steps, batch, like):
        s = like.new_zeros(batch, 1)
        u_tilde = torch.full_like(s, self.init_prob)
        du = torch.sigmoid(s + self.bias)  # w·h_{-1} = 0
        return u_tilde, du, s, torch.zeros_like(s)

    def fire(self, t, drive, state):
        u_tilde, du, s, mem = state
        spk, mem = self.neuron(u_tilde, mem)
        return spk.to(u_tilde.dtype), (u_tilde, du, s, mem)

    def receive(self, delta, u, state):
        u_tilde, du, s, mem = state
        s = s + delta @ self.weight[:, None]
        du = u * torch.sigmoid(s + self.bias) + (1 - u) * du
        u_tilde = u * du + (1 - u) * (u_tilde + torch.minimum(du, 1 - u_tilde))
        return u_tilde, du, s, mem

    def neurons(self):
        return (self.neuron,)


#: gate node kind -> snnTorch gate module (one table; unknown kinds fail listing the known ones)
GATES = {
    "oscillator": OscillatorGate,
    "threshold": ThresholdGate,
    "schedule": ScheduleGate,
    "global": GlobalGate,
    "always": AlwaysGate,
}


def gate_module(node, spike_grad=None, learn_omega: bool = False) -> nn.Module:
    """The snnTorch gate module of a gate node."""
    try:
        cls = GATES[type(node).kind]
    except KeyError:
        raise ValueError(f"to_snntorch: no rule for gate kind {type(node).kind!r}; known: {', '.join(GATES)}") from None
    if cls is OscillatorGate:
        return cls(node, spike_grad, learn_omega=learn_omega)
    return cls(node, spike_grad)


# ------------------------------------------------------------------------------------------------
# layer and network
# ------------------------------------------------------------------------------------------------


class SnnTorchLayer(nn.Module):
    """One selective-update layer: input synapse (W_ih, b_ih), gate neurons, state neurons."""

    def __init__(self, layer_node, gate_node, spike_grad=None, learn_omega: bool = False):
        super().__init__()
        self.name = layer_node.name
        self.cell = layer_node.cell
        self.hidden_size = layer_node.hidden_size
        self.synapse = _linear(layer_node.w_ih, layer_node.b_ih)
        self.gate = gate_module(gate_node, spike_grad, learn_omega)
        self.neuron = SelectiveUpdate(layer_node.cell, layer_node.hidden_size, layer_node.w_hh, layer_node.b_hh)


class SnnTorchNetwork(nn.Module):
    """An event graph as an snnTorch network (see the module docstring).

    ``forward(x: (T, B, V)) -> (outputs, gates)``: ``outputs`` (B, O) for readout ``last``/``mean``,
    (T, B, O) for ``all``; ``gates`` one (T, B, H) spike tensor per layer (the same interface as
    :class:`surnn_neuro.models.SelectiveUpdateNetwork`).
    """

    def __init__(self, graph: EventGraph, spike_grad=None, learn_omega: bool = False):
        super().__init__()
        self.encoding = graph.input.encoding
        self.input_size = graph.input.size
        self.layer_names = tuple(graph.layer_names)
        self.layers = nn.ModuleList(
            SnnTorchLayer(layer, graph.gate_of(layer.name), spike_grad, learn_omega) for layer in graph.layers
        )
        ro = graph.readout
        self.readout = _linear(ro.weight, ro.bias)
        self.readout_mode = ro.mode

    def _leaky_neurons(self):
        for layer in self.layers:
            yield from layer.gate.neurons()

    def forward(self, x: torch.Tensor):
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"expected x of shape (T, B, V={self.input_size}), got {tuple(x.shape)}")
        try:
            return self._run(x)
        finally:
            # Leaky keeps its last membrane in a buffer: drop it so the module holds no graph
            for neuron in self._leaky_neurons():
                neuron.reset_mem()

    def _run(self, x):
        n_t, n_b, _ = x.shape
        first = self.layers[0]
        rebuild = self.encoding in ("dense", "spikes")
        if rebuild:  # input-node events rebuild the first layer's input sigma every step
            pre_in = first.synapse(x)
            pre_gate = first.gate.synapse(x) if first.gate.synapse is not None else None
        else:  # delta encoding: d_t = x_t − x_{t−1} events, accumulated
            events_in = torch.diff(x, dim=0, prepend=torch.zeros_like(x[:1]))

        s_in, s_gate, states, gstates, gates = [], [], [], [], []
        for layer in self.layers:
            syn = layer.gate.synapse
            s_in.append(layer.synapse.bias.expand(n_b, -1))
            s_gate.append(syn.bias.expand(n_b, -1) if syn is not None else None)
            states.append(layer.neuron.init_selective_update(n_b, x))
            gstates.append(layer.gate.begin(n_t, n_b, x))
            gates.append([])
        s_out = self.readout.bias.expand(n_b, -1)
        outs = []

        for t in range(n_t):
            ev = None if rebuild else events_in[t]
            for k, layer in enumerate(self.layers):
                syn = layer.gate.synapse
                if k == 0 and rebuild:
                    s_in[k] = pre_in[t]
                    if syn is not None:
                        s_gate[k] = pre_gate[t]
                else:  # S += W·events (previous layer's deltas, or input delta events), same step
                    s_in[k] = s_in[k] + F.linear(ev, layer.synapse.weight)
                    if syn is not None:
                        s_gate[k] = s_gate[k] + F.linear(ev, syn.weight)
                g, gstates[k] = layer.gate.fire(t, s_gate[k], gstates[k])
                h, c, rec = states[k]
                ev, h, c, rec = layer.neuron(s_in[k], g, h, c, rec)
                states[k] = (h, c, rec)
                gstates[k] = layer.gate.receive(ev, g, gstates[k])
                gates[k].append(g.expand(n_b, layer.hidden_size))
            s_out = s_out + F.linear(ev, self.readout.weight)
            if self.readout_mode != "last":
                outs.append(s_out)

        if self.readout_mode == "last":
            out = s_out
        elif self.readout_mode == "mean":
            out = torch.stack(outs).mean(0)
        else:
            out = torch.stack(outs)
        return out, [torch.stack(g) for g in gates]


def to_snntorch(graph: EventGraph, dtype=torch.float32, spike_grad=None, learn_omega: bool = False) -> SnnTorchNetwork:
    """Build the snnTorch network of ``graph`` (weights copied from the graph, cast to ``dtype``).

    ``spike_grad``: surrogate of the oscillator and threshold gate neurons (default :class:`ATan`,
    snnTorch's default; any picklable callable, e.g. :class:`StraightThrough`). The skip gate always
    uses :class:`StraightThrough`. ``learn_omega``: make the oscillator frequencies trainable.
    """
    if not isinstance(graph, EventGraph):
        raise ValueError(f"to_snntorch: expected an EventGraph, got {type(graph).__name__}")
    return SnnTorchNetwork(graph, spike_grad=spike_grad, learn_omega=learn_omega).to(dtype)


__all__ = [
    "ATan", "AlwaysGate", "GATES", "GlobalGate", "OscillatorGate", "ScheduleGate", "SelectiveUpdate",
    "SnnTorchLayer", "SnnTorchNetwork", "StraightThrough", "ThresholdGate", "candidate", "gate_module",
    "gate_neuron", "to_snntorch",
]
