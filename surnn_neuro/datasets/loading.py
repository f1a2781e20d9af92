"""Reading by name: open a split, bin it to frames (cached), or load any task as numpy arrays.

* :func:`open_split` opens a split of an event dataset for raw events.
* :func:`load_split` bins a split to ``(N, T, V)`` float32 frames through the cache
  (:mod:`surnn_neuro.datasets.cache`).
* :func:`task_data` makes the train/test pair of an event dataset a :class:`TaskData`.
* :func:`load_task_arrays` loads any task of :mod:`surnn_neuro.datasets.registry` by name.
"""

from __future__ import annotations

import time

import numpy as np

from surnn_neuro.datasets.base import DatasetSpec, EventSplit, limited
from surnn_neuro.datasets.cache import (cache_key, cache_path, default_cache_dir, read_cache,
                                        sources_key, write_cache)
from surnn_neuro.datasets.events import event_stats
from surnn_neuro.datasets.registry import EVENT_TASKS, TASKS, get_spec, known_tasks
from surnn_neuro.datasets.task import TaskData
from surnn_neuro.datasets.transforms import (BinningConfig, bin_events, check_config,
                                             input_layout, output_size)
from surnn_neuro.errors import UserError
from surnn_neuro.preflight import check_fits

__all__ = ["open_split", "load_split", "task_data", "load_task_arrays"]


def open_split(name: str, split: str, data_dir=None) -> EventSplit:
    """Open a split for reading raw events (``for s in split.samples(): s.events, s.label``)."""
    spec = get_spec(name)
    if split not in spec.splits:
        raise UserError(f"{spec.title}: unknown split {split!r}; known: {', '.join(spec.splits)}"
                        + (" (SHD has no official validation split; holdout-train/holdout-valid "
                           "are a fixed 90/10 split of shd_train.h5)"
                           if name == "shd" and split == "valid" else ""))
    return spec.open_split(data_dir, split)


def _resolve_config(spec: DatasetSpec, config) -> BinningConfig:
    if config is None:
        return spec.default_config
    if not isinstance(config, BinningConfig):
        raise TypeError(f"config must be a BinningConfig, got {type(config).__name__}")
    try:
        check_config(spec.sensor_size, config)
    except ValueError as e:
        raise UserError(f"{spec.name}: {e}") from None
    return config


def _stats(values: np.ndarray) -> dict:
    if values.size == 0:
        return {"mean": 0.0, "min": 0, "max": 0}
    return {"mean": float(values.mean()), "min": int(values.min()), "max": int(values.max())}


