"""Event graph → snnTorch network: a trainable ``nn.Module`` built from snnTorch neurons.

    net = to_snntorch(graph, dtype=torch.float64)
    outputs, gates = net(x)        # x: (T, B, V); outputs (B, O) or (T, B, O); gates [(T, B, H)]

The network computes exactly what docs/semantics.md specifies and what the reference simulator
computes, in snnTorch's idiom (one time loop in the network's ``forward``, explicit neuron states
passed in and out at every step, synapses as ``nn.Linear``):

==============  ==========================================================================================
graph node      snnTorch module
==============  ==========================================================================================
oscillator      ``OscillatorNeurons``: ``snn.Leaky(beta=0, threshold=0)`` fed the drive
                ``a_t = b + Σ_k α_k sin(ω_k t + φ_k)`` (input-independent, float64, all T steps at once)
threshold       ``ThresholdNeurons``: ``snn.Leaky(beta=0, threshold=0)`` fed
                ``w_self ⊙ h_{t-1} + W_in x_t + bias`` (both terms as sigma accumulators); its input
                synapse ``synapse`` is an ``nn.Linear`` (W_in, bias)
global          ``SkipNeuron``: ``snn.Leaky(beta=0, threshold=0.5)`` with snnTorch's straight-through
                surrogate fed ``ũ_t`` (Skip RNN; ``round`` with identity gradient, as the torch model)
schedule        ``ScheduleTrain``: a fixed spike train (no neuron)
always          ``AlwaysTrain``: a spike at every step
layer           ``nn.Linear`` input synapse (W_ih, b_ih) + :class:`SelectiveUpdate`, a ``SpikingNeuron``
                subclass with state ``h`` (LSTM: also ``c``) and its recurrent synapse (W_hh, b_hh)
readout         ``nn.Linear`` (W_o, b_o) read through a sigma accumulator
==============  ==========================================================================================

The gate modules (``surnn_neuro.converters._event_gates``), the update rule
(:func:`surnn_neuro.models.functional.su_step`) and the loop over time
(:func:`surnn_neuro.models.functional.su_loop`) are the ones the Norse adapter and the trainable
model run; this module contributes snnTorch's neurons, its ``nn.Linear`` synapses and its way of
accumulating sigmas step by step. Layers run one after the other over the whole sequence (layer
l + 1 needs only layer l's events of the same step), which computes exactly the step-interleaved
result.

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
``f − h`` into the gate (``models.functional.select``); the gate neurons' surrogate is snnTorch's ATan by
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
  pickle; :class:`ATan` and :class:`StraightThroughSpike` call the same autograd Functions from small
  picklable classes.
- Only snnTorch's public API is used (``snntorch.SpikingNeuron``, ``snntorch.Leaky``,
  ``snntorch.surrogate``).
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

from surnn_neuro.converters._event_gates import GATES, Idiom, accumulate, gate_module
from surnn_neuro.converters._spiking_common import SpikingNetwork, check_runnable, linear
from surnn_neuro.ir.cells import cell_spec
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.models.functional import SUParameters, SUState, su_loop, su_step

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
class StraightThroughSpike:
    """snnTorch's straight-through estimator as a spike function: forward ``[x > 0]`` (spikes),
    backward identity (picklable). Not :class:`surnn_neuro.models.surrogates.StraightThrough`, which
    is a pseudo-derivative ``s(a)`` (a boxcar) for our own Heaviside."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return snn_surrogate.StraightThroughEstimator.apply(x)


def _forget(neuron: snn.SpikingNeuron) -> snn.SpikingNeuron:
    """Remove ``neuron`` from snnTorch's class-level instance list (by identity, nothing else)."""
    instances = snn.SpikingNeuron.instances
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


def _linear(w, b) -> nn.Linear:
    """``nn.Linear`` holding ``W: (out, in)`` and ``b: (out,)`` (float64 until the network is cast)."""
    w = np.asarray(w, dtype=np.float64)
    lin = nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w))
        lin.bias.copy_(torch.tensor(np.asarray(b, dtype=np.float64)))
    return lin


def _idiom(spike_grad) -> Idiom:
    """snnTorch's neurons (``Leaky``; the skip gate with the straight-through estimator) and
    ``nn.Linear`` input synapses."""

    def neuron(threshold, kind):
        return gate_neuron(threshold, StraightThroughSpike() if kind == "global" else spike_grad)

    def attach(module, w, b):
        module.synapse = _linear(w, b)
        return "synapse.weight", "synapse.bias"

    return Idiom(neuron, attach)


# ------------------------------------------------------------------------------------------------
# the selective-update state neuron
# ------------------------------------------------------------------------------------------------


