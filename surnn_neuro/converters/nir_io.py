"""Event graph ↔ NIR (nir 1.0.8): export every graph, import standard LIF / CubaLIF graphs.

- :func:`to_nir` / :func:`write_nir`: an :class:`~surnn_neuro.ir.graph.EventGraph` as a ``nir.NIRGraph``
  (file). What NIR expresses natively is written natively: ``Input``, one ``Affine`` per gate block of
  ``W_ih`` and ``W_hh`` (with the biases), the readout ``Affine``, ``Output``; spiking layers as
  ``Affine`` + ``LIF`` / ``CubaLIF`` + recurrent ``Linear`` in a 2-cycle. NIR 1.0.8 has no gating node
  and its reader rejects custom node classes, so a selective-update layer's state is an ``I`` node
  whose ``metadata["surnn"]`` holds the cell kind and the whole gate (kind, name, parameters). Every
  parameter is a per-neuron vector, so ``nir.read(path, type_check=True)`` accepts the file.
- :func:`read_nir`: read a NIR file. A file written by :func:`write_nir` gives back the same graph
  (:func:`surnn_neuro.ir.graphs_equal`); any other file goes through :func:`import_nir`.
- :func:`import_nir`: a standard NIR graph (``Input`` → [``Affine``/``Linear``]* → ``LIF``/``CubaLIF``
  (+ recurrent weights in a 2-cycle) → … → [``Affine``/``Linear``]* → ``Output``; simple nested
  subgraphs are flattened) as an event graph of :class:`~surnn_neuro.ir.nodes.SpikingLayerNode` s.
  Consecutive ``Affine`` nodes are composed (``W = W2 W1``, ``b = W2 b1 + b2``). The readout is the
  ``Affine`` after the last neuron layer (mode ``all``), or, if the graph ends on the neurons, an
  identity readout that passes the spikes through (``weight = I``, ``bias = 0``, mode ``all``).
  ``dt`` is not stored in NIR: pass it, else the graph's ``metadata["dt"]``, else 1e-4 s
  (the NIR paper graphs and snnTorch's export).

Mapping tables, the dt convention and limitations: docs/nir.md. Every problem with a file or a graph
that cannot be mapped raises :class:`~surnn_neuro.errors.UserError` naming the file (or "NIR graph")
and the problem. numpy, h5py and nir only (no torch).

>>> from surnn_neuro.ir.examples import random_graph
>>> g = random_graph(cells=("gru",), gate="threshold", hidden=(3,), seed=2)
>>> n = to_nir(g, allow_surnn_only=True)  # a gated layer: other NIR tools would misread it
>>> sorted(n.nodes)[:4]
['input', 'layer1', 'layer1.w_hh.n', 'layer1.w_hh.r']
>>> graphs_equal(import_nir(n), g)
True
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from surnn_neuro.converters._nir_common import (_GRAPH_META, _META, BLOCK_NAMES, DEFAULT_DT,  # noqa: F401
                                               IMPORTED_TYPES, NIR_FORMAT, NIR_FORMAT_VERSION, _nir, _one_line)
from surnn_neuro.converters._nir_import import _import
from surnn_neuro.converters._nir_producers import NIRConventionWarning, NIRProducer  # noqa: F401  (API)
from surnn_neuro.errors import UserError
from surnn_neuro.fileio import atomic_path
from surnn_neuro.ir.graph import EventGraph, graphs_equal  # noqa: F401  (graphs_equal: doctest)
from surnn_neuro.ir.nodes import (
    GateNode,
    ReadoutNode,
    SpikingLayerNode,
)

# ------------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------------


def _gate_meta(gate: GateNode) -> dict:
    """A gate as NIR metadata: ``kind``, ``name`` and every field (arrays as arrays, scalars as
    Python scalars: a 0-d array would break nir.write's gzip)."""
    meta = {"kind": type(gate).kind, "name": gate.name}
    for f in dataclasses.fields(gate):
        if f.name == "name":
            continue
        v = getattr(gate, f.name)
        meta[f.name] = np.array(v) if isinstance(v, np.ndarray) else v
    return meta


def _is_passthrough(ro: ReadoutNode) -> bool:
    w = ro.weight
    square = w.shape[0] == w.shape[1]
    return ro.mode == "all" and square and np.array_equal(w, np.eye(w.shape[0])) and not np.any(ro.bias)


def nonstandard_parts(graph: EventGraph) -> list:
    """What of ``graph`` NIR 1.0.8 cannot express, so that another NIR tool would run a different
    network: gated (selective-update) layers, and spiking layers whose reset is not NIR's."""
    out = []
    gated = [ly.name for ly in graph.layers if not isinstance(ly, SpikingLayerNode)]
    if gated:
        out.append(f"gated layer(s) {', '.join(gated)} (no NIR node gates or multiplies)")
    for ly in graph.layers:
        if isinstance(ly, SpikingLayerNode) and ly.reset != "value":
            out.append(f"spiking layer {ly.name} resets by {ly.reset!r} (NIR's neurons reset to v_reset)")
    return out


def check_nir_exportable(graph: EventGraph, allow_surnn_only: bool = False,
                         opt_in: str = "allow_surnn_only=True (convert --nir-surnn-only)") -> None:
    """UserError (one line) unless ``graph`` is standard NIR or ``allow_surnn_only``; ``opt_in``
    names the switch in the message.

    Why refuse rather than mark the file or write a standard form (docs/nir.md §2): NIR 1.0.8 has
    no node that gates or multiplies, so no standard form of a gated cell exists; and a file that
    other tools refuse would need a node type NIR's own reader rejects (``nir.read`` asserts on
    unknown types), which would make it unreadable for every NIR tool, inspection included. A
    readable file is misread silently (Norse's ``from_nir`` runs the weight blocks as plain
    integrators), so writing one takes an explicit ``allow_surnn_only=True``.
    """
    parts = nonstandard_parts(graph)
    if parts and not allow_surnn_only:
        raise UserError(f"cannot export to NIR: {'; '.join(parts)}; another NIR tool would run a different network "
                        "without a word (Norse's from_nir sums the weight blocks, snnTorch refuses the I node): pass "
                        f"{opt_in} for a file only surnn-neuro reads back exactly")


def to_nir(graph: EventGraph, allow_surnn_only: bool = False):
    """``graph`` as a ``nir.NIRGraph`` (module doc; node names in docs/nir.md §2). A graph NIR
    cannot express (:func:`nonstandard_parts`) is refused unless ``allow_surnn_only``
    (:func:`check_nir_exportable`); the file then says so in its graph metadata (``standard``)."""
    nir = _nir()
    if not isinstance(graph, EventGraph):
        raise TypeError(f"to_nir: expected an EventGraph, got {type(graph).__name__}")
    nodes: dict = {}
    edges: list = []

    def add(name, node):
        if name in nodes:
            raise UserError(f"cannot export to NIR: the node name '{name}' occurs twice (an event-graph node "
                            "name clashes with a generated '<layer>.w_ih…' name; rename it)")
        nodes[name] = node

    inp = graph.input
    add(inp.name, nir.Input(input_type={"input": np.array([inp.size])},
                            metadata={_META: {"kind": "input", "encoding": inp.encoding}}))
    prev = inp.name
    for layer in graph.layers:
        name = layer.name
        if isinstance(layer, SpikingLayerNode):
            fc = f"{name}.fc"
            add(fc, nir.Affine(weight=np.array(layer.weight), bias=np.array(layer.bias),
                               metadata={_META: {"kind": "fc", "layer": name}}))
            meta = {_META: {"kind": "spiking", "dt": float(layer.dt), "reset": layer.reset}}
            p = {f: np.array(getattr(layer, f)) for f in ("r", "v_leak", "v_threshold", "v_reset")}
            if layer.neuron == "lif":
                add(name, nir.LIF(tau=np.array(layer.tau_mem), metadata=meta, **p))
            else:
                add(name, nir.CubaLIF(tau_syn=np.array(layer.tau_syn), tau_mem=np.array(layer.tau_mem),
                                      w_in=np.array(layer.w_in), metadata=meta, **p))
            edges += [(prev, fc), (fc, name)]
            if layer.recurrent:
                rec = f"{name}.w_rec"
                add(rec, nir.Linear(weight=np.array(layer.w_rec), metadata={_META: {"kind": "w_rec", "layer": name}}))
                edges += [(name, rec), (rec, name)]
        else:
            gate = graph.gate_of(name)
            h = layer.hidden_size
            add(name, nir.I(r=np.ones(h), metadata={_META: {"kind": "layer", "cell": layer.cell,
                                                           "gate": _gate_meta(gate)}}))
            for k, block in enumerate(BLOCK_NAMES[layer.cell]):
                rows = slice(k * h, (k + 1) * h)
                sfx = f".{block}" if block else ""
                ih, hh = f"{name}.w_ih{sfx}", f"{name}.w_hh{sfx}"
                add(ih, nir.Affine(weight=np.array(layer.w_ih[rows]), bias=np.array(layer.b_ih[rows]),
                                   metadata={_META: {"kind": "w_ih", "layer": name, "block": k}}))
                add(hh, nir.Affine(weight=np.array(layer.w_hh[rows]), bias=np.array(layer.b_hh[rows]),
                                   metadata={_META: {"kind": "w_hh", "layer": name, "block": k}}))
                edges += [(prev, ih), (ih, name), (name, hh), (hh, name)]
        prev = name

    ro = graph.readout
    ro_meta = {"kind": "readout", "mode": ro.mode}
    if graph.spiking and _is_passthrough(ro):
        # an imported graph that ends on its neurons: the Output node is the readout
        add(ro.name, nir.Output(output_type={"output": np.array([ro.output_size])},
                                metadata={_META: {**ro_meta, "passthrough": True}}))
        edges.append((prev, ro.name))
        out_name = ro.name
    else:
        add(ro.name, nir.Affine(weight=np.array(ro.weight), bias=np.array(ro.bias), metadata={_META: ro_meta}))
        out_name = "output"
        while out_name in nodes:
            out_name += "_"
        add(out_name, nir.Output(output_type={"output": np.array([ro.output_size])}))
        edges += [(prev, ro.name), (ro.name, out_name)]
    check_nir_exportable(graph, allow_surnn_only)  # after the names: a clash is reported as such
    meta = {_GRAPH_META: {"format": NIR_FORMAT, "format_version": NIR_FORMAT_VERSION,
                          "graph_metadata": json.dumps(graph.metadata), "output": out_name,
                          "standard": not nonstandard_parts(graph)}}
    dts = {float(ly.dt) for ly in graph.layers if isinstance(ly, SpikingLayerNode)}
    if len(dts) == 1:
        meta["dt"] = dts.pop()
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=True)


