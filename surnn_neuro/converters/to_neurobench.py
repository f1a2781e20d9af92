"""An event graph (or a trained model) as a torch module that NeuroBench 2.3.0's harness counts right.

    from neurobench.benchmarks import Benchmark
    model = neurobench_model(graph_or_trained_model)          # a neurobench.models.TorchModel
    Benchmark(model, loader, [], [lambda p: p.argmax(-1)],
              [[ConnectionSparsity], [SynapticOperations, ActivationSparsity]]).run()

**Why an adapter, not hooks on the trainable layers.** NeuroBench counts synaptic operations from
the inputs its forward pre-hooks see on ``nn.Linear`` / ``nn.RNNCellBase`` modules (non-zero input ×
non-zero weight, all ACs if every input value is in {−1, 0, 1}), and activation sparsity from the
outputs of registered activation modules. The trainable layer forms ``W_ih x`` for the whole
sequence in one functional product and runs the recurrence in ``su_step``, so the hooks see the
readout alone (issue 13: 320 ops per sample, sparsity 0.0). Making the layers ``nn.GRUCell`` modules
would not fix the numbers: NeuroBench counts a cell as dense work over every neuron at every step (it
cannot see the gate), so a sugru would cost exactly what a gru costs. The energy claims are about the
event-driven execution (docs/semantics.md §3), so this adapter runs that execution with **every
synapse an** ``nn.Linear`` **called on the events it receives**, and NeuroBench's own rule then
counts the event-driven synaptic operations; and it keeps ``models/`` free of a benchmark's needs.

================  ===================================================================================
graph             module (what NeuroBench sees)
================  ===================================================================================
layer l           ``w_ih``: ``nn.Linear(V, G·H)`` called on the layer's input events at every step
                  (layer 1, encoding dense/spikes: the input values ``x_t``, which rebuild
                  ``S_in = W_ih x_t + b_ih``; delta: ``x_t − x_{t−1}``; layer l > 1: the delta events
                  of layer l − 1), accumulated into ``S_in``; ``w_hh``: ``nn.Linear(H, G·H)`` called on
                  the layer's own delta events ``Δ_t`` (0 where the gate is closed), accumulated into
                  ``S_rec = W_hh h + b_hh``; the biases are buffers (NeuroBench ignores biases)
gate              the gate modules of the snnTorch / Norse adapters (``converters._event_gates``); a
                  threshold gate's input synapse ``W_in`` is an ``nn.Linear`` called on the input events
gate decisions    :class:`GateSpikes` ``(B, H)`` per step: the activation module
readout           ``nn.Linear(H, O)`` called on the last layer's delta events every step (a sigma)
spiking layers    :class:`~surnn_neuro.converters.to_snntorch.SnnTorchSpikingLayer`: snnTorch's own
                  neurons (NeuroBench hooks ``snn.SpikingNeuron``), its synapses ``nn.Linear`` on spikes
================  ===================================================================================

What NeuroBench then reports, against the project's own counts (``ir.counting`` via
``metrics.inference_counts``), derived in docs/energy.md §1 and checked in
tests/converters/test_neurobench.py: Effective ops are ours exactly, except that a delta event whose
value happens to be 0 is no input to NeuroBench (ours counts every event sent); NeuroBench's AC/MAC
split is per call (a whole batch step is ACs if all its values are in {−1, 0, 1}), ours per event;
its Dense is ours except the readout (NeuroBench: every step, ours: once for ``last``) and the
element-wise gate synapses (``w_self`` of a threshold gate, the skip gate's ``w``), which are not
``nn.Linear`` and which NeuroBench therefore neither counts nor includes in ConnectionSparsity.

``form="cells"`` builds a dense baseline (layers with an ``always`` gate only) from torch's own
``nn.GRUCell`` / ``nn.RNNCell`` / ``nn.LSTMCell``, which NeuroBench counts natively, including the
element-wise products of the cell (3H per step for a GRU).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from surnn_neuro.converters._event_gates import Idiom, gate_module
from surnn_neuro.converters._spiking_common import SpikingNetwork, linear
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.models.functional import SUParameters, SUState, su_initial_state, su_step

FORMS = ("events", "cells")


class GateSpikes(nn.Module):
    """A layer's gate decisions at one step, ``(B, H)`` in {0, 1}, passed through unchanged: the
    activation module of NeuroBench's ``ActivationSparsity`` (``add_activation_module(GateSpikes)``),
    whose zeros are the closed gates (docs/energy.md §1)."""

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return g


class _Fire(nn.Module):
    """A gate neuron: ``[drive − θ > 0]`` (strict, memoryless; no gradient: this is a measurement)."""

    def __init__(self, theta: float):
        super().__init__()
        self.theta = float(theta)

    def forward(self, drive, mem):
        return (drive - self.theta > 0).to(drive.dtype), mem


def _idiom() -> Idiom:
    def attach(module, w, b):
        module.synapse = linear(w)  # called on the input events: NeuroBench counts W_in
        module.synapse_bias = nn.Parameter(torch.tensor(np.asarray(b, dtype=np.float64)), requires_grad=False)
        return "synapse.weight", "synapse_bias"

    return Idiom(lambda theta, kind: _Fire(theta), attach)


def _buffer(module: nn.Module, name: str, a) -> None:
    module.register_buffer(name, torch.tensor(np.asarray(a, dtype=np.float64)))


class NeuroBenchLayer(nn.Module):
    """One selective-update layer in the event form with ``nn.Linear`` synapses (module table)."""

    def __init__(self, layer_node, gate_node):
        super().__init__()
        self.cell, self.hidden_size = layer_node.cell, layer_node.hidden_size
        self.w_ih = linear(layer_node.w_ih)
        self.w_hh = linear(layer_node.w_hh)
        _buffer(self, "b_ih", layer_node.b_ih)
        _buffer(self, "b_hh", layer_node.b_hh)
        self.gate = gate_module(gate_node, _idiom(), who="to_neurobench")
        self.spikes = GateSpikes()

    def run(self, events: torch.Tensor, rebuild: bool) -> list:
        """The layer over ``events: (T, B, V)`` (input values if ``rebuild``, else input events);
        returns its delta events, T tensors (B, H)."""
        n_t, n_b, _ = events.shape
        p = SUParameters(self.cell, self.w_hh.weight, self.b_hh)
        state = su_initial_state(n_b, p, events)  # h = 0, rec = b_hh
        gstate = self.gate.begin(n_t, n_b, state.h)
        gate_syn = getattr(self.gate, "synapse", None)
        s_in = self.b_ih.expand(n_b, -1)
        s_gate = self.gate.synapse_bias.expand(n_b, -1) if gate_syn is not None else None
        deltas = []
        for t in range(n_t):
            e = events[t]
            s_in = self.w_ih(e) + self.b_ih if rebuild else s_in + self.w_ih(e)
            if gate_syn is not None:
                s_gate = gate_syn(e) + self.gate.synapse_bias if rebuild else s_gate + gate_syn(e)
            g, _, gstate = self.gate.fire(t, s_gate, gstate, state)
            seen = self.spikes(g.expand(n_b, self.hidden_size))
            delta, new = su_step(s_in, seen, state, p)
            # the recurrent synapse as the nn.Linear NeuroBench hooks, called on Δ_t (su_step formed
            # the same product, F.linear with the same weight, for its own state: bit-identical)
            state = SUState(h=new.h, c=new.c, rec=state.rec + self.w_hh(delta))
            gstate = self.gate.receive(delta, g, state, gstate)
            deltas.append(delta)
        return deltas


class NeuroBenchNetwork(nn.Module):
    """A selective-update event graph for NeuroBench (module doc). ``forward(x: (B, T, V))``
    (NeuroBench's batch-first convention) ``-> outputs`` (B, O) for readout ``last``/``mean``,
    (B, T, O) for ``all``."""

    def __init__(self, graph: EventGraph):
        super().__init__()
        self.encoding = graph.input.encoding
        self.layers = nn.ModuleList(NeuroBenchLayer(ly, graph.gate_of(ly.name)) for ly in graph.layers)
        ro = graph.readout
        self.readout = linear(ro.weight)
        _buffer(self, "readout_bias", ro.bias)
        self.readout_mode = ro.mode

    def forward(self, x: torch.Tensor):
        x = x.transpose(0, 1)  # (T, B, V)
        rebuild = self.encoding in ("dense", "spikes")
        events = x if rebuild else torch.diff(x, dim=0, prepend=torch.zeros_like(x[:1]))
        for layer in self.layers:
            events, rebuild = torch.stack(layer.run(events, rebuild)), False
        y, outs = self.readout_bias.expand(x.shape[1], -1), []
        for d in events.unbind(0):  # the readout sigma, fed the last layer's delta events
            y = y + self.readout(d)
            outs.append(y)
        return _read(torch.stack(outs), self.readout_mode)


def _read(y: torch.Tensor, mode: str) -> torch.Tensor:
    """``y: (T, B, O)`` -> (B, O) (``last``, ``mean``) or (B, T, O) (``all``)."""
    if mode == "last":
        return y[-1]
    if mode == "mean":
        return y.mean(0)
    return y.transpose(0, 1)


_CELLS = {"gru": nn.GRUCell, "rnn": nn.RNNCell, "lstm": nn.LSTMCell}


class CellsNetwork(nn.Module):
    """A dense graph (every gate ``always``) as torch's own recurrent cells, stepped one step at a time
    with explicit states (NeuroBench's GRU rule needs ``h`` as an argument). ``forward(x: (B, T, V))``
    as :class:`NeuroBenchNetwork`; the readout is called on ``h_t`` when it is read (once for
    ``last``). The gates (all open) still pass through :class:`GateSpikes`."""

    def __init__(self, graph: EventGraph):
        super().__init__()
        cells = []
        for ly in graph.layers:
            if type(graph.gate_of(ly.name)).kind != "always":
                raise ValueError(f"to_neurobench(form='cells'): layer '{ly.name}' has a "
                                 f"{type(graph.gate_of(ly.name)).kind!r} gate; torch's cells update every neuron "
                                 "every step: only for 'always' gates (use form='events')")
            cell = _CELLS[ly.cell](ly.input_size, ly.hidden_size, dtype=torch.float64)
            with torch.no_grad():
                for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
                    target = {"w_ih": cell.weight_ih, "w_hh": cell.weight_hh, "b_ih": cell.bias_ih,
                              "b_hh": cell.bias_hh}[name]
                    target.copy_(torch.tensor(getattr(ly, name)))
            cells.append(cell)
        self.cells = nn.ModuleList(cells)
        self.spikes = nn.ModuleList(GateSpikes() for _ in cells)
        ro = graph.readout
        self.readout = linear(ro.weight, ro.bias)
        self.readout_mode = ro.mode

    def forward(self, x: torch.Tensor):
        x = x.transpose(0, 1)
        n_t, n_b, _ = x.shape
        states = [None] * len(self.cells)
        outs = []
        for t in range(n_t):
            inp = x[t]
            for k, cell in enumerate(self.cells):
                h0 = inp.new_zeros(n_b, cell.hidden_size)
                if isinstance(cell, nn.LSTMCell):
                    h, c = states[k] if states[k] is not None else (h0, h0)
                    states[k] = cell(inp, (h, c))
                    inp = states[k][0]
                else:
                    states[k] = cell(inp, states[k] if states[k] is not None else h0)
                    inp = states[k]
                self.spikes[k](inp.new_ones(n_b, cell.hidden_size))  # every gate open
            if self.readout_mode != "last" or t == n_t - 1:
                outs.append(self.readout(inp))
        y = torch.stack(outs)
        return y[-1] if self.readout_mode == "last" else _read(y, self.readout_mode)


class _BatchFirst(nn.Module):
    """A time-first network ``(T, B, V) -> (outputs, spikes)`` as NeuroBench's ``(B, T, V) -> outputs``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor):
        y, _ = self.net(x.transpose(0, 1))
        return y.transpose(0, 1) if self.net.readout_mode == "all" else y


def to_neurobench(graph_or_model, form: str = "events", input_encoding: str = "dense") -> nn.Module:
    """The NeuroBench view of an event graph, or of a trained
    :class:`~surnn_neuro.models.SelectiveUpdateNetwork` (converted with ``input_encoding``), in
    float64 with frozen weights: a :class:`NeuroBenchNetwork` (``form="events"``, every graph), a
    :class:`CellsNetwork` (``form="cells"``, dense graphs), or for a spiking graph the snnTorch
    network of its layers. ``forward(x: (B, T, V))``; outputs equal the reference simulator's to
    float rounding."""
    if form not in FORMS:
        raise ValueError(f"to_neurobench: unknown form {form!r}; known: {', '.join(FORMS)}")
    graph = graph_or_model
    if isinstance(graph_or_model, nn.Module):
        from surnn_neuro.converters.torch_to_ir import to_graph

        graph = to_graph(graph_or_model, input_encoding=input_encoding)
    if not isinstance(graph, EventGraph):
        raise ValueError(f"to_neurobench: expected an EventGraph or a trained model, got {type(graph).__name__}")
    if graph.spiking:
        from surnn_neuro.converters.to_snntorch import SnnTorchSpikingLayer

        net = _BatchFirst(SpikingNetwork(graph, [SnnTorchSpikingLayer(ly) for ly in graph.layers]))
    else:
        net = NeuroBenchNetwork(graph) if form == "events" else CellsNetwork(graph)
    net = net.double().eval()
    for prm in net.parameters():
        prm.requires_grad_(False)
    return net


def neurobench_model(graph_or_model, form: str = "events", input_encoding: str = "dense"):
    """:func:`to_neurobench` wrapped in ``neurobench.models.TorchModel`` with its activation modules
    registered (:class:`GateSpikes`; for spiking graphs snnTorch's ``SpikingNeuron``): ready for
    ``neurobench.benchmarks.Benchmark``. Needs ``neurobench`` (a test dependency: pip install
    neurobench==2.3.0)."""
    try:
        from neurobench.models import TorchModel
    except ImportError as e:
        from surnn_neuro.errors import UserError

        raise UserError(f"neurobench_model needs NeuroBench (pip install neurobench==2.3.0): {e}") from e
    net = to_neurobench(graph_or_model, form=form, input_encoding=input_encoding)
    model = TorchModel(net)
    model.add_activation_module(GateSpikes)
    if isinstance(net, _BatchFirst):
        import snntorch as snn

        model.add_activation_module(snn.SpikingNeuron)
    return model


__all__ = ["CellsNetwork", "FORMS", "GateSpikes", "NeuroBenchLayer", "NeuroBenchNetwork", "neurobench_model",
           "to_neurobench"]
