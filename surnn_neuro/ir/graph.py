"""The event graph: nodes, edges and metadata of one selective-update network (DESIGN.md §5).

Structure (docs/semantics.md §2)::

    input ──► layer_1 ──► … ──► layer_L ──► readout        data edges
               ▲                  ▲
             gate_1             gate_L                       one gate edge per layer

Spiking layers (``SpikingLayerNode``, ``gated = False``) sit on the same chain and take no gate; a
graph's layers are either all gated or all spiking.

``EventGraph.__post_init__`` checks the structure and the sizes and raises ``ValueError`` naming the
node or edge. ``node_names`` (input, layers in order, readout) is the row order of the count arrays
of a :class:`~surnn_neuro.ir.trace.Trace`; gates are not rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Sequence

import numpy as np

from surnn_neuro.ir.nodes import NODE_KINDS, GateNode, LayerNode, Node

def _gated(node) -> bool:
    """Whether a layer kind takes a gate (``gated`` class attribute, default True)."""
    return getattr(type(node), "gated", True)


def _err(msg: str):
    raise ValueError(f"EventGraph: {msg}")


@dataclass(frozen=True, eq=False)
class EventGraph:
    """Nodes (instances of ``NODE_KINDS`` classes), edges ``(src, dst)`` by name, JSON metadata.

    ``metadata`` is stored as its JSON round trip (tuples become lists), so what you read back from
    a file equals what you built.
    """

    nodes: tuple
    edges: tuple = ()
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        nodes = tuple(self.nodes)
        kinds = tuple(NODE_KINDS.values())
        for i, n in enumerate(nodes):
            if not isinstance(n, kinds):
                _err(f"node #{i}: not a node kind (got {type(n).__name__}); known kinds: {', '.join(NODE_KINDS)}")
        by_name: dict[str, Node] = {}
        for n in nodes:
            if n.name in by_name:
                _err(f"duplicate node name '{n.name}'")
            by_name[n.name] = n

        edges = []
        for e in self.edges:
            e = tuple(e)
            if len(e) != 2 or not all(isinstance(s, str) for s in e):
                _err(f"edge {e!r}: expected a pair of node names")
            for s in e:
                if s not in by_name:
                    _err(f"edge {e!r}: unknown node '{s}'")
            if e in edges:
                _err(f"edge {e!r}: duplicate")
            edges.append(e)
        edges = tuple(edges)

        if not isinstance(self.metadata, dict):
            _err(f"field metadata: expected a dict, got {type(self.metadata).__name__}")
        try:
            metadata = json.loads(json.dumps(self.metadata))
        except (TypeError, ValueError) as e:
            _err(f"field metadata: not JSON-serialisable ({e})")

        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "metadata", metadata)
        self._check_acyclic(by_name, edges)
        chain, gate_of = self._check_structure(by_name, edges)
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_chain", chain)
        object.__setattr__(self, "_gate_of", gate_of)

    # -- validation ----------------------------------------------------------------------------
    @staticmethod
    def _check_acyclic(by_name, edges):
        indeg = {n: 0 for n in by_name}
        succ: dict[str, list] = {n: [] for n in by_name}
        for s, d in edges:
            indeg[d] += 1
            succ[s].append(d)
        ready = [n for n, k in indeg.items() if k == 0]
        seen = 0
        while ready:
            n = ready.pop()
            seen += 1
            for d in succ[n]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)
        if seen != len(by_name):
            _err(f"cycle through nodes {', '.join(sorted(n for n, k in indeg.items() if k > 0))}")

    @staticmethod
    def _check_structure(by_name, edges):
        role = {name: n.role for name, n in by_name.items()}
        for r in ("input", "readout"):
            found = [name for name, x in role.items() if x == r]
            if len(found) != 1:
                _err(f"expected exactly one {r} node, found {len(found)} ({', '.join(found) or 'none'})")
        ins = {n: [] for n in by_name}
        outs = {n: [] for n in by_name}
        for s, d in edges:
            outs[s].append(d)
            ins[d].append(s)

        gate_of = {}
        for name, r in role.items():
            data_in = [s for s in ins[name] if role[s] != "gate"]
            gate_in = [s for s in ins[name] if role[s] == "gate"]
            if r == "gate":
                if ins[name]:
                    _err(f"gate '{name}': has incoming edge from '{ins[name][0]}'; gates take no edges")
                if len(outs[name]) != 1 or role[outs[name][0]] != "layer":
                    _err(f"gate '{name}': needs exactly one edge to a layer, has {outs[name] or 'none'}")
                continue
            if r != "layer" and gate_in:
                _err(f"edge ('{gate_in[0]}', '{name}'): a gate can only drive a layer")
            if r == "input":
                if ins[name]:
                    _err(f"input '{name}': has incoming edge from '{ins[name][0]}'")
            elif len(data_in) != 1:
                _err(f"{r} '{name}': needs exactly one data input, has {data_in or 'none'}")
            if r == "readout":
                if outs[name]:
                    _err(f"readout '{name}': has outgoing edge to '{outs[name][0]}'")
            elif len(outs[name]) != 1 or role[outs[name][0]] not in ("layer", "readout"):
                _err(f"{r} '{name}': needs exactly one data output to a layer or the readout, has "
                     f"{outs[name] or 'none'}")
            if r == "layer" and not _gated(by_name[name]):
                if gate_in:
                    _err(f"{type(by_name[name]).kind} layer '{name}': takes no gate, has edge from '{gate_in[0]}'")
            elif r == "layer":
                if len(gate_in) != 1:
                    _err(f"layer '{name}': needs exactly one gate, has {gate_in or 'none'}")
                gate_of[name] = gate_in[0]

        # Acyclic, in-degree 1 and out-degree 1 everywhere: the data edges form one chain.
        name = next(n for n, r in role.items() if r == "input")
        chain = [name]
        while role[name] != "readout":
            name = outs[name][0]
            chain.append(name)
        layers = chain[1:-1]
        if not layers:
            _err("needs at least one layer between input and readout")
        missing = [n for n, r in role.items() if r == "layer" and n not in layers]
        if missing:  # pragma: no cover - excluded by the degree and cycle checks
            _err(f"layers not on the input→readout chain: {', '.join(missing)}")

        gated = {_gated(by_name[n]) for n in layers}
        if len(gated) > 1:
            _err("layers are either all selective-update (gated) or all spiking; this graph mixes them: "
                 + ", ".join(f"{n} ({type(by_name[n]).kind})" for n in layers))
        size = by_name[chain[0]].size
        for lname in layers:
            layer: LayerNode = by_name[lname]
            if not _gated(layer):
                if layer.input_size != size:
                    _err(f"layer '{lname}': field weight: {layer.input_size} input columns, previous node gives {size}")
                size = layer.hidden_size
                continue
            if layer.input_size != size:
                _err(f"layer '{lname}': field w_ih: {layer.input_size} input columns, previous node gives {size}")
            gate: GateNode = by_name[gate_of[lname]]
            if gate.size != layer.hidden_size:
                _err(f"gate '{gate.name}': size {gate.size} != hidden size {layer.hidden_size} of layer '{lname}'")
            for syn in gate.synapses():  # a gate's input synapses read the layer's input
                cols = syn.matrix.shape[1]
                if syn.source == "input" and cols != layer.input_size:
                    _err(f"gate '{gate.name}': field {syn.field}: {cols} columns, layer '{lname}' has "
                         f"{layer.input_size} inputs")
            size = layer.hidden_size
        ro = by_name[chain[-1]]
        if ro.input_size != size:
            _err(f"readout '{ro.name}': field weight: {ro.input_size} columns, last layer has {size} neurons")
        return tuple(chain), gate_of

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def sequential(cls, input_node, layers: Sequence[tuple], readout, metadata: dict | None = None) -> "EventGraph":
        """Build ``input → layer_1 → … → readout`` from ``layers = [(LayerNode, gate), …]``.

        A spiking layer takes no gate: pass it alone or as ``(SpikingLayerNode, None)``.
        """
        nodes = [input_node]
        edges = []
        prev = input_node.name
        for item in layers:
            layer, gate = item if isinstance(item, tuple) else (item, None)
            nodes.append(layer)
            edges.append((prev, layer.name))
            if gate is not None:
                nodes.append(gate)
                edges.append((gate.name, layer.name))
            prev = layer.name
        nodes.append(readout)
        edges.append((prev, readout.name))
        return cls(tuple(nodes), tuple(edges), dict(metadata or {}))

    # -- accessors ------------------------------------------------------------------------------
    @property
    def input(self):
        """The input node."""
        return self._by_name[self._chain[0]]

    @property
    def readout(self):
        """The readout node."""
        return self._by_name[self._chain[-1]]

    @property
    def layers(self) -> tuple:
        """Layer nodes in data order (layer_1 first)."""
        return tuple(self._by_name[n] for n in self._chain[1:-1])

    @property
    def layer_names(self) -> tuple:
        """Names of the layers in data order (keys of ``Trace.gate_spikes``)."""
        return self._chain[1:-1]

    @property
    def node_names(self) -> tuple:
        """Input, layers, readout: the row order of ``Trace`` counts (gates are not rows)."""
        return self._chain

    def node(self, name: str):
        """The node called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(f"EventGraph: no node '{name}'; nodes: {', '.join(self._by_name)}") from None

    @property
    def spiking(self) -> bool:
        """True if the layers are spiking layers (no gates; docs/semantics.md §5)."""
        return not _gated(self.layers[0])

    def gate_of(self, layer_name: str):
        """The gate node driving layer ``layer_name`` (ValueError for a spiking layer: it has none)."""
        if layer_name in self._chain[1:-1] and not _gated(self._by_name[layer_name]):
            raise ValueError(f"EventGraph: layer '{layer_name}' is a spiking layer; it has no gate")
        try:
            return self._by_name[self._gate_of[layer_name]]
        except KeyError:
            raise ValueError(
                f"EventGraph: no layer '{layer_name}'; layers: {', '.join(self.layer_names)}"
            ) from None

    def check_input(self, x) -> np.ndarray:
        """Validate ``x: (B, T, V)`` (V = input size, finite) and return it as float64."""
        x = np.asarray(x, dtype=np.float64)
        v = self.input.size
        if x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 1 or x.shape[2] != v:
            raise ValueError(f"input x: expected shape (B, T, V={v}) with B, T >= 1, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("input x: contains non-finite values (nan or inf)")
        return x


def _values_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b)
        )
    return type(a) is type(b) and a == b


def nodes_equal(a, b) -> bool:
    """Same kind and every field identical (arrays: dtype, shape and values exactly)."""
    return type(a) is type(b) and all(_values_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def graphs_equal(a: EventGraph, b: EventGraph) -> bool:
    """Same nodes (kind, name, every array exactly), same edges (as a set), same metadata."""
    if {n.name for n in a.nodes} != {n.name for n in b.nodes}:
        return False
    if not all(nodes_equal(n, b.node(n.name)) for n in a.nodes):
        return False
    return set(a.edges) == set(b.edges) and a.metadata == b.metadata
