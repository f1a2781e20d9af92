"""Cache of binned splits: one HDF5 file per (dataset, split, sources, binning, limit).

The key is the SHA-256 of a JSON document holding the cache format, the dataset and its reader
version, the split, the sample limit, every source file's name, size and mtime (ns), the
:class:`~surnn_neuro.datasets.transforms.BinningConfig` and any extra reader parameters. Touching
or replacing a source file therefore makes a new entry; when one is written, the entries of the same
dataset and split made from other versions of the source files are removed (entries for other
binnings of the same files are kept).

File ``<cache_dir>/<dataset>-<split>-<key[:16]>.h5``: datasets ``x`` (N, T, V) float32 (lzf
compressed, chunked per sample), ``y`` (N,) int64; attributes ``key`` (the full hash), ``format``
and ``info`` (JSON). Written through :func:`surnn_neuro.fileio.atomic_path` only after every sample
was read and validated, so an error in a source file leaves no entry, and a reader never sees a
half-written one. A cache file that cannot be read is treated as a miss and rewritten.

Cache folder: the ``cache_dir`` argument, else ``$SURNN_NEURO_CACHE``, else
``$XDG_CACHE_HOME/surnn-neuro/datasets`` (``~/.cache/surnn-neuro/datasets``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from surnn_neuro.fileio import atomic_path

CACHE_FORMAT = 1
CACHE_ENV = "SURNN_NEURO_CACHE"


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "surnn-neuro" / "datasets"


def source_stamp(paths) -> list:
    """``[name, size, mtime_ns]`` of each source file (its absolute path as the name)."""
    out = []
    for p in paths:
        st = Path(p).stat()
        out.append([str(Path(p).resolve()), st.st_size, st.st_mtime_ns])
    return out


def _jsonable(v):
    if hasattr(v, "__dataclass_fields__"):
        import dataclasses

        return {k: _jsonable(x) for k, x in dataclasses.asdict(v).items()}
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _digest(doc) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def cache_key(dataset: str, split: str, sources, config, limit=None, extra=None) -> str:
    """SHA-256 hex digest identifying one binned split (see the module docstring)."""
    doc = {"format": CACHE_FORMAT, "dataset": dataset, "split": split, "limit": limit,
           "sources": source_stamp(sources), "config": _jsonable(config),
           "extra": _jsonable(extra or {})}
    return _digest(doc)


def sources_key(dataset: str, split: str, sources) -> str:
    """Digest of the source files alone: entries with another one are stale."""
    return _digest({"dataset": dataset, "split": split, "sources": source_stamp(sources)})


def cache_path(cache_dir, dataset: str, split: str, key: str) -> Path:
    return Path(cache_dir) / f"{dataset}-{split}-{key[:16]}.h5"


def read_cache(path: Path, key: str):
    """``(x, y, info)`` if ``path`` is a complete entry for ``key``, else None."""
    import h5py

    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("key") != key or int(f.attrs.get("format", -1)) != CACHE_FORMAT:
                return None
            x = f["x"][()]
            y = f["y"][()]
            info = json.loads(f.attrs["info"])
    except (OSError, KeyError, ValueError, TypeError):
        return None
    return x, y, info


def write_cache(path: Path, key: str, x: np.ndarray, y: np.ndarray, info: dict,
                source_key: str = "") -> None:
    """Write an entry atomically; remove entries of the same dataset and split whose
    ``source_key`` differs (made from other versions of the source files)."""
    import h5py

    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            chunks = (1,) + x.shape[1:] if x.shape[0] and x[0].size else None
            f.create_dataset("x", data=x, chunks=chunks, compression="lzf" if chunks else None)
            f.create_dataset("y", data=y)
            f.attrs["key"] = key
            f.attrs["format"] = CACHE_FORMAT
            f.attrs["info"] = json.dumps(_jsonable(info))
            f.attrs["source_key"] = source_key
    prefix = path.name[: -len(path.name.split("-")[-1])]  # "<dataset>-<split>-"
    for old in path.parent.glob(prefix + "*.h5"):
        if old == path or len(old.name) != len(path.name):
            continue
        try:
            with h5py.File(old, "r") as f:
                stale = f.attrs.get("source_key") != source_key
        except (OSError, KeyError):
            stale = True
        if stale:
            with contextlib.suppress(OSError):
                old.unlink()