class SelectiveUpdate(snn.SpikingNeuron):
    """Selective-update state neuron in snnTorch's style (explicit states in and out).

    ``delta, h, c, rec = neuron(input_, gate, h, c, rec)``: one step of
    :func:`surnn_neuro.models.functional.su_step` in its event form,

        f, c' = cell(input_, rec, h, c)          input_ = S_in (B, G·H), rec = S_rec = W_hh h + b_hh
        h_t   = where(gate, f, h)  (c likewise)  exact copy where closed
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
        g = cell_spec(cell).n_blocks
        self.cell = cell
        self.hidden_size = int(hidden_size)
        self.recurrent = nn.Linear(self.hidden_size, g * self.hidden_size, dtype=torch.float64)
        if weight_hh is not None:
            with torch.no_grad():
                self.recurrent.weight.copy_(torch.tensor(np.asarray(weight_hh, dtype=np.float64)))
                self.recurrent.bias.copy_(torch.tensor(np.asarray(bias_hh, dtype=np.float64)))

    @property
    def p(self) -> SUParameters:
        return SUParameters(self.cell, self.recurrent.weight, self.recurrent.bias)

    def init_selective_update(self, batch: int, like: torch.Tensor):
        """States at t = −1: ``h = 0``, ``c = 0`` (LSTM, else None), ``rec = b_hh`` (B, G·H)."""
        h = like.new_zeros(batch, self.hidden_size)
        c = like.new_zeros(batch, self.hidden_size) if self.cell == "lstm" else None
        rec = self.recurrent.bias.to(like.dtype).expand(batch, -1)
        return h, c, rec

    def forward(self, input_, gate, h, c, rec):
        delta, s = su_step(input_, gate, SUState(h, c, rec), self.p)
        return delta, s.h, s.c, s.rec


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
        self.gate = gate_module(gate_node, _idiom(spike_grad), learn_omega, who="to_snntorch")
        self.neuron = SelectiveUpdate(layer_node.cell, layer_node.hidden_size, layer_node.w_hh, layer_node.b_hh)

    def run(self, events, rebuild: bool):
        """The layer over the sequence: ``events`` (T, B, V) are the input values (``rebuild``: the
        input sigma is ``W x_t + b`` every step) or input events (accumulated step by step).
        Returns the delta events (T tensors (B, H)) and the gate spikes (T, B, H)."""
        n_t, n_b, _ = events.shape
        syn = self.gate.input_synapse()
        if rebuild:
            drive = self.synapse(events).unbind(0)
            gate_drive = F.linear(events, *syn).unbind(0) if syn is not None else None
        else:
            ev = events.unbind(0)
            drive = accumulate(self.synapse.bias, self.synapse.weight, ev)
            gate_drive = accumulate(syn[1], syn[0], ev) if syn is not None else None
        h, c, rec = self.neuron.init_selective_update(n_b, events)
        run = su_loop(drive, self.neuron.p, self.gate, SUState(h, c, rec), gate_drive)
        return run.delta, torch.stack([g.expand(n_b, self.hidden_size) for g in run.gate])


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
            neuron = getattr(layer.gate, "neuron", None)
            if neuron is not None:
                yield neuron

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
        rebuild = self.encoding in ("dense", "spikes")  # input-node events rebuild the first input sigma
        events = x if rebuild else torch.diff(x, dim=0, prepend=torch.zeros_like(x[:1]))  # delta: x_t − x_{t−1}
        gates = []
        for layer in self.layers:
            deltas, spikes = layer.run(events, rebuild)
            gates.append(spikes)
            events, rebuild = torch.stack(deltas), False
        outs = accumulate(self.readout.bias, self.readout.weight, events.unbind(0))
        if self.readout_mode == "last":
            out = outs[-1]
        elif self.readout_mode == "mean":
            out = torch.stack(outs).mean(0)
        else:
            out = torch.stack(outs)
        return out, gates


# ------------------------------------------------------------------------------------------------
# spiking (LIF / CubaLIF) layers: snnTorch's Leaky and Synaptic
# ------------------------------------------------------------------------------------------------

#: reset of a spiking layer (ir.spiking.RESETS) -> snnTorch's (reset_mechanism, reset_delay)
SNNTORCH_RESETS = {"value": ("zero", False), "subtract": ("subtract", False), "subtract-delayed": ("subtract", True)}


class SnnTorchSpikingLayer(nn.Module):
    """A spiking layer (docs/semantics.md §5) run by snnTorch's own neuron: ``snn.Synaptic`` (cubalif)
    or ``snn.Leaky`` (lif), states passed in and out at every step.

    The layer's update in Lava's variables (``û = dv·r·I``, ``v̂ = v − v_reset``) *is* snnTorch's:
    ``syn_t = α syn_{t−1} + input_t``, ``mem_t = β mem_{t−1} + syn_t`` with ``α = 1 − du``,
    ``β = 1 − dv``, ``threshold = v_threshold − v_reset`` (strict, snnTorch fires on ``mem − thr > 0``),
    ``input_t = (s⊙W) x_t + (s⊙W_rec) z_{t−1} + s⊙b`` (``synapse`` and ``recurrent``, two
    ``nn.Linear``). snnTorch has no constant voltage drive, so ``c_v = dv (v_leak − v_reset)`` rides on
    the current: ``syn = û + c_v`` starts at ``c_v`` and takes ``du·c_v`` more input per step
    (exact in value, rounded differently from the reference when ``c_v ≠ 0``). ``mem`` starts at
    ``−v_reset`` (v = 0). Resets (:data:`SNNTORCH_RESETS`): ``value`` is ``reset_mechanism="zero"``
    with ``reset_delay=False``; the two subtractions are snnTorch's ``"subtract"`` without and with
    its delay. With ``c_v = 0`` every addition is done in the reference's order, so spikes agree to
    the rounding of the weight sums (identical in the tests).
    """

    def __init__(self, node, spike_grad=None):
        super().__init__()
        check_runnable(node, "snntorch backend")
        k = node.constants()
        self.name, self.cuba = node.name, node.neuron == "cubalif"
        mechanism, delay = SNNTORCH_RESETS[node.reset]
        self.synapse = linear(k.w_eff, k.c + k.du * k.beta)
        self.recurrent = linear(k.w_rec_eff) if node.recurrent else None
        common = dict(beta=torch.tensor(1.0 - k.dv), threshold=torch.tensor(k.theta), reset_mechanism=mechanism,
                      reset_delay=delay, spike_grad=spike_grad if spike_grad is not None else ATan())
        self.neuron = _forget(snn.Synaptic(alpha=torch.tensor(1.0 - k.du), **common) if self.cuba else
                              snn.Leaky(**common))
        self.register_buffer("syn0", torch.tensor(k.beta))  # syn = û + c_v, û_{−1} = 0
        self.register_buffer("mem0", torch.tensor(k.v0))

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, B, H)`` for the input spikes (or values) ``x: (T, B, V)``."""
        cur = self.synapse(x)
        n_t, n_b, h = cur.shape
        syn, mem = self.syn0.expand(n_b, h), self.mem0.expand(n_b, h)
        rec = cur.new_zeros(n_b, h)  # W_rec z_{t−1}, z_{−1} = 0
        out = []
        try:
            for t in range(n_t):
                a = cur[t] if self.recurrent is None else cur[t] + rec
                if self.cuba:
                    spk, syn, mem = self.neuron(a, syn, mem)
                else:
                    spk, mem = self.neuron(a, mem)
                z = spk.to(a.dtype)  # snnTorch's surrogates return float32 spikes
                if self.recurrent is not None:  # sent now, used at t + 1 (counted when sent, §4)
                    rec = self.recurrent(z)
                out.append(z)
        finally:
            self.neuron.reset_mem()  # the neuron's state buffers: the module holds no graph
        return torch.stack(out)


