"""SHD and SSC (Spiking Heidelberg Digits / Spiking Speech Commands) from their HDF5 files.

Layout (Cramer et al. 2022; https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/)::

    spikes/times   (N,) vlen float, seconds from the start of the recording
    spikes/units   (N,) vlen uint16, channel 0..699 of the cochlea model
    labels         (N,) integer class
    extra/speaker  (N,) optional; extra/keys: optional class names; extra/meta_info: optional

Files: ``shd_train.h5``, ``shd_test.h5`` (20 classes, no official validation split) and
``ssc_train.h5``, ``ssc_valid.h5``, ``ssc_test.h5`` (35 classes), published zipped at
https://zenkelab.org/datasets/ (``shd_train.h5.zip`` …); unzip them first.

Events: ``t = round(times · 1e6)`` µs, ``x = unit``, ``y = 0``, ``p = 0``; sensor ``(700, 1, 1)``.
Samples must already be time-ordered (they are, as far as tonic's binning relies on it); a sample
whose times decrease is reported, not silently sorted.

SHD held-out split (not official, for model selection without touching the test set):
``holdout-valid`` = within each class, every 10th sample of ``shd_train.h5`` in file order (the
class ranks 9, 19, 29, …), about 10 %; ``holdout-train`` = the remaining 90 %. No random seed is
involved, so the split is the same everywhere.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np

from surnn_neuro.datasets.base import (DatasetSpec, EventSplit, Sample, archive_hint,
                                      candidate_dirs, class_ranks, limited)
from surnn_neuro.datasets.events import EVENT_DTYPE, check_addresses, check_timestamps
from surnn_neuro.datasets.transforms import BinningConfig
from surnn_neuro.errors import UserError

N_CHANNELS = 700
SENSOR_SIZE = (N_CHANNELS, 1, 1)
URL = "https://zenkelab.org/datasets/"
READER_VERSION = 1
_CHUNK = 512  # samples read per HDF5 request: vlen reads are slow one by one
HOLDOUT_EVERY = 10

KINDS = {
    "shd": {"title": "SHD (Spiking Heidelberg Digits)", "n_classes": 20,
            "files": {"train": "shd_train.h5", "test": "shd_test.h5"},
            "subdirs": ("shd", "SHD", "hsd")},
    "ssc": {"title": "SSC (Spiking Speech Commands)", "n_classes": 35,
            "files": {"train": "ssc_train.h5", "valid": "ssc_valid.h5", "test": "ssc_test.h5"},
            "subdirs": ("ssc", "SSC", "hsd")},
}
SPLITS = {"shd": ("train", "test", "holdout-train", "holdout-valid"),
          "ssc": ("train", "valid", "test")}


def expected_files(kind: str) -> str:
    return ", ".join(KINDS[kind]["files"].values())


def locate(kind: str, data_dir, split: str) -> Path:
    """Path of the HDF5 file holding ``split``; UserError naming the expected files otherwise."""
    spec = KINDS[kind]
    fname = spec["files"]["train" if split.startswith("holdout-") else split]
    dirs = candidate_dirs(data_dir, spec["subdirs"])
    for d in dirs:
        if (d / fname).is_file():
            return d / fname
    for d in dirs:
        hint = archive_hint(d, (fname,))
        if hint:
            raise UserError(f"{spec['title']}: {hint}")
    raise UserError(f"{spec['title']}: {fname} not found in {', '.join(str(d) for d in dirs)}; "
                    f"expected the files {expected_files(kind)} (published zipped at {URL}; "
                    f"unzip them into the data directory)")


def _open_h5(path: Path):
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise UserError(f"{path}: cannot open as HDF5 ({_short(e)}); the file is truncated or not "
                        f"an SHD/SSC file: download it again") from None


def _short(e: Exception) -> str:
    return " ".join(str(e).split())[:200]


def read_header(path: Path, n_classes: int) -> dict:
    """Check the layout of an SHD/SSC file and read its labels and optional metadata.

    Returns ``{"labels": int64 (N,), "classes": tuple[str] | None, "speaker": int array | None}``.
    UserError for missing keys, mismatched lengths or labels outside ``0..n_classes-1``.
    """
    with _open_h5(path) as f:
        missing = [k for k in ("spikes/times", "spikes/units", "labels") if k not in f]
        if missing:
            found = sorted(f.keys())
            raise UserError(f"{path}: not an SHD/SSC file: missing {', '.join(missing)} (top-level "
                            f"keys found: {', '.join(found) or 'none'}); expected spikes/times, "
                            f"spikes/units, labels")
        try:
            times, units, labels_ds = f["spikes/times"], f["spikes/units"], f["labels"]
            n = len(labels_ds)
            if times.shape != (n,) or units.shape != (n,):
                raise UserError(f"{path}: spikes/times has shape {times.shape}, spikes/units "
                                f"{units.shape} and labels ({n},); all three need one entry per "
                                f"sample")
            labels = labels_ds[()]
            classes = speaker = None
            if "extra/keys" in f:
                keys = [k.decode() if isinstance(k, bytes) else str(k) for k in f["extra/keys"][()]]
                if len(keys) == n_classes:
                    classes = tuple(keys)
            if "extra/speaker" in f and f["extra/speaker"].shape == (n,):
                speaker = np.asarray(f["extra/speaker"][()])
        except UserError:
            raise
        except (OSError, KeyError, TypeError, ValueError) as e:
            raise UserError(f"{path}: cannot read the SHD/SSC layout ({_short(e)}); the file is "
                            f"truncated or damaged") from None
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{path}: labels must be a 1-D integer array, got dtype {labels.dtype} "
                        f"and shape {labels.shape}")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        i = int(bad[0])
        raise UserError(f"{path}: sample {i}: label {int(labels[i])} out of range "
                        f"0..{n_classes - 1}")
    return {"labels": labels.astype(np.int64), "classes": classes, "speaker": speaker}


def holdout_indices(labels: np.ndarray, part: str) -> np.ndarray:
    """Indices of the SHD held-out split ``part`` ("train" or "valid"), see the module docstring.

    >>> holdout_indices(np.array([0] * 12 + [1] * 3), "valid").tolist()  # 10th of class 0
    [9]
    """
    valid = class_ranks(labels) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    return np.flatnonzero(valid if part == "valid" else ~valid)


def decode_sample(times: np.ndarray, units: np.ndarray, where: str, sample) -> np.ndarray:
    """Events of one sample from its ``times`` (s) and ``units`` arrays, validated."""
    if len(times) != len(units):
        raise UserError(f"{where}: sample {sample}: ragged sample: spikes/times has {len(times)} "
                        f"entries but spikes/units has {len(units)}")
    t = np.asarray(times, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        i = int(np.flatnonzero(~np.isfinite(t))[0])
        raise UserError(f"{where}: sample {sample}: non-finite time {t[i]} at event {i}")
    t_us = np.rint(t * 1e6).astype(np.int64)
    u = np.asarray(units).astype(np.int64)
    check_timestamps(t_us, where, sample)
    check_addresses(u, np.zeros(0), np.zeros(0), SENSOR_SIZE, where, sample)
    ev = np.zeros(len(t_us), dtype=EVENT_DTYPE)
    ev["t"] = t_us
    ev["x"] = u
    return ev


def _iter_file(path: Path, labels: np.ndarray, indices: np.ndarray) -> Iterator[Sample]:
    with _open_h5(path) as f:
        times, units = f["spikes/times"], f["spikes/units"]
        for c0 in range(0, len(indices), _CHUNK):
            idx = indices[c0:c0 + _CHUNK]
            lo, hi = int(idx[0]), int(idx[-1]) + 1
            try:
                tc, uc = times[lo:hi], units[lo:hi]
            except (OSError, TypeError, ValueError) as e:
                raise UserError(f"{path}: cannot read samples {lo}..{hi - 1} ({_short(e)}); the file "
                                f"is truncated or damaged") from None
            for i in idx:
                i = int(i)
                ev = decode_sample(tc[i - lo], uc[i - lo], str(path), i)
                yield Sample(ev, int(labels[i]), f"{path.name}[{i}]")


def open_split(kind: str, data_dir, split: str) -> EventSplit:
    """Open ``split`` of ``kind`` ("shd" or "ssc"); see the module docstring for the splits."""
    spec = KINDS[kind]
    if split not in SPLITS[kind]:
        extra = (" (SHD has no official validation split; use holdout-train / holdout-valid, "
                 "a fixed 90/10 split of shd_train.h5)" if kind == "shd" and split == "valid" else "")
        raise UserError(f"{spec['title']}: unknown split {split!r}; known: "
                        f"{', '.join(SPLITS[kind])}{extra}")
    path = locate(kind, data_dir, split)
    head = read_header(path, spec["n_classes"])
    labels = head["labels"]
    if split.startswith("holdout-"):
        indices = holdout_indices(labels, split.split("-", 1)[1])
    else:
        indices = np.arange(len(labels))
    classes = head["classes"] or tuple(str(i) for i in range(spec["n_classes"]))

    def read(limit=None):
        n = limited(len(indices), limit)
        if n == 0:
            return iter(())
        return _iter_file(path, labels, indices[:n])

    meta = {}
    if head["speaker"] is not None:
        meta["speaker"] = head["speaker"][indices]
    return EventSplit(kind, split, path.parent, len(indices), (path,), classes, SENSOR_SIZE, read,
                      meta)


def detect(folder: Path) -> list[str]:
    """Kinds ("shd", "ssc") whose files are in ``folder``."""
    return [k for k, s in KINDS.items() if any((folder / f).is_file() for f in s["files"].values())]


def _detect_kind(kind: str, folder: Path) -> bool:
    return kind in detect(folder)


def available(kind: str, folder: Path) -> tuple[str, ...]:
    """Splits of ``kind`` whose files are in ``folder`` (the holdout splits are not listed)."""
    return tuple(s for s, f in KINDS[kind]["files"].items() if (folder / f).is_file())


def _spec(kind: str, duration_us: int) -> DatasetSpec:
    k = KINDS[kind]
    return DatasetSpec(
        name=kind, title=k["title"], kind="audio", sensor_size=SENSOR_SIZE,
        n_classes=k["n_classes"], splits=SPLITS[kind],
        default_config=BinningConfig(n_bins=100, duration_us=duration_us, channels=140),
        readout="mean", files=expected_files(kind), urls=(URL,),
        open_split=partial(open_split, kind), detect=partial(_detect_kind, kind),
        available=partial(available, kind), subdirs=k["subdirs"],
        archive_names=tuple(k["files"].values()), reader_version=READER_VERSION)


#: SHD: 100 bins over 1.4 s (longest sample ≈ 1.37 s), 700 channels summed in 140 groups of 5.
SHD_SPEC = _spec("shd", 1_400_000)
#: SSC: 100 bins over 1 s (the recordings are 1 s clips), 140 channel groups.
SSC_SPEC = _spec("ssc", 1_000_000)
SPECS = (SHD_SPEC, SSC_SPEC)
