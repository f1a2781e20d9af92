"""NIR graph → event graph: the mapping behind :func:`surnn_neuro.converters.nir_io.import_nir`.

Two routes: a graph written by :func:`~surnn_neuro.converters.nir_io.write_nir` is rebuilt exactly
from its metadata (:func:`_from_surnn`); any other graph is mapped from standard NIR primitives
(Affine/Linear, LIF, CubaLIF, recurrent 2-cycles, simple nested subgraphs) to spiking layers
(:func:`_from_standard`). Every problem raises UserError naming the file or "NIR graph".
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import (
    CELL_GATES,
    NODE_KINDS,
    InputNode,
    LayerNode,
    ReadoutNode,
    SpikingLayerNode,
)

from surnn_neuro.converters._nir_common import (_GRAPH_META, _META, DEFAULT_DT, IMPORTED_TYPES, NIR_FORMAT,
                                               NIR_FORMAT_VERSION, _nir, _one_line)
from surnn_neuro.converters._nir_producers import (NIRConventionWarning, apply_producer, as_producer, check_stable,
                                                  choose_dt, convention_warnings)


class _Fail:
    def __init__(self, where: str):
        self.where = where

    def __call__(self, problem: str):
        raise UserError(f"{self.where}: {problem}")


def _import(g, dt, where: str, source, producer=None) -> EventGraph:
    nir = _nir()
    fail = _Fail(where)
    producer = as_producer(producer)
    if not isinstance(g, nir.NIRGraph):
        fail(f"expected a NIR graph at the top level, got {type(g).__name__}")
    meta = g.metadata if isinstance(g.metadata, dict) else {}
    try:
        if _GRAPH_META in meta:
            if producer.name != "nir":
                fail(f"written by surnn-neuro, not by {producer.name}: it carries its own conventions (no producer "
                     "to declare)")
            return _from_surnn(g, meta[_GRAPH_META], fail)
        return _from_standard(g, dt, fail, source, producer)
    except UserError:
        raise
    except ValueError as e:  # an event-graph node or the graph rejected the mapped values
        fail(_one_line(e))
    except (TypeError, KeyError, AttributeError, IndexError) as e:  # fields missing or of the wrong kind
        fail(f"malformed NIR graph: {type(e).__name__}: {_one_line(e)}")


def _py(v):
    """A metadata value as read back by nir (numpy scalars, bytes) as a plain Python value."""
    if isinstance(v, bytes):
        return v.decode("utf8")
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _meta(node) -> dict:
    m = getattr(node, "metadata", None)
    if not isinstance(m, dict) or not isinstance(m.get(_META), dict):
        return {}
    return m[_META]


def _from_surnn(g, gmeta, fail) -> EventGraph:
    """Exact inverse of :func:`to_nir`."""
    nir = _nir()
    fmt = _py(gmeta.get("format"))
    version = _py(gmeta.get("format_version"))
    if fmt != NIR_FORMAT or not isinstance(version, int):
        fail(f"metadata '{_GRAPH_META}' does not describe a {NIR_FORMAT!r} file (format {fmt!r}, version {version!r})")
    if version > NIR_FORMAT_VERSION:
        fail(f"written by a newer surnn-neuro (NIR format version {version} > {NIR_FORMAT_VERSION}); upgrade")
    try:
        graph_metadata = json.loads(_py(gmeta.get("graph_metadata", "{}")))
    except (TypeError, ValueError) as e:
        fail(f"metadata '{_GRAPH_META}.graph_metadata': not valid JSON ({_one_line(e)})")
    nodes, edges = g.nodes, list(g.edges)
    src = {}
    for s, d in edges:
        src.setdefault(d, []).append(s)

    def one_source(name):
        s = src.get(name, [])
        if len(s) != 1:
            fail(f"node '{name}': expected one incoming edge, has {len(s)}")
        return s[0]

    kinds = {name: _py(_meta(n).get("kind")) for name, n in nodes.items()}
    inputs = [n for n, k in kinds.items() if k == "input"]
    if len(inputs) != 1 or not isinstance(nodes[inputs[0]], nir.Input):
        fail(f"expected one Input node with metadata kind 'input', found {inputs or 'none'}")
    in_name = inputs[0]
    in_shape = np.asarray(nodes[in_name].input_type["input"]).ravel()
    if in_shape.shape != (1,):
        fail(f"Input '{in_name}': expected a 1-D input shape, got {in_shape.tolist()}")
    ir_nodes = [InputNode(in_name, size=int(in_shape[0]), encoding=_py(_meta(nodes[in_name]).get("encoding", "dense")))]
    ir_edges = []

    for name, kind in kinds.items():
        node = nodes[name]
        m = _meta(node)
        if kind == "layer":
            cell = _py(m.get("cell"))
            if cell not in CELL_GATES:
                fail(f"node '{name}': unknown cell {cell!r}; known: {', '.join(CELL_GATES)}")
            blocks = {"w_ih": {}, "w_hh": {}}
            for other, k in kinds.items():
                om = _meta(nodes[other])
                if k in blocks and _py(om.get("layer")) == name:
                    blocks[k][int(_py(om.get("block")))] = nodes[other]
            n_blocks = CELL_GATES[cell]
            for k, found in blocks.items():
                if sorted(found) != list(range(n_blocks)):
                    fail(f"layer '{name}' ({cell}): expected {n_blocks} '{k}' Affine blocks, found {sorted(found)}")
            stack = {k: [blocks[k][i] for i in range(n_blocks)] for k in blocks}
            ih_names = [n for n, k in kinds.items() if k == "w_ih" and _py(_meta(nodes[n]).get("layer")) == name]
            prevs = {one_source(n) for n in ih_names}
            if len(prevs) != 1:
                fail(f"layer '{name}': its w_ih blocks have different inputs {sorted(prevs)}")
            layer = LayerNode(
                name, cell=cell,
                w_ih=np.concatenate([a.weight for a in stack["w_ih"]]),
                w_hh=np.concatenate([a.weight for a in stack["w_hh"]]),
                b_ih=np.concatenate([a.bias for a in stack["w_ih"]]),
                b_hh=np.concatenate([a.bias for a in stack["w_hh"]]),
            )
            gate = _gate_from_meta(m.get("gate"), name, fail)
            ir_nodes += [layer, gate]
            ir_edges += [(prevs.pop(), name), (gate.name, name)]
        elif kind == "spiking":
            fc = [n for n, k in kinds.items() if k == "fc" and _py(_meta(nodes[n]).get("layer")) == name]
            rec = [n for n, k in kinds.items() if k == "w_rec" and _py(_meta(nodes[n]).get("layer")) == name]
            if len(fc) != 1 or len(rec) > 1:
                fail(f"spiking layer '{name}': expected one 'fc' Affine and at most one 'w_rec' Linear, "
                     f"found {fc} and {rec}")
            layer = _spiking_layer(name, node, nodes[fc[0]].weight, nodes[fc[0]].bias,
                                   nodes[rec[0]].weight if rec else None, float(_py(m.get("dt"))), fail,
                                   reset=_py(m.get("reset", "value")))
            ir_nodes.append(layer)
            ir_edges.append((one_source(fc[0]), name))
        elif kind == "readout":
            mode = _py(m.get("mode"))
            if _py(m.get("passthrough", False)):
                size = int(np.asarray(node.output_type["output"]).ravel()[0])
                ro = ReadoutNode(name, weight=np.eye(size), bias=np.zeros(size), mode=mode)
            else:
                ro = ReadoutNode(name, weight=node.weight, bias=node.bias, mode=mode)
            ir_nodes.append(ro)
            ir_edges.append((one_source(name), name))
    return EventGraph(tuple(ir_nodes), tuple(ir_edges), graph_metadata)


def _gate_from_meta(m, layer_name: str, fail):
    if not isinstance(m, dict):
        fail(f"layer '{layer_name}': metadata has no gate")
    kind = _py(m.get("kind"))
    cls = NODE_KINDS.get(kind)
    if cls is None or getattr(cls, "role", None) != "gate":
        known = [k for k, c in NODE_KINDS.items() if c.role == "gate"]
        fail(f"layer '{layer_name}': unknown gate kind {kind!r}; known: {', '.join(known)}")
    kwargs = {"name": _py(m.get("name"))}
    for f in dataclasses.fields(cls):
        if f.name != "name" and f.name in m:
            kwargs[f.name] = _py(m[f.name])
    return cls(**kwargs)


def _vector(node, field: str, h: int, fail, name: str) -> np.ndarray:
    """A neuron parameter as an (H,) float64 vector; scalars (0-d) are broadcast (foreign files)."""
    v = np.asarray(getattr(node, field), dtype=np.float64)
    if v.size == 1:
        return np.full(h, float(v.reshape(())))
    if v.shape != (h,):
        fail(f"node '{name}' ({type(node).__name__}): parameter {field} has shape {v.shape}, the layer has {h} neurons")
    return v


def _spiking_layer(name, node, weight, bias, w_rec, dt, fail, producer=None, reset="value") -> SpikingLayerNode:
    """A LIF / CubaLIF node as a spiking layer; ``producer``: the conventions of a foreign file
    (:mod:`._nir_producers`), applied to τ, w_in and the reset; else ``reset`` as given (our files)."""
    nir = _nir()
    weight = np.asarray(weight, dtype=np.float64)
    h = weight.shape[0]
    p = {f: _vector(node, f, h, fail, name) for f in ("r", "v_leak", "v_threshold")}
    p["v_reset"] = _vector(node, "v_reset", h, fail, name) if getattr(node, "v_reset", None) is not None else None
    cuba = isinstance(node, nir.CubaLIF)
    if cuba:
        p.update(tau_mem=_vector(node, "tau_mem", h, fail, name), tau_syn=_vector(node, "tau_syn", h, fail, name),
                 w_in=_vector(node, "w_in", h, fail, name))
    else:
        p["tau_mem"] = _vector(node, "tau", h, fail, name)
    p = apply_producer(producer, p, "cubalif" if cuba else "lif", dt) if producer is not None else dict(p, reset=reset)
    layer = SpikingLayerNode(name, neuron="cubalif" if cuba else "lif", weight=weight, bias=bias, dt=dt, w_rec=w_rec,
                             **p)
    if producer is not None:
        check_stable(layer, type(node).__name__, producer, fail)
    return layer


def _flatten(g, fail, prefix: str = ""):
    """``(nodes, edges)`` with every nested NIRGraph replaced by its inner nodes (``'<sub>.<inner>'``);
    a nested graph must have exactly one Input and one Output."""
    nir = _nir()
    nodes, edges = {}, []
    entry, exit_ = {}, {}  # nested graph name -> inner names its input feeds / its output is fed by
    for name, node in g.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            ins = [n for n, x in node.nodes.items() if isinstance(x, nir.Input)]
            outs = [n for n, x in node.nodes.items() if isinstance(x, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                fail(f"nested graph '{full}': only nested graphs with one Input and one Output are supported "
                     f"(has {len(ins)} and {len(outs)})")
            sub_nodes, sub_edges = _flatten(node, fail, prefix=full + ".")
            i_name, o_name = full + "." + ins[0], full + "." + outs[0]
            entry[full] = [d for s, d in sub_edges if s == i_name]
            exit_[full] = [s for s, d in sub_edges if d == o_name]
            nodes.update({k: v for k, v in sub_nodes.items() if k not in (i_name, o_name)})
            edges += [(s, d) for s, d in sub_edges if s != i_name and d != o_name]
        else:
            nodes[full] = node
    for s, d in g.edges:
        s, d = prefix + s, prefix + d
        for a in exit_.get(s, [s]):
            for b in entry.get(d, [d]):
                edges.append((a, b))
    for s, d in edges:
        for x in (s, d):
            if x not in nodes:
                fail(f"edge ({s!r}, {d!r}): unknown node '{x}'")
    return nodes, edges


def _weights_of(node, fail, name):
    """``(W, b)`` of an Affine / Linear node as float64 (b = 0 for Linear); 2-D weights only."""
    nir = _nir()
    w = np.asarray(node.weight, dtype=np.float64)
    if w.ndim != 2:
        fail(f"node '{name}' ({type(node).__name__}): only 2-D weights are supported, got shape {w.shape}")
    if isinstance(node, nir.Affine):
        b = np.asarray(node.bias, dtype=np.float64)
        if b.size == 1:
            b = np.full(w.shape[0], float(b.reshape(())))
        if b.shape != (w.shape[0],):
            fail(f"node '{name}' (Affine): bias shape {b.shape} does not match weight {w.shape}")
    else:
        b = np.zeros(w.shape[0])
    return w, b


def _compose(chain, fail, size: int):
    """Compose consecutive Affine/Linear nodes ``[(name, node), …]`` applied in order into one
    ``(W, b)``; identity if empty. ``size``: the input size."""
    if not chain:
        return np.eye(size), np.zeros(size)
    w, b = None, None
    for name, node in chain:
        w2, b2 = _weights_of(node, fail, name)
        cols = size if w is None else w.shape[0]
        if w2.shape[1] != cols:
            fail(f"node '{name}': weight has {w2.shape[1]} input columns, the previous node gives {cols}")
        w, b = (w2, b2) if w is None else (w2 @ w, w2 @ b + b2)
    return w, b


def _from_standard(g, dt, fail, source, producer) -> EventGraph:
    nir = _nir()
    nodes, edges = _flatten(g, fail)
    supported = (nir.Input, nir.Output, nir.Affine, nir.Linear, nir.LIF, nir.CubaLIF)
    for name, node in nodes.items():
        if not isinstance(node, supported):
            fail(f"node '{name}': NIR type {type(node).__name__} is not supported by the import; supported: "
                 f"{', '.join(IMPORTED_TYPES)} (docs/nir.md §3)")
    meta_dt = _py(g.metadata.get("dt")) if isinstance(g.metadata, dict) and "dt" in g.metadata else None
    dt = choose_dt(producer, dt, meta_dt, DEFAULT_DT, fail)

    neurons = (nir.LIF, nir.CubaLIF)
    ins = {n: [] for n in nodes}
    outs = {n: [] for n in nodes}
    for s, d in edges:
        outs[s].append(d)
        ins[d].append(s)
    # recurrent weights: an Affine/Linear in a 2-cycle with one neuron node, or a neuron's self-loop
    rec_of = {n: [] for n in nodes}
    rec_nodes = set()
    for name, node in nodes.items():
        if isinstance(node, (nir.Affine, nir.Linear)) and len(ins[name]) == 1 and ins[name] == outs[name] \
                and isinstance(nodes[ins[name][0]], neurons):
            rec_of[ins[name][0]].append(name)
            rec_nodes.add(name)

    def forward_out(n):
        return [d for d in outs[n] if d not in rec_of[n] and d != n]

    def forward_in(n):
        return [s for s in ins[n] if s not in rec_of[n] and s != n]

    inputs = [n for n, x in nodes.items() if isinstance(x, nir.Input)]
    outputs = [n for n, x in nodes.items() if isinstance(x, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        fail(f"expected exactly one Input and one Output node, found {len(inputs)} and {len(outputs)}")
    in_name, out_name = inputs[0], outputs[0]
    shape = np.asarray(nodes[in_name].input_type["input"]).ravel()
    if shape.shape != (1,) or shape[0] < 1:
        fail(f"Input '{in_name}': only 1-D inputs are supported, got shape {shape.tolist()}")
    size = int(shape[0])

    layers, pending, visited = [], [], {in_name}
    cur, meta_layers = in_name, {}
    while cur != out_name:
        nxt = forward_out(cur)
        if len(nxt) != 1:
            fail(f"node '{cur}': expected exactly one forward successor (a chain input → … → output), "
                 f"has {nxt or 'none'}")
        nxt = nxt[0]
        if forward_in(nxt) != [cur]:
            fail(f"node '{nxt}': expected exactly one forward input (from '{cur}'), has {forward_in(nxt)}")
        if nxt in visited:
            fail(f"node '{nxt}': cycle other than a recurrent weight 2-cycle around a neuron node")
        visited.add(nxt)
        node = nodes[nxt]
        if isinstance(node, (nir.Affine, nir.Linear)):
            if nxt in rec_nodes:  # pragma: no cover - excluded by forward_out
                fail(f"node '{nxt}': recurrent weight on the forward path")
            pending.append((nxt, node))
        elif isinstance(node, neurons):
            w, b = _compose(pending, fail, size)
            w_rec = None
            for r in rec_of[nxt]:
                wr, br = _weights_of(nodes[r], fail, r)
                if wr.shape != (w.shape[0], w.shape[0]):
                    fail(f"node '{r}': recurrent weight of '{nxt}' has shape {wr.shape}, expected {(w.shape[0],) * 2}")
                w_rec = wr if w_rec is None else w_rec + wr
                b = b + br
                visited.add(r)
            if nxt in outs[nxt]:  # a self-loop: identity recurrence
                w_rec = np.eye(w.shape[0]) if w_rec is None else w_rec + np.eye(w.shape[0])
            layers.append(_spiking_layer(nxt, node, w, b, w_rec, dt, fail, producer))
            meta_layers[nxt] = {"type": type(node).__name__, "input": [n for n, _ in pending],
                                "recurrent": list(rec_of[nxt]) + ([nxt] if nxt in outs[nxt] else [])}
            pending = []
            size = w.shape[0]
        elif isinstance(node, nir.Output):
            pass
        else:  # pragma: no cover - excluded above
            fail(f"node '{nxt}': unsupported type {type(node).__name__}")
        cur = nxt
    unreached = sorted(set(nodes) - visited)
    if unreached:
        fail(f"nodes not on the input → output chain: {', '.join(unreached)}")
    if not layers:
        fail("no LIF or CubaLIF node between Input and Output: nothing to import as a spiking layer")
    if pending:
        w, b = _compose(pending, fail, size)
        ro = ReadoutNode(pending[-1][0], weight=w, bias=b, mode="all")
        ro_meta = {"nodes": [n for n, _ in pending], "passthrough": False}
    else:
        ro = ReadoutNode(out_name, weight=np.eye(size), bias=np.zeros(size), mode="all")
        ro_meta = {"nodes": [], "passthrough": True}
    for message in convention_warnings(producer, layers, fail.where):
        warnings.warn(message, NIRConventionWarning, stacklevel=4)
    conventions = {"producer": producer.name, "resets": sorted({ly.reset for ly in layers})}
    metadata = {"nir": {"source": source, "dt": dt, "layers": meta_layers, "readout": ro_meta,
                        "output": out_name, "conventions": conventions}}
    return EventGraph.sequential(InputNode(in_name, size=int(shape[0]), encoding="spikes"), layers, ro, metadata)
