"""Event graph → Norse network: pure step functions with NamedTuple states, thin module shells.

    net = to_norse(graph, dtype=torch.float64)
    outputs, gates = net(x)        # x: (T, B, V); outputs (B, O) or (T, B, O); gates [(T, B, H)]

Written the way Norse writes neurons (``norse.torch.functional`` vs ``norse.torch.module``): each
neuron is a pure function ``step(input, state, p) -> (output, new_state)`` over a ``NamedTuple``
state and a ``NamedTuple`` of parameters; modules only own the ``nn.Parameter`` tensors, build the
parameter tuple and call the function. Time is the first axis and one loop owns it
(:func:`surnn_neuro.models.functional.su_loop`); layers run one after the other over the whole
sequence (layer l + 1 needs layer l's events of the same step only). The update rule
(:func:`surnn_neuro.models.functional.su_step`), the gate steps and the gate modules
(``surnn_neuro.converters._event_gates``) are the ones the snnTorch adapter and the trainable model
run; this module contributes Norse's ``threshold`` as the gate neurons, raw parameters as synapses,
and sigmas formed as one matmul and a running sum.

==============  ==========================================================================================
graph node      Norse functions (and module)
==============  ==========================================================================================
layer           :func:`su_step` ``(input, gate, SUState, SUParameters) -> (Δ, SUState)``, module
                :class:`SUCell`; :class:`SelectiveUpdateLayer` adds the input synapse and the gate
oscillator      :func:`oscillator_gate` ``(T, OscillatorParameters, method, alpha) -> (T, H) spikes``:
                Norse's ``threshold(a_t, method, alpha)`` on ``a_t = b + Σ_k α_k sin(ω_k t + φ_k)``
threshold       :func:`threshold_gate_step` / :func:`threshold_gate_receive`: ``threshold(w_self ⊙ h +
                W_in x + bias)``, ``w_self ⊙ h`` in :class:`ThresholdGateState`
global          :func:`global_gate_step` / :func:`global_gate_receive`: ``threshold(ũ − 0.5)`` per sample,
                :class:`GlobalGateState` ``(ũ, Δũ, w·h)``
schedule        :func:`schedule_gate` (a fixed spike train)
always          a spike at every step
readout         ``W_o`` read through a sigma accumulator
==============  ==========================================================================================

Events and sigma accumulators follow docs/semantics.md §3 exactly as in
:mod:`surnn_neuro.converters.to_snntorch`: state neurons emit ``Δ = h_t − h_{t−1}`` where their gate
spiked (exactly 0 elsewhere); every consumer keeps ``S = W·h`` and adds ``W Δ``. With the whole
sequence of a layer's input events at hand, the input sigma of a layer is ``b + cumsum_t(W·events_t)``
(the same running sum, one matmul for all steps); input encoding ``dense``/``spikes`` rebuilds the
first layer's ``S_in = W_ih x_t + b_ih`` instead.

Gradients reach every weight and gate parameter (``omega`` frozen unless ``learn_omega``): identity
through a closed gate, ``f − h`` into an open one, then the threshold function's surrogate. Exact
zeros of the graph (clockwork's recurrent mask) are ordinary weights: training may make them non-zero.

Spike thresholds use ``norse.torch.functional.threshold.threshold(x, method, alpha)``, which fires on
``x > 0`` (**strict**, Norse's ``heaviside``: ``torch.gt``), default ``method="super"`` (SuperSpike).
Norse 1.1.0 details: ``method="heaviside"`` has no gradient at all (``torch.gt``), and the SuperSpike
backward ignores ``alpha`` (it is ``1 / (|x| + 1)²`` whatever ``alpha`` says).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

with warnings.catch_warnings():
    # norse 1.1.0 decorates functions with torch.jit.script at import: torch warns once per function
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated", category=DeprecationWarning)
    from norse.torch.functional.threshold import threshold
    from norse.torch import (LIBoxParameters, LIBoxState, LIFBoxFeedForwardState, LIFBoxParameters,
                             li_box_feed_forward_step, lif_box_feed_forward_step, reset_value)

from surnn_neuro.converters._event_gates import GATES, Idiom, gate_module, param
from surnn_neuro.converters._spiking_common import SpikingNetwork, check_runnable, linear
from surnn_neuro.ir.cells import cell_spec
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.models.functional import (OscillatorParameters, SkipParameters, SkipState, SUParameters, SUState,
                                           ThresholdState, oscillator_drive, schedule_train, skip_initial_state,
                                           skip_receive, su_initial_state, su_loop, su_step, threshold_drive,
                                           threshold_receive)

#: The methods of Norse's ``threshold``: all fire on ``x > 0`` (strict) and differ in the gradient.
METHODS = ("super", "heaviside", "triangle", "tanh", "circ", "heavi_erfc")

#: Norse-style names of the shared state tuples.
ThresholdGateState = ThresholdState
GlobalGateState = SkipState
schedule_gate = schedule_train


def _check_method(method: str):
    if method not in METHODS:
        raise ValueError(f"unknown threshold method {method!r}; known: {', '.join(METHODS)}")


# ------------------------------------------------------------------------------------------------
# gate neurons: Norse's threshold around the shared gate steps (functional)
# ------------------------------------------------------------------------------------------------


def oscillator_gate(n_steps: int, p: OscillatorParameters, method: str = "super", alpha: float = 100.0) -> torch.Tensor:
    """Spikes ``[a_t > 0]``: (T, H) float64 (input-independent, shared by the batch)."""
    return threshold(oscillator_drive(n_steps, p), method, alpha)


class ThresholdGateParameters(NamedTuple):
    """SA-RNN coordinator: ``g = Θ(w_self ⊙ h_{t-1} + W_in x_t + bias)``.

    Parameters:
        w_self (torch.Tensor): diagonal hidden-to-gate weights, (H,)
        method (str): Norse threshold method
        alpha (float): its hyperparameter
    """

    w_self: torch.Tensor
    method: str = "super"
    alpha: float = 100.0


def threshold_gate_step(
    input_tensor: torch.Tensor, state: ThresholdGateState, p: ThresholdGateParameters
) -> Tuple[torch.Tensor, ThresholdGateState]:
    """``z = Θ(S_self + S_gate)`` (strict > 0); ``input_tensor`` is ``S_gate = W_in x_t + bias`` (B, H)."""
    return threshold(threshold_drive(state.s_self, input_tensor), p.method, p.alpha), state


def threshold_gate_receive(delta: torch.Tensor, state: ThresholdGateState,
                           p: ThresholdGateParameters) -> ThresholdGateState:
    """The layer's own delta events: ``S_self ← S_self + w_self ⊙ Δ``."""
    return threshold_receive(delta, state, p.w_self)


