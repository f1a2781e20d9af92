"""Event datasets: readers, one event dtype, binning to ``(T, V)`` frames, a cache, and checks.

Tasks (the :data:`DATASETS` table; docs/datasets.md has formats, defaults and training recipes):

================  =====================================  ===============  ========  ======  =====
name              data                                   splits           classes   sensor  V
================  =====================================  ===============  ========  ======  =====
``shd``           ``shd_train.h5``, ``shd_test.h5``      train, test,     20        700     140
                                                         holdout-train,
                                                         holdout-valid
``ssc``           ``ssc_{train,valid,test}.h5``          train/valid/test 35        700     140
``dvs-gesture``   AEDAT 3.1 release or tonic's npy tree  train, test      11        128²×2  2048
``nmnist``        ``Train/<d>/*.bin``, ``Test/<d>/*.bin`` train, test      10        34²×2   578
``event-digits``  built in (scikit-learn digits)         train, test      10        12²×2   288
================  =====================================  ===============  ========  ======  =====

Main entry points: :func:`load_split` (binned arrays for training, cached), :func:`task_data` (the
train/test pair as a ``training.tasks.TaskData``) and :func:`check` (the summary printed by
``surnn-neuro data check PATH``). Every problem with the user's files raises
:class:`~surnn_neuro.errors.UserError` naming the file, the sample and the problem.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from surnn_neuro.datasets import dvs_gesture, event_digits, nmnist, shd
from surnn_neuro.datasets.base import EventSplit, Sample, archive_hint, limited
from surnn_neuro.datasets.cache import (cache_key, cache_path, default_cache_dir, read_cache,
                                        sources_key, write_cache)
from surnn_neuro.datasets.events import EVENT_DTYPE, event_stats, make_events, validate_events
from surnn_neuro.datasets.transforms import (BinningConfig, bin_events, check_config, denoise,
                                             input_layout, output_size)
from surnn_neuro.errors import UserError

__all__ = ["DATASETS", "DatasetSpec", "BinningConfig", "EVENT_DTYPE", "EventSplit", "Sample",
           "load_split", "open_split", "task_data", "check", "get_spec", "bin_events", "denoise",
           "make_events", "validate_events", "output_size"]


@dataclass(frozen=True)
class DatasetSpec:
    """One entry of :data:`DATASETS`.

    open_split(data_dir, split) -> EventSplit opens a split (UserError if files are missing);
    detect(folder) -> bool says whether ``folder`` holds this dataset; available(folder) lists the
    splits present there. ``subdirs`` are the sub-folder names tried under a data directory.
    """

    name: str
    title: str
    kind: str  # "audio" | "camera"
    sensor_size: tuple[int, int, int]
    n_classes: int
    splits: tuple[str, ...]
    default_config: BinningConfig
    readout: str
    files: str
    urls: tuple[str, ...]
    open_split: Callable[..., EventSplit]
    detect: Callable[[Path], bool]
    available: Callable[[Path], tuple[str, ...]]
    subdirs: tuple[str, ...] = ()
    reader_version: int = 1
    train_split: str = "train"
    test_split: str = "test"


def _shd_detect(kind: str, d: Path) -> bool:
    return kind in shd.detect(d)


def _shd_available(kind: str, d: Path):
    return tuple(s for s, f in shd.KINDS[kind]["files"].items() if (d / f).is_file())


def _gesture_available(d: Path):
    return tuple(s for s in dvs_gesture.SPLITS
                 if (d / dvs_gesture.TRIAL_LISTS[s]).is_file() or (d / dvs_gesture.NPY_DIRS[s]).is_dir())


def _nmnist_available(d: Path):
    return tuple(s for s in nmnist.SPLITS if nmnist._split_dir(d, s) is not None)


def _digits_open(data_dir, split):
    return event_digits.open_split(split)


def _digits_detect(d: Path) -> bool:
    return False


def _digits_available(d: Path):
    return ("train", "test")


DATASETS: dict[str, DatasetSpec] = {
    "shd": DatasetSpec(
        "shd", shd.KINDS["shd"]["title"], "audio", shd.SENSOR_SIZE, 20, shd.SPLITS["shd"],
        BinningConfig(n_bins=100, duration_us=1_400_000, channels=140), "mean",
        "shd_train.h5, shd_test.h5", (shd.URL,),
        partial(shd.open_split, "shd"), partial(_shd_detect, "shd"),
        partial(_shd_available, "shd"), shd.KINDS["shd"]["subdirs"],
        shd.READER_VERSION),
    "ssc": DatasetSpec(
        "ssc", shd.KINDS["ssc"]["title"], "audio", shd.SENSOR_SIZE, 35, shd.SPLITS["ssc"],
        BinningConfig(n_bins=100, duration_us=1_000_000, channels=140), "mean",
        "ssc_train.h5, ssc_valid.h5, ssc_test.h5", (shd.URL,),
        partial(shd.open_split, "ssc"), partial(_shd_detect, "ssc"),
        partial(_shd_available, "ssc"), shd.KINDS["ssc"]["subdirs"],
        shd.READER_VERSION),
    "dvs-gesture": DatasetSpec(
        "dvs-gesture", dvs_gesture.TITLE, "camera", dvs_gesture.SENSOR_SIZE, dvs_gesture.N_CLASSES,
        dvs_gesture.SPLITS, BinningConfig(n_bins=40, duration_us=2_000_000, spatial_factor=4),
        "mean", "trials_to_train.txt, trials_to_test.txt, userNN_<lighting>.aedat, "
        "userNN_<lighting>_labels.csv (or tonic's ibmGestureTrain/, ibmGestureTest/)",
        (dvs_gesture.URL,), dvs_gesture.open_split, dvs_gesture.detect, _gesture_available,
        dvs_gesture.SUBDIRS, dvs_gesture.READER_VERSION),
    "nmnist": DatasetSpec(
        "nmnist", nmnist.TITLE, "camera", nmnist.SENSOR_SIZE, 10, nmnist.SPLITS,
        BinningConfig(n_bins=20, duration_us=300_000, spatial_factor=2), "last",
        "Train/<digit>/*.bin, Test/<digit>/*.bin", (nmnist.URL,), nmnist.open_split,
        nmnist.detect, _nmnist_available, nmnist.SUBDIRS, nmnist.READER_VERSION),
    "event-digits": DatasetSpec(
        "event-digits", event_digits.TITLE, "camera", event_digits.SENSOR_SIZE, 10,
        event_digits.SPLITS, BinningConfig(n_bins=30, duration_us=300_000), "last",
        "none (built from sklearn.datasets.load_digits)", (), _digits_open,
        _digits_detect, _digits_available, (), event_digits.READER_VERSION),
}


def get_spec(name: str) -> DatasetSpec:
    """The :data:`DATASETS` entry; UserError listing the known names otherwise."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise UserError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


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
    x = np.zeros((n, T, V), dtype=np.float32)
    y = np.zeros(n, dtype=np.int64)
    n_events = np.zeros(n, dtype=np.int64)
    dur = np.zeros(n, dtype=np.int64)
    with tqdm(total=n, desc=f"{name} {split}", unit="sample", disable=not progress,
              leave=False) as bar:
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
              config: BinningConfig | None = None, progress: bool = True, cache_dir=None):
    """The train/test pair of an event dataset as ``surnn_neuro.training.tasks.TaskData``
    (classification, metric accuracy, readout from :data:`DATASETS`). ``bins`` overrides
    ``n_bins`` of the (default) binning; ``limit`` caps the samples of each split."""
    import torch

    from surnn_neuro.training.tasks import TaskData

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
    return TaskData(name, "classification", torch.as_tensor(xtr), torch.as_tensor(ytr),
                    torch.as_tensor(xte), torch.as_tensor(yte), spec.n_classes, spec.readout,
                    "accuracy", info)