def load_split(name: str, split: str, data_dir=None, config: BinningConfig | None = None,
               limit: int | None = None, progress: bool = True, *, cache_dir=None,
               use_cache: bool = True) -> tuple[np.ndarray, np.ndarray, dict]:
    """Binned frames of one split: ``x`` float32 ``(N, T, V)``, ``y`` int64 ``(N,)``, ``info``.

    name: a key of :data:`DATASETS`. split: one of its splits. data_dir: the folder with the
    dataset's files (``None``: ``$SURNN_NEURO_DATA`` or its sub-folder; unused by event-digits).
    config: the :class:`BinningConfig` (``None``: the dataset's default). limit: read only the
    first ``limit`` samples of the split (in the reader's fixed order). progress: tqdm bar on
    stderr. cache_dir / use_cache: see :mod:`surnn_neuro.datasets.cache`.

    ``info`` holds the dataset, split, sizes, class names, input layout, the binning, statistics of
    events per sample and duration, and ``cache`` ("hit", "miss" or "off") with the cache path.
    UserError for unknown names or splits, missing files and malformed samples; nothing is cached
    then.
    """
    from tqdm.auto import tqdm

    spec = get_spec(name)
    config = _resolve_config(spec, config)
    es = open_split(name, split, data_dir)
    n = limited(len(es), limit)
    T, V = config.n_bins, output_size(es.sensor_size, config)
    path = key = None
    if use_cache:
        extra = {"reader": spec.reader_version, "encoding": es.meta.get("encoding")}
        key = cache_key(name, split, es.sources, config, n if n < len(es) else None, extra)
        path = cache_path(cache_dir or default_cache_dir(), name, split, key)
        hit = read_cache(path, key)
        if hit is not None:
            x, y, info = hit
            info["cache"] = {"status": "hit", "path": str(path)}
            return x, y, info
    t0 = time.perf_counter()
    check_fits(4.0 * n * T * V, f"{name} {split}: {n} samples × {T} bins (--seq-len) × {V} inputs",
               "use fewer time bins (--seq-len) or fewer samples")
    x = np.zeros((n, T, V), dtype=np.float32)
    y = np.zeros(n, dtype=np.int64)
    n_events = np.zeros(n, dtype=np.int64)
    dur = np.zeros(n, dtype=np.int64)
    with tqdm(total=n, desc=f"{name} {split}", unit="sample", disable=None if progress else True,
              leave=False) as bar:  # a bar on a terminal only
        for i, s in enumerate(es.samples(n)):
            x[i] = bin_events(s.events, es.sensor_size, config)
            y[i] = s.label
            n_events[i], dur[i] = event_stats(s.events)
            bar.update()
    info = {
        "dataset": name, "title": spec.title, "split": split, "n_samples": n,
        "n_classes": spec.n_classes, "classes": list(es.classes),
        "sensor_size": list(es.sensor_size), "n_bins": T, "n_inputs": V,
        "input_layout": input_layout(es.sensor_size, config), "config": config.to_dict(),
        "bin_us": (config.duration_us / T) if config.duration_us else None,
        "events_per_sample": _stats(n_events), "duration_us": _stats(dur),
        "class_counts": np.bincount(y, minlength=spec.n_classes).tolist(),
        "root": str(es.root), "layout": es.meta.get("layout"),
        "read_seconds": round(time.perf_counter() - t0, 3),
    }
    if use_cache:
        write_cache(path, key, x, y, info, sources_key(name, split, es.sources))
        info["cache"] = {"status": "miss", "path": str(path)}
    else:
        info["cache"] = {"status": "off", "path": None}
    return x, y, info


def task_data(name: str, data_dir=None, bins: int | None = None, limit: int | None = None,
              config: BinningConfig | None = None, progress: bool = True, cache_dir=None) -> TaskData:
    """The train/test pair of an event dataset as a numpy :class:`TaskData` (classification,
    metric accuracy, readout from :data:`DATASETS`). ``bins`` overrides ``n_bins`` of the (default)
    binning; ``limit`` caps the samples of each split."""
    spec = get_spec(name)
    config = _resolve_config(spec, config)
    if bins is not None:
        try:
            config = config.replace(n_bins=int(bins))
        except (ValueError, TypeError) as e:
            raise UserError(f"--bins: {e}") from None
    xtr, ytr, itr = load_split(name, spec.train_split, data_dir, config, limit, progress,
                               cache_dir=cache_dir)
    xte, yte, ite = load_split(name, spec.test_split, data_dir, config, limit, progress,
                               cache_dir=cache_dir)
    info = {"seq_len": config.n_bins, "chance": 1.0 / spec.n_classes, "n_inputs": xtr.shape[-1],
            "binning": config.to_dict(), "input_layout": itr["input_layout"],
            "train": itr, "test": ite}
    return TaskData(name, "classification", xtr, ytr, xte, yte, spec.n_classes, spec.readout,
                    "accuracy", info)


def load_task_arrays(name: str, seq_len=None, data_dir=None, seed=0, **kw) -> TaskData:
    """Any task by name as a numpy :class:`TaskData` (the torch view:
    :func:`surnn_neuro.training.tasks.load_task`). Event datasets: ``seq_len`` sets the number of
    time bins and ``limit`` (in ``kw``) caps the samples per split. Array tasks: ``seq_len`` is the
    sequence length where the task has a free one. UserError listing the known tasks otherwise."""
    if name in EVENT_TASKS:
        return task_data(name, data_dir=data_dir, bins=seq_len, limit=kw.get("limit"))
    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; known: {', '.join(known_tasks())}")
    spec = TASKS[name]
    if seq_len is not None and spec.fixed_length:
        raise UserError(f"--seq-len: task {name} has a fixed length; drop the option")
    args = dict(seed=seed, data_dir=data_dir, **kw)
    if seq_len is not None:
        args["seq_len"] = int(seq_len)
    return spec.load(**args)
