"""Small random event graphs and inputs for tests and examples of every backend.

Non-trivial on purpose (STYLE.md §7): non-zero biases everywhere, a fraction of exact zero weights
(so that ``nnz`` fan-outs differ from the dense shapes), gates that neither always nor never fire.

>>> g = random_graph(cells=("gru", "rnn"), gate="threshold", hidden=(5, 4), seed=1)
>>> g.node_names
('input', 'layer1', 'layer2', 'readout')
>>> random_input(g, batch=2, steps=7, seed=1).shape
(2, 7, 3)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from surnn_neuro.ir.gates import GATE_KINDS as gate_kinds
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.spiking import SpikingLayerNode
from surnn_neuro.ir.nodes import (
    CELL_GATES,
    AlwaysGate,
    GlobalGate,
    InputNode,
    LayerNode,
    OscillatorGate,
    ReadoutNode,
    ScheduleGate,
    ThresholdGate,
)

#: Names of every gate kind, in the order of the node table.
GATE_KINDS = tuple(gate_kinds)


def _weights(rng, shape, scale, zero_fraction):
    w = rng.normal(0.0, scale, size=shape)
    w[rng.random(shape) < zero_fraction] = 0.0
    return w


def random_gate(kind: str, name: str, hidden: int, inputs: int, rng, rate: float = 0.5):
    """A gate of ``kind`` for a layer with ``hidden`` neurons and ``inputs`` inputs."""
    if kind == "oscillator":
        k = 3
        return OscillatorGate(
            name,
            bias=rng.normal(0.0, 0.3, hidden),
            alpha=rng.normal(0.0, 1.0, (hidden, k)),
            phi=rng.uniform(-np.pi, np.pi, (hidden, k)),
            omega=rng.uniform(0.05, 1.5, k),
        )
    if kind == "threshold":
        return ThresholdGate(
            name,
            w_self=_weights(rng, hidden, 1.0, 0.2),
            w_in=_weights(rng, (hidden, inputs), 1.0, 0.2),
            bias=rng.normal(0.0, 0.5, hidden),
        )
    if kind == "schedule":
        period = int(rng.integers(3, 9))
        return ScheduleGate(name, mask=rng.random((period, hidden)) < rate, periodic=True)
    if kind == "global":
        # negative bias: Δũ often < 0.5, so the gate both skips and updates
        return GlobalGate(name, weight=_weights(rng, hidden, 1.0, 0.2), bias=float(rng.normal(-0.7, 0.3)))
    if kind == "always":
        return AlwaysGate(name, size=hidden)
    raise ValueError(f"unknown gate kind {kind!r}; known: {', '.join(GATE_KINDS)}")


def random_graph(
    cells: Sequence[str] = ("gru",),
    gate: str | Sequence[str] = "oscillator",
    hidden: Sequence[int] = (6,),
    input_size: int = 3,
    output_size: int = 2,
    encoding: str = "dense",
    readout: str = "last",
    zero_fraction: float = 0.15,
    seed: int = 0,
) -> EventGraph:
    """``input → layer1 … layerL → readout`` with random weights (``L = len(cells)``).

    ``gate``: one kind for every layer or one per layer. Weights ~ N(0, 1/√fan-in), a
    ``zero_fraction`` of them exactly 0; biases ~ N(0, 0.3), never all zero.
    """
    rng = np.random.default_rng(seed)
    gates = [gate] * len(cells) if isinstance(gate, str) else list(gate)
    if len(gates) != len(cells) or len(hidden) != len(cells):
        raise ValueError("random_graph: cells, gate and hidden need one entry per layer")
    layers = []
    v = input_size
    for i, (cell, kind, h) in enumerate(zip(cells, gates, hidden), start=1):
        g = CELL_GATES[cell] * h
        layer = LayerNode(
            f"layer{i}",
            cell=cell,
            w_ih=_weights(rng, (g, v), 1.0 / np.sqrt(v), zero_fraction),
            w_hh=_weights(rng, (g, h), 1.0 / np.sqrt(h), zero_fraction),
            b_ih=rng.normal(0.0, 0.3, g),
            b_hh=rng.normal(0.0, 0.3, g),
        )
        layers.append((layer, random_gate(kind, f"gate{i}", h, v, rng)))
        v = h
    ro = ReadoutNode(
        "readout",
        weight=_weights(rng, (output_size, v), 1.0 / np.sqrt(v), zero_fraction),
        bias=rng.normal(0.0, 0.3, output_size),
        mode=readout,
    )
    return EventGraph.sequential(
        InputNode("input", size=input_size, encoding=encoding), layers, ro, metadata={"seed": seed}
    )


def random_input(graph: EventGraph, batch: int, steps: int, seed: int = 0) -> np.ndarray:
    """``(B, T, V)`` float64 input suited to the graph's input encoding.

    ``dense``: N(0, 1) values, 30 % exact zeros and 10 % exact ±1 (AC-rule events);
    ``spikes``: Bernoulli(0.2) in {0, 1}; ``delta``: piecewise-constant multiples of 0.5 (sparse
    deltas, some of exactly ±1).
    """
    rng = np.random.default_rng(seed)
    shape = (batch, steps, graph.input.size)
    enc = graph.input.encoding
    if enc == "spikes":
        return (rng.random(shape) < 0.2).astype(np.float64)
    if enc == "delta":
        change = rng.random(shape) < 0.25
        change[:, 0] = True
        levels = 0.5 * rng.integers(-3, 4, size=shape)
        idx = np.maximum.accumulate(np.where(change, np.arange(steps)[None, :, None], 0), axis=1)
        return np.take_along_axis(levels, idx, axis=1)
    x = rng.normal(0.0, 1.0, shape)
    u = rng.random(shape)
    x[u < 0.3] = 0.0
    x[(u >= 0.3) & (u < 0.4)] = np.sign(rng.normal(size=shape))[(u >= 0.3) & (u < 0.4)]
    return x


def random_spiking_layer(name: str, h: int, v: int, neuron: str = "cubalif", recurrent: bool = True, seed: int = 0,
                         **kw) -> SpikingLayerNode:
    """A LIF/CubaLIF layer of ``h`` neurons on ``v`` inputs, non-trivial: non-zero biases, ``v_leak``
    and ``v_reset``, per-neuron ``r`` and ``w_in``; ``kw`` overrides any field."""
    rng = np.random.default_rng(seed)
    p = dict(neuron=neuron, weight=rng.normal(0, 1, (h, v)), bias=rng.normal(0, 0.3, h),
             tau_mem=np.full(h, 1e-3), r=rng.uniform(5, 15, h), v_leak=rng.normal(0, 0.2, h),
             v_threshold=np.full(h, 0.8), dt=1e-4, v_reset=np.full(h, -0.1),
             w_rec=rng.normal(0, 0.5, (h, h)) if recurrent else None)
    if neuron == "cubalif":
        p.update(tau_syn=np.full(h, 2.5e-4), w_in=rng.uniform(1, 3, h))
    p.update(kw)
    return SpikingLayerNode(name, **p)


def random_spiking_graph(mode: str = "all", encoding: str = "spikes", seed: int = 0) -> EventGraph:
    """``input(4) → cubalif(6, recurrent) → lif(5, recurrent) → cubalif(3) → readout(2)``."""
    rng = np.random.default_rng(seed + 100)
    return EventGraph.sequential(
        InputNode("input", size=4, encoding=encoding),
        [random_spiking_layer("l1", 6, 4, "cubalif", True, seed),
         random_spiking_layer("l2", 5, 6, "lif", True, seed + 1),
         (random_spiking_layer("l3", 3, 5, "cubalif", False, seed + 2), None)],
        ReadoutNode("readout", weight=rng.normal(size=(2, 3)), bias=rng.normal(size=2), mode=mode),
        metadata={"seed": seed})