# --------------------------------------------------------------------------------------------- check

def _fmt_split(split: str, labels, n_events, durs, n_classes: int) -> str:
    labels, n_events, durs = (np.asarray(a, dtype=np.int64) for a in (labels, n_events, durs))
    n = labels.size
    if n == 0:
        return f"  {split:<14} 0 samples"
    classes = int(np.unique(labels).size)
    total_s = durs.sum() / 1e6
    rate = n_events.sum() / total_s if total_s > 0 else 0.0
    return (f"  {split:<14} {n:>7} samples  {classes}/{n_classes} classes  "
            f"duration ms mean {durs.mean() / 1e3:.1f} (min {durs.min() / 1e3:.1f}, max "
            f"{durs.max() / 1e3:.1f})  events/sample mean {n_events.mean():.1f} (min "
            f"{n_events.min()}, max {n_events.max()})  rate {rate:,.0f} ev/s")


def _scan(samples, progress: bool, desc: str, total: int):
    from tqdm.auto import tqdm

    labels, n_ev, durs = [], [], []
    with tqdm(samples, total=total, desc=desc, unit="sample", disable=not progress,
              leave=False) as it:
        for s in it:
            labels.append(s.label)
            n, d = event_stats(s.events)
            n_ev.append(n)
            durs.append(d)
    return labels, n_ev, durs