class GlobalGateParameters(NamedTuple):
    """Skip-RNN gate: one bit per sample, ``u_t = Θ(ũ_t − 0.5)``.

    Parameters:
        weight (torch.Tensor): w in ``Δũ = σ(w·h_t + b)``, (H,)
        bias (torch.Tensor): b, scalar
        init_prob (float): ũ_0
        method (str): Norse threshold method
        alpha (float): its hyperparameter
    """

    weight: torch.Tensor
    bias: torch.Tensor
    init_prob: float = 1.0
    method: str = "super"
    alpha: float = 100.0

    @property
    def skip(self) -> SkipParameters:
        return SkipParameters(self.weight, self.bias, self.init_prob)


def global_gate_initial_state(batch: int, p: GlobalGateParameters, like: torch.Tensor) -> GlobalGateState:
    """``ũ_0 = init_prob``, ``w·h_{-1} = 0``, ``Δũ = σ(b)``."""
    return skip_initial_state(batch, p.skip, like)


def global_gate_step(state: GlobalGateState, p: GlobalGateParameters) -> Tuple[torch.Tensor, GlobalGateState]:
    """``u_t = Θ(ũ_t − 0.5)``: (B, 1) (``ũ − 0.5 > 0 ⇔ ũ > 0.5`` exactly in floating point)."""
    return threshold(state.u_tilde - 0.5, p.method, p.alpha), state


def global_gate_receive(delta: torch.Tensor, u: torch.Tensor, state: GlobalGateState,
                        p: GlobalGateParameters) -> GlobalGateState:
    """``S += w·Δ``; ``Δũ = σ(S + b)`` after an update (else kept);
    ``ũ_{t+1} = u Δũ + (1 − u)(ũ + min(Δũ, 1 − ũ))``."""
    return skip_receive(delta, u, state, p.skip)


class NorseThreshold(nn.Module):
    """A gate neuron as Norse fires it: ``z = threshold(drive − θ, method, alpha)`` (strict > 0,
    memoryless: ``mem`` passes through)."""

    def __init__(self, theta: float, method: str, alpha: float):
        super().__init__()
        self.theta, self.method, self.alpha = float(theta), method, float(alpha)

    def forward(self, drive, mem):
        return threshold(drive - self.theta, self.method, self.alpha), mem


