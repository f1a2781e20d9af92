"""Event graph → Norse network: pure step functions with NamedTuple states, thin module shells.

    net = to_norse(graph, dtype=torch.float64)
    outputs, gates = net(x)        # x: (T, B, V); outputs (B, O) or (T, B, O); gates [(T, B, H)]

Written the way Norse writes neurons (``norse.torch.functional`` vs ``norse.torch.module``): each
neuron is a pure function ``step(input, state, p) -> (output, new_state)`` over a ``NamedTuple``
state and a ``NamedTuple`` of parameters; modules only own the ``nn.Parameter`` tensors, build the
parameter tuple and call the function. Time is the first axis and one loop owns it; layers run one
after the other over the whole sequence (layer l + 1 needs layer l's events of the same step only).

==============  ==========================================================================================
graph node      Norse functions (and module)
==============  ==========================================================================================
layer           :func:`su_step` ``(input, gate, SUState, SUParameters) -> (Δ, SUState)``, module
                :class:`SUCell`; :class:`SelectiveUpdateLayer` adds the input synapse and the gate
oscillator      :func:`oscillator_gate` ``(T, OscillatorGateParameters) -> (T, H) spikes``: Norse's
                ``threshold(a_t, method, alpha)`` on ``a_t = b + Σ_k α_k sin(ω_k t + φ_k)`` (float64)
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

from surnn_neuro.models.cells import candidate
from surnn_neuro.errors import UserError
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import CELL_GATES
from surnn_neuro.models.layer import select

#: The methods of Norse's ``threshold``: all fire on ``x > 0`` (strict) and differ in the gradient.
METHODS = ("super", "heaviside", "triangle", "tanh", "circ", "heavi_erfc")


def _check_method(method: str):
    if method not in METHODS:
        raise ValueError(f"unknown threshold method {method!r}; known: {', '.join(METHODS)}")


# ------------------------------------------------------------------------------------------------
# the selective-update state neuron: functional
# ------------------------------------------------------------------------------------------------


class SUParameters(NamedTuple):
    """Parameters of selective-update neurons.

    Parameters:
        cell (str): candidate kind, "gru", "rnn" or "lstm" (torch.nn.*Cell gate order)
        weight_hh (torch.Tensor): recurrent weights W_hh, (G·H, H)
        bias_hh (torch.Tensor): recurrent bias b_hh, (G·H,)
    """

    cell: str
    weight_hh: torch.Tensor
    bias_hh: torch.Tensor


class SUState(NamedTuple):
    """State of selective-update neurons.

    Parameters:
        h (torch.Tensor): state h_{t-1}, (B, H)
        c (torch.Tensor): LSTM cell c_{t-1}, (B, H) (zeros and unused for gru, rnn)
        rec (torch.Tensor): recurrent sigma accumulator W_hh h_{t-1} + b_hh, (B, G·H)
    """

    h: torch.Tensor
    c: torch.Tensor
    rec: torch.Tensor


def su_initial_state(batch: int, p: SUParameters, like: torch.Tensor) -> SUState:
    """``h = c = 0``, ``rec = W_hh·0 + b_hh`` (dtype and device of ``like``)."""
    hidden = p.weight_hh.shape[1]
    z = like.new_zeros(batch, hidden)
    return SUState(h=z, c=z, rec=p.bias_hh.to(like.dtype).expand(batch, -1))




def su_step(
    input_tensor: torch.Tensor, gate: torch.Tensor, state: SUState, p: SUParameters
) -> Tuple[torch.Tensor, SUState]:
    r"""One step of selective-update neurons; returns their delta events and the new state.

    .. math::
        \begin{align*}
            f, c' &= \text{cell}(S_\text{in}, S_\text{rec}, h, c) \\
            h_t &= \text{where}(g, f, h), \quad c_t = \text{where}(g, c', c) \\
            \Delta &= h_t - h \quad (0 \text{ exactly where } g = 0) \\
            S_\text{rec} &\leftarrow S_\text{rec} + W_{hh} \Delta \quad (\text{used from step } t + 1)
        \end{align*}

    Parameters:
        input_tensor (torch.Tensor): input sigma ``S_in = W_ih x_t + b_ih``, (B, G·H)
        gate (torch.Tensor): gate spikes in {0, 1}, (B, H), (1, H) or (B, 1)
        state (SUState): state at t − 1
        p (SUParameters): cell kind and recurrent weights

    Gradient: identity through a closed gate, ``f − h`` into the gate (``models.layer.select``).
    """
    f, c_f = candidate(p.cell, input_tensor, state.rec, state.h, state.c)
    h_new = select(gate, f, state.h)
    c_new = select(gate, c_f, state.c) if p.cell == "lstm" else state.c
    delta = h_new - state.h
    rec = state.rec + F.linear(delta, p.weight_hh)
    return delta, SUState(h=h_new, c=c_new, rec=rec)


# ------------------------------------------------------------------------------------------------
# gate neurons: functional
# ------------------------------------------------------------------------------------------------


class OscillatorGateParameters(NamedTuple):
    """suRNN oscillator gate: ``a_{t,i} = bias_i + Σ_k amplitude_{ik} sin(omega_k t + phase_{ik})``.

    Parameters:
        bias (torch.Tensor): (H,)
        amplitude (torch.Tensor): the IR's α, (H, K)
        phase (torch.Tensor): the IR's φ in rad, (H, K)
        omega (torch.Tensor): angular frequencies in rad per step, (K,)
        method (str): Norse threshold method (surrogate gradient)
        alpha (float): its hyperparameter
    """

    bias: torch.Tensor
    amplitude: torch.Tensor
    phase: torch.Tensor
    omega: torch.Tensor
    method: str = "super"
    alpha: float = 100.0


def oscillator_drive(n_steps: int, p: OscillatorGateParameters) -> torch.Tensor:
    """``a: (T, H)`` for t = 0 … T−1, in float64 (decisions identical on every backend)."""
    t = torch.arange(n_steps, dtype=torch.float64, device=p.bias.device)
    phase = p.omega.double()[None, None, :] * t[:, None, None] + p.phase.double()[None]
    return p.bias.double() + (p.amplitude.double()[None] * torch.sin(phase)).sum(-1)


def oscillator_gate(n_steps: int, p: OscillatorGateParameters) -> torch.Tensor:
    """Spikes ``[a_t > 0]``: (T, H) float64 (input-independent, shared by the batch)."""
    return threshold(oscillator_drive(n_steps, p), p.method, p.alpha)


def schedule_gate(n_steps: int, mask: torch.Tensor, periodic: bool, name: str = "schedule") -> torch.Tensor:
    """``mask[t mod P]`` (periodic) or ``mask[t]`` (``T ≤ P``, else :class:`UserError`): (T, H) bool."""
    p = mask.shape[0]
    if periodic:
        return mask[torch.arange(n_steps, device=mask.device) % p]
    if n_steps > p:
        raise UserError(f"ScheduleGate '{name}': non-periodic mask covers {p} steps, input has {n_steps}")
    return mask[:n_steps]


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


class ThresholdGateState(NamedTuple):
    """State of threshold gate neurons.

    Parameters:
        s_self (torch.Tensor): sigma accumulator ``w_self ⊙ h_{t-1}``, (B, H)
    """

    s_self: torch.Tensor


def threshold_gate_step(
    input_tensor: torch.Tensor, state: ThresholdGateState, p: ThresholdGateParameters
) -> Tuple[torch.Tensor, ThresholdGateState]:
    """``z = Θ(S_self + S_gate)`` (strict > 0); ``input_tensor`` is ``S_gate = W_in x_t + bias`` (B, H)."""
    return threshold(state.s_self + input_tensor, p.method, p.alpha), state


def threshold_gate_receive(delta: torch.Tensor, state: ThresholdGateState, p: ThresholdGateParameters) -> ThresholdGateState:
    """The layer's own delta events: ``S_self ← S_self + w_self ⊙ Δ``."""
    return ThresholdGateState(s_self=state.s_self + p.w_self * delta)


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


class GlobalGateState(NamedTuple):
    """State of a Skip-RNN gate neuron, each (B, 1).

    Parameters:
        u_tilde (torch.Tensor): update probability ũ_t
        du (torch.Tensor): increment Δũ (from the last update)
        s (torch.Tensor): sigma accumulator ``w·h``
    """

    u_tilde: torch.Tensor
    du: torch.Tensor
    s: torch.Tensor


def global_gate_initial_state(batch: int, p: GlobalGateParameters, like: torch.Tensor) -> GlobalGateState:
    """``ũ_0 = init_prob``, ``w·h_{-1} = 0``, ``Δũ = σ(b)``."""
    s = like.new_zeros(batch, 1)
    return GlobalGateState(u_tilde=torch.full_like(s, p.init_prob), du=torch.sigmoid(s + p.bias), s=s)


def global_gate_step(state: GlobalGateState, p: GlobalGateParameters) -> Tuple[torch.Tensor, GlobalGateState]:
    """``u_t = Θ(ũ_t − 0.5)``: (B, 1) (``ũ − 0.5 > 0 ⇔ ũ > 0.5`` exactly in floating point)."""
    return threshold(state.u_tilde - 0.5, p.method, p.alpha), state


def global_gate_receive(delta: torch.Tensor, u: torch.Tensor, state: GlobalGateState,
                        p: GlobalGateParameters) -> GlobalGateState:
    """``S += w·Δ``; ``Δũ = σ(S + b)`` after an update (else kept);
    ``ũ_{t+1} = u Δũ + (1 − u)(ũ + min(Δũ, 1 − ũ))``."""
    s = state.s + delta @ p.weight[:, None]
    du = u * torch.sigmoid(s + p.bias) + (1 - u) * state.du
    u_tilde = u * du + (1 - u) * (state.u_tilde + torch.minimum(du, 1 - state.u_tilde))
    return GlobalGateState(u_tilde=u_tilde, du=du, s=s)


# ------------------------------------------------------------------------------------------------
# modules (thin shells): parameters + the functions above
# ------------------------------------------------------------------------------------------------


def _param(a, requires_grad: bool = True) -> nn.Parameter:
    return nn.Parameter(torch.tensor(np.asarray(a, dtype=np.float64)), requires_grad=requires_grad)


class SUCell(nn.Module):
    """Selective-update neurons *without* time (Norse's ``*Cell`` convention).

    ``delta, state = cell(input_tensor, gate, state=None)`` calls :func:`su_step`; the state falls back
    to :meth:`initial_state`. Owns ``weight_hh`` (G·H, H) and ``bias_hh`` (G·H,).
    """

    def __init__(self, cell: str, hidden_size: int, weight_hh=None, bias_hh=None):
        super().__init__()
        if cell not in CELL_GATES:
            raise ValueError(f"unknown cell {cell!r}; known: {', '.join(CELL_GATES)}")
        self.cell = cell
        self.hidden_size = int(hidden_size)
        g = CELL_GATES[cell]
        if weight_hh is None or bias_hh is None:  # torch.nn.*Cell init
            bound = 1.0 / self.hidden_size ** 0.5
            weight_hh = torch.empty(g * self.hidden_size, self.hidden_size).uniform_(-bound, bound).numpy()
            bias_hh = torch.empty(g * self.hidden_size).uniform_(-bound, bound).numpy()
        self.weight_hh = _param(weight_hh)
        self.bias_hh = _param(bias_hh)

    @property
    def p(self) -> SUParameters:
        return SUParameters(self.cell, self.weight_hh, self.bias_hh)

    def initial_state(self, input_tensor: torch.Tensor) -> SUState:
        return su_initial_state(input_tensor.shape[0], self.p, input_tensor)

    def forward(self, input_tensor: torch.Tensor, gate: torch.Tensor, state: Optional[SUState] = None):
        state = state if state is not None else self.initial_state(input_tensor)
        return su_step(input_tensor, gate, state, self.p)


# Gate modules share one protocol: begin(n_steps, batch, like) -> state;
# fire(t, drive, state) -> (z, state); receive(delta, z, state) -> state.


class _InputIndependentGate(nn.Module):
    input_weight = None

    def train_spikes(self, n_steps, like):
        raise NotImplementedError

    def begin(self, n_steps, batch, like):
        return self.train_spikes(n_steps, like)

    def fire(self, t, drive, train):
        return train[t].unsqueeze(0), train

    def receive(self, delta, z, train):
        return train


class OscillatorGate(_InputIndependentGate):
    """Module shell of :func:`oscillator_gate` (``omega`` frozen unless ``learn_omega``)."""

    kind = "oscillator"

    def __init__(self, node, method="super", alpha=100.0, learn_omega=False):
        super().__init__()
        self.bias = _param(node.bias)
        self.amplitude = _param(node.alpha)
        self.phase = _param(node.phi)
        self.omega = _param(node.omega, requires_grad=learn_omega)
        self.method, self.alpha = method, float(alpha)

    @property
    def p(self) -> OscillatorGateParameters:
        return OscillatorGateParameters(self.bias, self.amplitude, self.phase, self.omega, self.method, self.alpha)

    def train_spikes(self, n_steps, like):
        return oscillator_gate(n_steps, self.p).to(like.dtype)


class ScheduleGate(_InputIndependentGate):
    """Module shell of :func:`schedule_gate` (mask as a buffer)."""

    kind = "schedule"

    def __init__(self, node, method="super", alpha=100.0, learn_omega=False):
        super().__init__()
        self.register_buffer("mask", torch.from_numpy(np.array(node.mask, dtype=bool)))
        self.periodic = bool(node.periodic)
        self.node_name = node.name

    def train_spikes(self, n_steps, like):
        return schedule_gate(n_steps, self.mask, self.periodic, self.node_name).to(like.dtype)


class AlwaysGate(_InputIndependentGate):
    """A spike at every step."""

    kind = "always"

    def __init__(self, node, method="super", alpha=100.0, learn_omega=False):
        super().__init__()
        self.size = int(node.size)

    def train_spikes(self, n_steps, like):
        return like.new_ones(n_steps, self.size)


class ThresholdGate(nn.Module):
    """Module shell of :func:`threshold_gate_step`; owns W_in (``input_weight``), bias, w_self."""

    kind = "threshold"

    def __init__(self, node, method="super", alpha=100.0, learn_omega=False):
        super().__init__()
        self.input_weight = _param(node.w_in)
        self.input_bias = _param(node.bias)
        self.w_self = _param(node.w_self)
        self.method, self.alpha = method, float(alpha)

    @property
    def p(self) -> ThresholdGateParameters:
        return ThresholdGateParameters(self.w_self, self.method, self.alpha)

    def begin(self, n_steps, batch, like):
        return ThresholdGateState(s_self=like.new_zeros(batch, self.w_self.shape[0]))

    def fire(self, t, drive, state):
        return threshold_gate_step(drive, state, self.p)

    def receive(self, delta, z, state):
        return threshold_gate_receive(delta, state, self.p)


class GlobalGate(nn.Module):
    """Module shell of :func:`global_gate_step` / :func:`global_gate_receive`."""

    kind = "global"
    input_weight = None

    def __init__(self, node, method="super", alpha=100.0, learn_omega=False):
        super().__init__()
        self.weight = _param(node.weight)
        self.bias = _param(node.bias)
        self.init_prob = float(node.init_prob)
        self.method, self.alpha = method, float(alpha)

    @property
    def p(self) -> GlobalGateParameters:
        return GlobalGateParameters(self.weight, self.bias, self.init_prob, self.method, self.alpha)

    def begin(self, n_steps, batch, like):
        return global_gate_initial_state(batch, self.p, like)

    def fire(self, t, drive, state):
        return global_gate_step(state, self.p)

    def receive(self, delta, z, state):
        return global_gate_receive(delta, z, state, self.p)


#: gate node kind -> Norse gate module (one table; unknown kinds fail listing the known ones)
GATES = {
    "oscillator": OscillatorGate,
    "threshold": ThresholdGate,
    "schedule": ScheduleGate,
    "global": GlobalGate,
    "always": AlwaysGate,
}


def gate_module(node, method: str = "super", alpha: float = 100.0, learn_omega: bool = False) -> nn.Module:
    """The Norse gate module of a gate node."""
    try:
        cls = GATES[type(node).kind]
    except KeyError:
        raise ValueError(f"to_norse: no rule for gate kind {type(node).kind!r}; known: {', '.join(GATES)}") from None
    return cls(node, method=method, alpha=alpha, learn_omega=learn_omega)


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
        self.input_weight = _param(layer_node.w_ih)
        self.input_bias = _param(layer_node.b_ih)
        self.cell = SUCell(layer_node.cell, layer_node.hidden_size, layer_node.w_hh, layer_node.b_hh)
        self.gate = gate_module(gate_node, method, alpha, learn_omega)

    def forward(self, events: torch.Tensor, accumulate: bool = True):
        n_t, n_b, _ = events.shape
        s_in = _sigma(events, self.input_weight, self.input_bias, accumulate)
        gate = self.gate
        s_gate = None
        if gate.input_weight is not None:
            s_gate = _sigma(events, gate.input_weight, gate.input_bias, accumulate)
        p = self.cell.p
        state = su_initial_state(n_b, p, events)
        gstate = gate.begin(n_t, n_b, events)
        deltas, spikes = [], []
        for t in range(n_t):
            z, gstate = gate.fire(t, None if s_gate is None else s_gate[t], gstate)
            delta, state = su_step(s_in[t], z, state, p)
            gstate = gate.receive(delta, z, gstate)
            deltas.append(delta)
            spikes.append(z.expand(n_b, self.hidden_size))
        return torch.stack(deltas), torch.stack(spikes)


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
        self.readout_weight = _param(ro.weight)
        self.readout_bias = _param(ro.bias)
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


def to_norse(graph: EventGraph, dtype=torch.float32, method: str = "super", alpha: float = 100.0,
             learn_omega: bool = False) -> NorseNetwork:
    """Build the Norse network of ``graph`` (weights copied from the graph, cast to ``dtype``).

    ``method``, ``alpha``: the Norse threshold function of every gate neuron (forward ``[x > 0]``;
    default SuperSpike). ``learn_omega``: make the oscillator frequencies trainable.
    """
    if not isinstance(graph, EventGraph):
        raise ValueError(f"to_norse: expected an EventGraph, got {type(graph).__name__}")
    return NorseNetwork(graph, method=method, alpha=alpha, learn_omega=learn_omega).to(dtype)


__all__ = [
    "AlwaysGate", "GATES", "GlobalGate", "GlobalGateParameters", "GlobalGateState", "METHODS",
    "NorseNetwork", "OscillatorGate", "OscillatorGateParameters", "SUCell", "SUParameters", "SUState",
    "ScheduleGate", "SelectiveUpdateLayer", "ThresholdGate", "ThresholdGateParameters", "ThresholdGateState",
    "candidate", "gate_module", "global_gate_initial_state", "global_gate_receive", "global_gate_step",
    "oscillator_drive", "oscillator_gate", "schedule_gate", "su_initial_state", "su_step", "threshold_gate_receive",
    "threshold_gate_step", "to_norse",
]
