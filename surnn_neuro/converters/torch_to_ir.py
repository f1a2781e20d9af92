"""Trained torch model → event graph (every model of :data:`surnn_neuro.models.MODELS`).

Gate mapping (docs/semantics.md §1):

========  =====================  ============================================================
model     gate                   event-graph node
========  =====================  ============================================================
sugru     TemporalGate           OscillatorGate(bias, alpha, phi, omega)
surnn     TemporalGate           OscillatorGate
sarnn     CoordinatorGate        ThresholdGate(w_self, w_in = W_x, bias)
skiprnn   SkipGate               GlobalGate(weight, bias, init_prob = 1)
clockwork ClockworkGate          ScheduleGate(mask of one lcm period, periodic)
random    RandomGate             ScheduleGate(the frozen inference mask, periodic)
phased    PhasedGate             ScheduleGate(mask for t < horizon, not periodic)
gru       DenseGate              AlwaysGate (the dense baseline for event and energy comparisons)
========  =====================  ============================================================

Weights are copied exactly (float32 values widened to float64). The phased gate's periods are real
numbers, so its inference mask is not periodic in integer steps: it is stored for ``horizon`` steps
(default max(4096, the training length)) and simulators refuse longer inputs.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import InputNode, LayerNode, ReadoutNode
from surnn_neuro.models import gates as G


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


@torch.no_grad()
def gate_node(gate: G.Gate, name: str, horizon: int):
    """The event-graph node of one torch gate (each gate knows its node: ``Gate.to_node``)."""
    return gate.to_node(name, horizon)


@torch.no_grad()
def to_graph(model, input_encoding: str = "dense", horizon: int | None = None) -> EventGraph:
    """Convert a :class:`~surnn_neuro.models.SelectiveUpdateNetwork` to an :class:`EventGraph`.

    ``input_encoding``: how the input is sent (dense values, delta events or binary spikes;
    docs/semantics.md §3). Node names: ``input``, ``layer{l}``, ``gate{l}``, ``readout``.
    """
    cfg = model.config
    seq_len = int(cfg.get("options", {}).get("seq_len", 0) or 0)
    horizon = int(horizon or max(4096, seq_len))
    nodes = [InputNode("input", size=model.layers[0].input_size, encoding=input_encoding)]
    edges = []
    prev = "input"
    for k, layer in enumerate(model.layers):
        name, gname = f"layer{k}", f"gate{k}"
        nodes.append(LayerNode(name, cell=layer.cell, w_ih=_np(layer.weight_ih),
                               w_hh=_np(layer.effective_weight_hh()), b_ih=_np(layer.bias_ih),
                               b_hh=_np(layer.bias_hh)))
        nodes.append(gate_node(layer.gate, gname, horizon))
        edges += [(prev, name), (gname, name)]
        prev = name
    nodes.append(ReadoutNode("readout", weight=_np(model.readout.weight), bias=_np(model.readout.bias),
                             mode=model.readout_mode))
    edges.append((prev, "readout"))
    meta = {"source": "surnn-neuro torch model", "model_config": json.loads(json.dumps(cfg))}
    return EventGraph(nodes=tuple(nodes), edges=tuple(edges), metadata=meta)