def _idiom(method: str, alpha: float) -> Idiom:
    """Norse's ``threshold`` as gate neurons; the gate's input synapse as raw parameters."""

    def attach(module, w, b):
        module.input_weight = param(w)
        module.input_bias = param(b)
        return "input_weight", "input_bias"

    return Idiom(lambda theta, kind: NorseThreshold(theta, method, alpha), attach)


# ------------------------------------------------------------------------------------------------
# modules (thin shells): parameters + the functions above
# ------------------------------------------------------------------------------------------------


class SUCell(nn.Module):
    """Selective-update neurons *without* time (Norse's ``*Cell`` convention).

    ``delta, state = cell(input_tensor, gate, state=None)`` calls :func:`su_step`; the state falls back
    to :meth:`initial_state`. Owns ``weight_hh`` (G·H, H) and ``bias_hh`` (G·H,).
    """

    def __init__(self, cell: str, hidden_size: int, weight_hh=None, bias_hh=None):
        super().__init__()
        g = cell_spec(cell).n_blocks
        self.cell = cell
        self.hidden_size = int(hidden_size)
        if weight_hh is None or bias_hh is None:  # torch.nn.*Cell init
            bound = 1.0 / self.hidden_size ** 0.5
            weight_hh = torch.empty(g * self.hidden_size, self.hidden_size).uniform_(-bound, bound).numpy()
            bias_hh = torch.empty(g * self.hidden_size).uniform_(-bound, bound).numpy()
        self.weight_hh = param(weight_hh)
        self.bias_hh = param(bias_hh)

    @property
    def p(self) -> SUParameters:
        return SUParameters(self.cell, self.weight_hh, self.bias_hh)

    def initial_state(self, input_tensor: torch.Tensor) -> SUState:
        return su_initial_state(input_tensor.shape[0], self.p, input_tensor)

    def forward(self, input_tensor: torch.Tensor, gate: torch.Tensor, state: Optional[SUState] = None):
        state = state if state is not None else self.initial_state(input_tensor)
        return su_step(input_tensor, gate, state, self.p)


def _sigma(events: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, accumulate: bool) -> torch.Tensor:
    """Input sigma for all steps, (T, B, rows): ``b + Σ_{s≤t} W e_s`` (events) or ``W x_t + b`` (rebuild)."""
    if accumulate:
        return bias + torch.cumsum(F.linear(events, weight), dim=0)
    return F.linear(events, weight, bias)


class SelectiveUpdateLayer(nn.Module):
    """One selective-update layer *with* time (Norse's ``SNN`` convention, time-first).

    ``deltas, spikes = layer(events, accumulate=True)``: ``events: (T, B, V)`` are the input events
    (delta events of the previous layer or of a ``delta``-encoded input; with ``accumulate=False``,
    the input values ``x_t`` that rebuild the input sigma). Returns ``deltas: (T, B, H)`` and the gate
    spikes ``(T, B, H)``.
    """

    def __init__(self, layer_node, gate_node, method="super", alpha=100.0, learn_omega=False):
        super().__init__()
        self.name = layer_node.name
        self.hidden_size = layer_node.hidden_size
        self.input_weight = param(layer_node.w_ih)
        self.input_bias = param(layer_node.b_ih)
        self.cell = SUCell(layer_node.cell, layer_node.hidden_size, layer_node.w_hh, layer_node.b_hh)
        self.gate = gate_module(gate_node, _idiom(method, alpha), learn_omega, who="to_norse")

    def forward(self, events: torch.Tensor, accumulate: bool = True):
        n_b = events.shape[1]
        s_in = _sigma(events, self.input_weight, self.input_bias, accumulate)
        syn = self.gate.input_synapse()
        s_gate = _sigma(events, syn[0], syn[1], accumulate).unbind(0) if syn is not None else None
        p = self.cell.p
        run = su_loop(s_in.unbind(0), p, self.gate, su_initial_state(n_b, p, events), s_gate)
        return torch.stack(run.delta), torch.stack([z.expand(n_b, self.hidden_size) for z in run.gate])