def _check_dataset(spec: DatasetSpec, root: Path, limit, progress) -> list[str]:
    lines = [f"{spec.title} ({spec.name}) in {root}"]
    splits = spec.available(root)
    for split in spec.splits:
        if split not in splits:
            if not split.startswith("holdout-"):
                lines.append(f"  {split:<14} missing")
            continue
        es = spec.open_split(root, split)
        n = limited(len(es), limit)
        stats = _scan(es.samples(n), progress, f"{spec.name} {split}", n)
        lines.append(_fmt_split(split, *stats, spec.n_classes))
        if es.meta.get("layout"):
            lines[-1] += f"  [{es.meta['layout']} layout]"
    return lines


def _check_file(p: Path, limit, progress) -> str:
    name = p.name.lower()
    for suf in (".zip", ".tar.gz", ".tgz", ".tar", ".gz"):
        if name.endswith(suf):
            raise UserError(f"{p}: an archive; unpack it first and check the unpacked folder or file")
    if name.endswith(".h5"):
        # the file name says SHD or SSC; otherwise labels >= 20 mean SSC
        kind = "ssc" if name.startswith("ssc") else "shd"
        named = name.startswith(("shd", "ssc"))
        head = shd.read_header(p, shd.KINDS[kind]["n_classes"] if named else 35)
        if not named and head["labels"].max(initial=0) >= 20:
            kind = "ssc"
        labels = head["labels"]
        idx = np.arange(limited(len(labels), limit))
        stats = _scan(shd._iter_file(p, labels, idx) if idx.size else iter(()), progress,
                      p.name, idx.size)
        return "\n".join([f"{shd.KINDS[kind]['title']} file {p}",
                          _fmt_split(p.stem, *stats, shd.KINDS[kind]["n_classes"])])
    if name.endswith(".aedat"):
        ev = dvs_gesture.read_aedat(p)
        lines = [f"{dvs_gesture.TITLE} AEDAT 3.1 file {p}: {ev.size} valid polarity events"]
        if ev.size:
            n, d = event_stats(ev)
            lines.append(f"  duration {d / 1e6:.2f} s, rate {n / max(d, 1) * 1e6:,.0f} ev/s, "
                         f"x {ev['x'].min()}..{ev['x'].max()}, y {ev['y'].min()}..{ev['y'].max()}, "
                         f"ON fraction {ev['p'].mean():.2f}")
        labels_csv = p.with_name(p.stem + "_labels.csv")
        if labels_csv.is_file():
            rows = dvs_gesture.read_labels_csv(labels_csv)
            names = [f"{k} (class {r[0] + 1})" for k, r in enumerate(rows)]
            samples = [Sample(e, lab, str(k)) for k, (e, lab) in
                       enumerate(dvs_gesture.cut_gestures(ev, rows, str(p), names))]
            lines.append(_fmt_split("gestures", *_scan(samples, False, "", len(samples)),
                                    dvs_gesture.N_CLASSES))
        return "\n".join(lines)
    if name.endswith(".bin"):
        ev = nmnist.read_bin(p)
        n, d = event_stats(ev)
        return (f"{nmnist.TITLE} sample {p}: {n} events, duration {d / 1e3:.1f} ms, "
                f"ON fraction {ev['p'].mean() if n else 0:.2f}")
    if name.endswith(".npy"):
        ev = dvs_gesture.read_npy_sample(p, p.name)
        n, d = event_stats(ev)
        return (f"{dvs_gesture.TITLE} sample (tonic npy) {p}: {n} events, duration "
                f"{d / 1e3:.1f} ms")
    raise UserError(f"{p}: not a recognised event file (expected .h5 SHD/SSC, .aedat DVS128 "
                    f"Gesture, .bin N-MNIST or .npy tonic DVS Gesture sample, or a folder)")