def write_nir(graph: EventGraph, path: str | os.PathLike, allow_surnn_only: bool = False) -> None:
    """Write ``graph`` as a NIR file (HDF5, gzip; atomically). ``nir.read(path)`` accepts it with
    type checking; :func:`read_nir` gives back the same graph. Gated layers (and resets NIR does not
    have) are refused unless ``allow_surnn_only`` (:func:`check_nir_exportable`)."""
    nir = _nir()
    g = to_nir(graph, allow_surnn_only)
    try:
        with atomic_path(path, suffix=".nir.tmp") as tmp:
            nir.write(tmp, g)
    except OSError as e:
        raise UserError(f"{path}: cannot write NIR file: {' '.join(str(e).split())}") from e


# ------------------------------------------------------------------------------------------------
# reading a file
# ------------------------------------------------------------------------------------------------


def _read_file(path):
    """``nir.read(path, type_check=False)`` with every failure as a UserError naming the file (own
    shape checks follow; foreign files with 0-d parameters fail nir's type check but map fine)."""
    import h5py

    nir = _nir()
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file (expected a NIR file)")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a NIR file")
    try:
        with h5py.File(path, "r") as f:
            if not isinstance(f.get("node"), h5py.Group):
                raise UserError(f"{path}: not a NIR file (HDF5 without a 'node' group)")
            types = _types_in(f["node"])
    except UserError:
        raise
    except OSError as e:
        raise UserError(f"{path}: not a readable HDF5/NIR file (truncated or corrupt?): {_one_line(e)}") from e
    known = _known_nir_types()
    unknown = sorted({t for t in types if known is not None and t not in known})
    if unknown:
        raise UserError(f"{path}: unknown NIR node type(s) {', '.join(unknown)} (custom node classes are not "
                        f"part of NIR {getattr(nir, '__version__', '')}; known: {', '.join(sorted(known))})")
    try:
        return nir.read(path, type_check=False)
    except (KeyError, ValueError, TypeError, AssertionError, AttributeError, OSError) as e:
        raise UserError(f"{path}: malformed NIR file: {type(e).__name__}: {_one_line(e)}") from e