class NorseNetwork(nn.Module):
    """An event graph as a Norse-style network (see the module docstring).

    ``forward(x: (T, B, V)) -> (outputs, gates)``: ``outputs`` (B, O) for readout ``last``/``mean``,
    (T, B, O) for ``all``; ``gates`` one (T, B, H) spike tensor per layer (the interface of
    :class:`surnn_neuro.models.SelectiveUpdateNetwork`).
    """

    def __init__(self, graph: EventGraph, method: str = "super", alpha: float = 100.0, learn_omega: bool = False):
        super().__init__()
        _check_method(method)
        self.encoding = graph.input.encoding
        self.input_size = graph.input.size
        self.layer_names = tuple(graph.layer_names)
        self.layers = nn.ModuleList(
            SelectiveUpdateLayer(layer, graph.gate_of(layer.name), method, alpha, learn_omega)
            for layer in graph.layers
        )
        ro = graph.readout
        self.readout_weight = param(ro.weight)
        self.readout_bias = param(ro.bias)
        self.readout_mode = ro.mode

    def forward(self, x: torch.Tensor):
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"expected x of shape (T, B, V={self.input_size}), got {tuple(x.shape)}")
        if self.encoding == "delta":  # d_t = x_t − x_{t−1}, x_{−1} = 0: accumulated events
            events, accumulate = torch.diff(x, dim=0, prepend=torch.zeros_like(x[:1])), True
        else:  # dense / spikes: the values rebuild the first input sigma every step
            events, accumulate = x, False
        gates = []
        for layer in self.layers:
            events, spikes = layer(events, accumulate)
            gates.append(spikes)
            accumulate = True
        y = _sigma(events, self.readout_weight, self.readout_bias, accumulate=True)  # (T, B, O)
        if self.readout_mode == "last":
            return y[-1], gates
        if self.readout_mode == "mean":
            return y.mean(0), gates
        return y, gates


# ------------------------------------------------------------------------------------------------
# spiking (LIF / CubaLIF) layers: Norse's box step functions, as Norse runs NIR's LIF and CubaLIF
# ------------------------------------------------------------------------------------------------


def reset_none(z, v, reset, th):
    """No reset after the threshold (a Norse ``ResetMethod``): the subtractions of snnTorch's rules
    are applied around the step instead (:class:`NorseSpikingLayer`)."""
    return v


#: reset of a spiking layer (ir.spiking.RESETS) -> Norse ResetMethod
NORSE_RESETS = {"value": reset_value, "subtract": reset_none, "subtract-delayed": reset_none}


