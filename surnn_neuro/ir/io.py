"""HDF5 files for event graphs and traces (h5py), read and written through one table of node kinds.

Event graph file::

    /                attrs: format = "surnn-neuro-event-graph", format_version = 1,
                            metadata = JSON string
    /nodes/<name>    group, attrs: kind (a key of NODE_KINDS) and one attribute per scalar field;
                     one dataset per array field (dataclasses.fields of the kind's class)
    /edges           (E, 2) UTF-8 strings, (src, dst)

Trace file::

    /                attrs: format = "surnn-neuro-trace", format_version = 1, backend, n_samples,
                            metadata = JSON string
    /node_names, /layer_names           string datasets
    /outputs, /events, /synaptic_ops, … float64 / int64 datasets
    /gate_spikes/<i>  (B, T, ceil(H/8)) uint8, np.packbits along H; attrs: layer (name), H

Every problem with a file (missing, not HDF5, truncated, other format, newer version, unknown kind,
missing field, wrong shape) raises :class:`~surnn_neuro.errors.UserError` with a one-line message
that starts with the file name. Writes are atomic (``surnn_neuro.fileio.atomic_path``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import h5py
import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.fileio import atomic_path
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import NODE_KINDS
from surnn_neuro.ir.trace import COUNT_FIELDS, Trace

GRAPH_FORMAT = "surnn-neuro-event-graph"
TRACE_FORMAT = "surnn-neuro-trace"
#: The newest format version this code reads and the version it writes.
FORMAT_VERSION = 1

_STR = h5py.string_dtype(encoding="utf-8")


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


def _str_dataset(group, name, strings, shape=None):
    arr = np.array([str(s) for s in np.ravel(np.asarray(strings, dtype=object))], dtype=object)
    group.create_dataset(name, data=arr.reshape(shape if shape is not None else arr.shape), dtype=_STR)


def _read_strings(dset) -> np.ndarray:
    return np.asarray(dset.asstr()[()], dtype=object)


def _attr_value(v):
    """h5py attribute -> plain Python value (numpy scalars, bytes)."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        return v.item()
    return v


# ------------------------------------------------------------------------------------------------
# opening with checks
# ------------------------------------------------------------------------------------------------


class _Reader:
    """Open ``path`` for reading; turns every low-level failure into a one-line UserError."""

    def __init__(self, path, expected_format: str, what: str):
        self.path = Path(path)
        self.expected = expected_format
        self.what = what
        self.f = None

    def fail(self, problem: str):
        raise UserError(f"{self.path}: {problem}")

    def __enter__(self):
        if not self.path.exists():
            self.fail(f"no such file (expected a {self.what} written by surnn-neuro)")
        if self.path.is_dir():
            self.fail(f"is a directory, not a {self.what} file")
        try:
            self.f = h5py.File(self.path, "r")
        except OSError as e:
            self.fail(f"not a readable HDF5 file (truncated or corrupt?): {_one_line(e)}")
        try:
            self._check_header()
        except BaseException as e:
            self.close()
            if isinstance(e, (OSError, KeyError, RuntimeError)):
                self.fail(f"corrupt {self.what} file: {_one_line(e)}")
            raise
        return self

    def _check_header(self):
        attrs = self.f.attrs
        fmt = _attr_value(attrs.get("format", None))
        if fmt != self.expected:
            got = "no 'format' attribute" if fmt is None else f"format {fmt!r}"
            self.fail(f"not a surnn-neuro {self.what} ({got}, expected {self.expected!r})")
        version = _attr_value(attrs.get("format_version", None))
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.fail(f"invalid format_version {version!r} (expected an integer >= 1)")
        if version > FORMAT_VERSION:
            self.fail(f"written by a newer surnn-neuro (version {version} > {FORMAT_VERSION}); upgrade")

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None

    def __exit__(self, exc_type, exc, tb):
        self.close()
        if exc_type is None or issubclass(exc_type, UserError):
            return False
        if issubclass(exc_type, ValueError):  # a node, graph or trace rejected what the file holds
            raise UserError(f"{self.path}: {_one_line(exc)}") from exc
        if issubclass(exc_type, (OSError, KeyError, RuntimeError, TypeError)):  # h5py on damaged files
            raise UserError(f"{self.path}: corrupt {self.what} file: {_one_line(exc)}") from exc
        return False


def _write(path, fmt: str, body) -> None:
    """Write an HDF5 file atomically: ``body(h5file)`` fills it. OSError -> UserError."""
    try:
        with atomic_path(path, suffix=".h5.tmp") as tmp:
            with h5py.File(tmp, "w") as f:
                f.attrs["format"] = fmt
                f.attrs["format_version"] = np.int64(FORMAT_VERSION)
                body(f)
    except OSError as e:
        raise UserError(f"{path}: cannot write: {_one_line(e)}") from e


# ------------------------------------------------------------------------------------------------
# event graph
# ------------------------------------------------------------------------------------------------


def _write_node(group, node) -> None:
    kind = type(node).kind
    g = group.create_group(node.name)
    g.attrs["kind"] = kind
    for f in dataclasses.fields(node):
        if f.name == "name":
            continue  # the group name
        value = getattr(node, f.name)
        if isinstance(value, np.ndarray):
            g.create_dataset(f.name, data=value)
        else:
            g.attrs[f.name] = value