def to_snntorch(graph: EventGraph, dtype=torch.float32, spike_grad=None, learn_omega: bool = False) -> nn.Module:
    """Build the snnTorch network of ``graph`` (weights copied from the graph, cast to ``dtype``):
    a :class:`SnnTorchNetwork` for selective-update graphs, a
    :class:`~surnn_neuro.converters._spiking_common.SpikingNetwork` of :class:`SnnTorchSpikingLayer`
    for spiking ones (same ``forward`` interface).

    ``spike_grad``: surrogate of the oscillator and threshold gate neurons and of the spiking
    neurons (default :class:`ATan`, snnTorch's default; any picklable callable, e.g.
    :class:`StraightThroughSpike`). The skip gate always uses :class:`StraightThroughSpike`. ``learn_omega``:
    make the oscillator frequencies trainable.
    """
    if not isinstance(graph, EventGraph):
        raise ValueError(f"to_snntorch: expected an EventGraph, got {type(graph).__name__}")
    if graph.spiking:
        return SpikingNetwork(graph, [SnnTorchSpikingLayer(ly, spike_grad) for ly in graph.layers]).to(dtype)
    return SnnTorchNetwork(graph, spike_grad=spike_grad, learn_omega=learn_omega).to(dtype)


__all__ = ["ATan", "GATES", "SNNTORCH_RESETS", "SelectiveUpdate", "SnnTorchLayer", "SnnTorchNetwork",
           "SnnTorchSpikingLayer", "StraightThroughSpike", "gate_neuron",
           "to_snntorch"]