class NorseSpikingLayer(nn.Module):
    """A spiking layer (docs/semantics.md §5) run by Norse's step functions, the ones Norse itself
    runs NIR's neurons with (``norse.torch.utils.import_nir``): CubaLIF = ``li_box_feed_forward_step``
    (the synapse ``I += dt/τ_syn (−I + w_in S)``) then ``lif_box_feed_forward_step``
    (``v += dt/τ_mem (v_leak − v + r I)``, strict threshold, reset); LIF = the second alone with
    ``I = S``. ``S_t = W x_t + b + W_rec z_{t−1}`` (``synapse`` and ``recurrent``, ``nn.Linear``).

    Physical variables (Norse's): ``v`` starts at 0, ``I`` at 0. Unlike Norse's own ``from_nir`` the
    synapse has no ``v_leak`` (NIR's CubaLIF synapse has none) and a LIF's ``r`` is applied (Norse's
    import ignores it with a warning). Resets: ``value`` is Norse's ``reset_value``; Norse has no
    reset method for snnTorch's two subtractions of ``θ = v_threshold − v_reset``
    (docs/semantics.md §5), so they are applied around Norse's step: ``−(θ/dv)·z_{t−1}``
    (``subtract-delayed``) or ``−(θ/dv)·ρ_t`` (``subtract``) added to the voltage input (so that
    ``dv·input`` subtracts θ), and for ``subtract`` ``v −= θ (z − ρ)`` after it. The arithmetic is
    Norse's (``v + dv·(…)``), so spikes agree with the reference to the rounding of the two forms
    (identical in the tests).

    Norse's ``LIFCell`` step (``lif_feed_forward_step``) computes the same CubaLIF update in other
    variables (``w_in = τ_syn/dt``), but its reset is fixed to ``v_reset``; the box pair takes a
    ``reset_method`` and NIR's ``w_in`` and ``r`` as they are, as Norse's own import does.
    """

    def __init__(self, node, method: str = "super", alpha: float = 100.0):
        super().__init__()
        check_runnable(node, "norse backend")
        self.name, self.cuba, self.reset = node.name, node.neuron == "cubalif", node.reset
        self.dt, self.method, self.alpha = float(node.dt), method, float(alpha)
        self.synapse = linear(node.weight, node.bias)
        self.recurrent = linear(node.w_rec) if node.recurrent else None
        k = node.constants()
        for name, value in (("w_in", node.w_in), ("r", node.r), ("tau_syn_inv", 1.0 / node.tau_syn),
                            ("tau_mem_inv", 1.0 / node.tau_mem), ("v_leak", node.v_leak),
                            ("v_th", node.v_threshold), ("v_reset", node.v_reset), ("theta", k.theta),
                            ("theta_dv", k.theta / k.dv)):
            self.register_buffer(name, torch.tensor(np.asarray(value, dtype=np.float64)))

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, B, H)`` for the input spikes (or values) ``x: (T, B, V)``."""
        s_ff = self.synapse(x)
        n_t, n_b, h = s_ff.shape
        p_lif = LIFBoxParameters(tau_mem_inv=self.tau_mem_inv, v_leak=self.v_leak, v_th=self.v_th,
                                 v_reset=self.v_reset, method=self.method, alpha=self.alpha,
                                 reset_method=NORSE_RESETS[self.reset])
        p_syn = LIBoxParameters(tau_mem_inv=self.tau_syn_inv, v_leak=torch.zeros_like(self.v_leak))
        s_syn, s_lif = LIBoxState(v=s_ff.new_zeros(n_b, h)), LIFBoxFeedForwardState(v=s_ff.new_zeros(n_b, h))
        z = s_ff.new_zeros(n_b, h)
        rec = s_ff.new_zeros(n_b, h)  # W_rec z_{t−1}, z_{−1} = 0
        out = []
        for t in range(n_t):
            s = s_ff[t] if self.recurrent is None else s_ff[t] + rec
            if self.cuba:
                i, s_syn = li_box_feed_forward_step(self.w_in * s, s_syn, p_syn, self.dt)
            else:
                i = s
            drive = self.r * i
            if self.reset == "subtract-delayed":
                drive = drive - self.theta_dv * z
            elif self.reset == "subtract":
                rho = (s_lif.v > self.v_th).to(drive.dtype)  # left above θ by the last subtraction
                drive = drive - self.theta_dv * rho
            z, s_lif = lif_box_feed_forward_step(drive, s_lif, p_lif, self.dt)
            if self.reset == "subtract":
                s_lif = LIFBoxFeedForwardState(v=s_lif.v - self.theta * (z - rho))
            if self.recurrent is not None:  # sent now, used at t + 1
                rec = self.recurrent(z)
            out.append(z)
        return torch.stack(out)


def to_norse(graph: EventGraph, dtype=torch.float32, method: str = "super", alpha: float = 100.0,
             learn_omega: bool = False) -> nn.Module:
    """Build the Norse network of ``graph`` (weights copied from the graph, cast to ``dtype``): a
    :class:`NorseNetwork` for selective-update graphs, a
    :class:`~surnn_neuro.converters._spiking_common.SpikingNetwork` of :class:`NorseSpikingLayer`
    for spiking ones (same ``forward`` interface).

    ``method``, ``alpha``: the Norse threshold function of every gate and spiking neuron (forward
    ``[x > 0]``; default SuperSpike). ``learn_omega``: make the oscillator frequencies trainable.
    """
    if not isinstance(graph, EventGraph):
        raise ValueError(f"to_norse: expected an EventGraph, got {type(graph).__name__}")
    _check_method(method)
    if graph.spiking:
        return SpikingNetwork(graph, [NorseSpikingLayer(ly, method, alpha) for ly in graph.layers]).to(dtype)
    return NorseNetwork(graph, method=method, alpha=alpha, learn_omega=learn_omega).to(dtype)


__all__ = [
    "GATES", "GlobalGateParameters", "GlobalGateState", "METHODS", "NORSE_RESETS", "NorseNetwork", "NorseSpikingLayer",
    "NorseThreshold",
    "SUCell", "SUParameters", "SUState", "SelectiveUpdateLayer", "ThresholdGateParameters", "ThresholdGateState",
    "global_gate_initial_state", "global_gate_receive", "global_gate_step", "oscillator_gate", "schedule_gate",
    "su_initial_state", "su_step", "threshold_gate_receive", "threshold_gate_step", "to_norse",
]