def _read_node(r: _Reader, name: str, g):
    if not isinstance(g, h5py.Group):
        r.fail(f"node '{name}': expected an HDF5 group, found a {type(g).__name__}")
    kind = _attr_value(g.attrs.get("kind", None))
    if kind is None:
        r.fail(f"node '{name}': missing attribute 'kind'")
    if kind not in NODE_KINDS:
        r.fail(f"node '{name}': unknown kind {kind!r}; known: {', '.join(NODE_KINDS)}")
    cls = NODE_KINDS[kind]
    kwargs = {"name": name}
    for f in dataclasses.fields(cls):
        if f.name == "name":
            continue
        if f.name in g:
            kwargs[f.name] = g[f.name][()]
        elif f.name in g.attrs:
            kwargs[f.name] = _attr_value(g.attrs[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            r.fail(f"node '{name}' ({kind}): missing field '{f.name}'")
    return cls(**kwargs)


def write_graph(graph: EventGraph, path: str | os.PathLike) -> None:
    """Write ``graph`` to the HDF5 file ``path`` (atomically; see module doc for the layout)."""
    if not isinstance(graph, EventGraph):
        raise TypeError(f"write_graph: expected an EventGraph, got {type(graph).__name__}")

    def body(f):
        f.attrs["metadata"] = json.dumps(graph.metadata)
        nodes = f.create_group("nodes", track_order=True)
        for node in graph.nodes:
            _write_node(nodes, node)
        _str_dataset(f, "edges", [s for e in graph.edges for s in e], shape=(len(graph.edges), 2))

    _write(path, GRAPH_FORMAT, body)


def read_graph(path: str | os.PathLike) -> EventGraph:
    """Read an event graph written by :func:`write_graph`; UserError naming the file on any problem."""
    with _Reader(path, GRAPH_FORMAT, "event graph") as r:
        f = r.f
        if not isinstance(f.get("nodes"), h5py.Group):
            r.fail("missing group 'nodes'")
        if not isinstance(f.get("edges"), h5py.Dataset):
            r.fail("missing dataset 'edges'")
        nodes = tuple(_read_node(r, name, g) for name, g in f["nodes"].items())
        edges = _read_strings(f["edges"])
        if edges.ndim != 2 or edges.shape[1] != 2:
            r.fail(f"dataset 'edges': expected shape (E, 2), got {edges.shape}")
        try:
            metadata = json.loads(_attr_value(f.attrs.get("metadata", "{}")))
        except (TypeError, ValueError) as e:
            r.fail(f"attribute 'metadata': not valid JSON ({_one_line(e)})")
        return EventGraph(nodes, tuple((str(s), str(d)) for s, d in edges), metadata)


# ------------------------------------------------------------------------------------------------
# trace
# ------------------------------------------------------------------------------------------------


def write_trace(trace: Trace, path: str | os.PathLike) -> None:
    """Write ``trace`` to the HDF5 file ``path`` (atomically); gate spikes bit-packed along H."""
    if not isinstance(trace, Trace):
        raise TypeError(f"write_trace: expected a Trace, got {type(trace).__name__}")

    def body(f):
        f.attrs["backend"] = str(trace.backend)
        f.attrs["n_samples"] = np.int64(trace.n_samples)
        _str_dataset(f, "node_names", trace.node_names)
        _str_dataset(f, "layer_names", trace.layer_names)
        f.create_dataset("outputs", data=np.asarray(trace.outputs, dtype=np.float64))
        for name in COUNT_FIELDS:
            f.create_dataset(name, data=np.asarray(getattr(trace, name), dtype=np.int64))
        spikes = f.create_group("gate_spikes")
        for i, layer in enumerate(trace.layer_names):
            g = np.asarray(trace.gate_spikes[layer], dtype=bool)
            d = spikes.create_dataset(str(i), data=np.packbits(g, axis=-1))
            d.attrs["layer"] = str(layer)
            d.attrs["H"] = np.int64(g.shape[-1])
        f.attrs["metadata"] = json.dumps(trace.metadata)

    _write(path, TRACE_FORMAT, body)


def read_trace(path: str | os.PathLike) -> Trace:
    """Read a trace written by :func:`write_trace`; UserError naming the file on any problem."""
    with _Reader(path, TRACE_FORMAT, "trace") as r:
        f = r.f
        for name in ("node_names", "layer_names", "outputs", "gate_spikes", *COUNT_FIELDS):
            if name not in f:
                r.fail(f"missing field '{name}'")
        for name in ("backend", "n_samples"):
            if name not in f.attrs:
                r.fail(f"missing field '{name}'")
        layer_names = tuple(str(s) for s in _read_strings(f["layer_names"]))
        packed = {}
        for d in f["gate_spikes"].values():
            packed[_attr_value(d.attrs["layer"])] = (d[()], int(_attr_value(d.attrs["H"])))
        gate_spikes = {}
        for layer in layer_names:
            if layer not in packed:
                r.fail(f"gate_spikes: missing layer '{layer}'")
            bits, h = packed[layer]
            if bits.ndim != 3 or bits.shape[-1] != -(-h // 8):
                r.fail(f"gate_spikes of layer '{layer}': {bits.shape} does not hold H={h} bits per step")
            gate_spikes[layer] = np.unpackbits(bits, axis=-1, count=h).astype(bool)
        try:
            metadata = json.loads(_attr_value(f.attrs.get("metadata", "{}")))
        except (TypeError, ValueError) as e:
            r.fail(f"attribute 'metadata': not valid JSON ({_one_line(e)})")
        return Trace(
            backend=str(_attr_value(f.attrs["backend"])),
            node_names=tuple(str(s) for s in _read_strings(f["node_names"])),
            layer_names=layer_names,
            outputs=np.asarray(f["outputs"][()], dtype=np.float64),
            gate_spikes=gate_spikes,
            n_samples=int(_attr_value(f.attrs["n_samples"])),
            metadata=metadata,
            **{name: np.asarray(f[name][()], dtype=np.int64) for name in COUNT_FIELDS},
        )
