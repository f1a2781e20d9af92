"""``surnn-neuro data check PATH``: validate event data on disk and summarise it.

:func:`check` takes a dataset folder, a parent of dataset folders, one file (an event file, or an
arrays file of task ``arrays``: :mod:`~surnn_neuro.datasets.arrays`), or ``event-digits`` (the
built-in dataset) and returns the summary text: per split the samples, classes, duration and
event-rate statistics. It reads and validates every sample, so a malformed file raises
:class:`~surnn_neuro.errors.UserError` naming it. :func:`detect` finds the datasets in a folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from surnn_neuro.datasets import arrays, dvs_gesture, nmnist, shd
from surnn_neuro.datasets.base import DatasetSpec, Sample, archive_hint, limited
from surnn_neuro.datasets.events import event_stats
from surnn_neuro.datasets.registry import DATASETS
from surnn_neuro.errors import UserError

__all__ = ["check", "check_complete", "detect"]


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
    with tqdm(samples, total=total, desc=desc, unit="sample", disable=None if progress else True,
              leave=False) as it:  # a bar on a terminal only
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
    if arrays.is_arrays_file(p):  # .npz, or HDF5 with x_train / x at the top level
        return arrays.describe(p)
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
                    f"Gesture, .bin N-MNIST or .npy tonic DVS Gesture sample, or a folder; or an "
                    f".npz / HDF5 arrays file with x_train, y_train, x_test, y_test)")


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


def check_complete(path) -> None:
    """UserError if a dataset folder at ``path`` lacks a split that training needs (its
    ``train_split`` or ``test_split``): what ``train --task NAME`` would refuse is not a valid
    dataset either. ``surnn-neuro data check`` runs this first; :func:`check` itself lists such a
    split as "missing" and summarises the rest."""
    p = Path(path).expanduser()
    if not p.is_dir():
        return
    for name, root in detect(p):
        spec = DATASETS[name]
        splits = spec.available(root)
        needed = [s for s in (spec.train_split, spec.test_split) if s not in splits]
        if needed:
            raise UserError(f"{spec.title} in {root}: the {' and '.join(needed)} split"
                            f"{'s are' if len(needed) > 1 else ' is'} missing, and training needs "
                            f"{spec.train_split} and {spec.test_split} (expected files: {spec.files})")


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
            hint = archive_hint(p, spec.archive_names)
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