def _known_nir_types() -> set | None:
    """The node type names nir's reader accepts (the list ``str2NIRNode`` asserts against), or None."""
    try:
        from nir.ir import __all_ir as names
    except ImportError:  # pragma: no cover - another nir version: nir's own error is reported instead
        return None
    return set(names)


def _types_in(group) -> list:
    """Every ``type`` string of the node tree (to name an unknown type before nir asserts)."""
    import h5py

    out = []
    if "type" not in group:
        raise UserError(f"{group.file.filename}: malformed NIR file: node '{group.name}' has no 'type'")
    t = group["type"][()]
    out.append(t.decode("utf8") if isinstance(t, bytes) else str(t))
    nodes = group.get("nodes")
    if isinstance(nodes, h5py.Group):
        for sub in nodes.values():
            if isinstance(sub, h5py.Group):
                out += _types_in(sub)
    return out


def read_nir(path: str | os.PathLike, dt: float | None = None, producer=None) -> EventGraph:
    """Read a NIR file into an event graph: exactly what :func:`write_nir` wrote, or a standard
    graph through :func:`import_nir` (``dt``, ``producer``: see there). UserError naming the file on
    any problem; :class:`NIRConventionWarning` for what the file cannot carry."""
    g = _read_file(path)
    return _import(g, dt, where=str(path), source=str(path), producer=producer)


def import_nir(graph, dt: float | None = None, producer=None) -> EventGraph:
    """A ``nir.NIRGraph`` (or the path of a NIR file) as an event graph (module doc, docs/nir.md §3).

    ``producer``: who wrote it, a :class:`NIRProducer` or its name (``"nir"``, the default: the NIR
    spec; ``"snntorch"``; ``"norse"``): the conventions the file cannot carry (Norse's τ·dt,
    snnTorch's reset) are applied (:mod:`surnn_neuro.converters._nir_producers`). ``dt``: time step
    in seconds; default the producer's (snnTorch 1e-4, Norse 1e-3), else the graph's
    ``metadata["dt"]``, else 1e-4 (:data:`DEFAULT_DT`). Layers with ``dt/τ > 1`` are refused.
    """
    if isinstance(graph, (str, os.PathLike)):
        return read_nir(graph, dt, producer)
    return _import(graph, dt, where="NIR graph", source=None, producer=producer)