def detect(path) -> list[tuple[str, Path]]:
    """``(dataset name, folder)`` for every dataset found in ``path`` or its known sub-folders."""
    path = Path(path)
    found = []
    for name, spec in DATASETS.items():
        for d in [path] + [path / s for s in spec.subdirs]:
            if d.is_dir() and spec.detect(d):
                found.append((name, d))
                break
    return found


def check(path, limit: int | None = None, progress: bool = False) -> str:
    """Summary of the event data at ``path`` (a dataset folder, a parent of dataset folders, or
    one file): per split the samples, classes, duration and event statistics. Reads and validates
    every sample (``limit``: only the first ones per split), so a malformed file raises UserError.
    ``check("event-digits")`` summarises the built-in dataset."""
    p = Path(path).expanduser()
    if not p.exists():
        if str(path) == "event-digits":
            spec = DATASETS["event-digits"]
            lines = [f"{spec.title} (built in)"]
            for split in ("train", "test"):
                es = spec.open_split(None, split)
                n = limited(len(es), limit)
                lines.append(_fmt_split(split, *_scan(es.samples(n), progress, split, n), 10))
            return "\n".join(lines)
        raise UserError(f"{p}: no such file or folder")
    if p.is_file():
        return _check_file(p, limit, progress)
    found = detect(p)
    if not found:
        for spec in DATASETS.values():
            names = {"shd": ("shd_train.h5", "shd_test.h5"),
                     "ssc": ("ssc_train.h5", "ssc_valid.h5", "ssc_test.h5"),
                     "dvs-gesture": ("DvsGesture", "ibmGestureTrain", "ibmGestureTest"),
                     "nmnist": ("train", "test", "Train", "Test")}.get(spec.name, ())
            hint = archive_hint(p, names)
            if hint:
                raise UserError(f"{spec.title}: {hint}")
        raise UserError(
            f"{p}: no event dataset recognised; looked for SHD (shd_train.h5, shd_test.h5), SSC "
            f"(ssc_train.h5, ssc_valid.h5, ssc_test.h5), DVS128 Gesture (trials_to_train.txt + "
            f"userNN_<lighting>.aedat, or tonic's ibmGestureTrain/ and ibmGestureTest/) and "
            f"N-MNIST (Train/<digit>/*.bin, Test/<digit>/*.bin), in the folder and in its "
            f"sub-folders {', '.join(sorted({s for sp in DATASETS.values() for s in sp.subdirs}))}")
    lines = []
    for name, root in found:
        lines += _check_dataset(DATASETS[name], root, limit, progress)
    return "\n".join(lines)
