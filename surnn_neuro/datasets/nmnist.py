"""N-MNIST (Orchard et al. 2015): MNIST digits seen by an ATIS sensor on a moving platform.

Layout: a folder holding ``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin`` (digit = label 0..9),
as unpacked from ``train.zip`` and ``test.zip`` (Mendeley dataset 468j46mzdv,
https://data.mendeley.com/datasets/468j46mzdv/1). Sensor 34×34, two polarities, three saccades
of about 100 ms each.

Each event is a 5-byte record::

    byte 0: x    byte 1: y    byte 2 bit 7: p    t (µs) = (byte2 & 0x7F) << 16 | byte3 << 8 | byte4

A record with ``y == 240`` is a timestamp-overflow marker, not an event: following tonic 1.7.0
(``tonic.io.read_mnist_file``, checked against it in the tests) every marker adds 2^13 µs to its
own record and all later ones, and markers are then dropped. (23-bit timestamps cover 8.4 s, so the
real recordings of about 0.3 s contain no markers.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from surnn_neuro.datasets.base import (DatasetSpec, EventSplit, Sample, archive_hint,
                                      candidate_dirs, limited)
from surnn_neuro.datasets.events import EVENT_DTYPE, check_addresses, check_timestamps
from surnn_neuro.datasets.transforms import BinningConfig
from surnn_neuro.errors import UserError

TITLE = "N-MNIST"
SENSOR_SIZE = (34, 34, 2)
CLASSES = tuple(str(d) for d in range(10))
SPLITS = ("train", "test")
SPLIT_DIRS = {"train": ("Train", "train"), "test": ("Test", "test")}
SUBDIRS = ("NMNIST", "nmnist", "N-MNIST", "n-mnist")
URL = "https://data.mendeley.com/datasets/468j46mzdv/1"
READER_VERSION = 1
RECORD = 5
OVERFLOW_Y = 240
OVERFLOW_US = 1 << 13


def decode_bin(raw: bytes, where: str, sample) -> np.ndarray:
    """Events of one ``.bin`` file's bytes, validated (see the module docstring for the format).

    >>> ev = decode_bin(bytes([3, 4, 0x80, 0x01, 0x02]), "a.bin", 0)  # p=1, t=0x000102
    >>> ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist(), ev["t"].tolist()
    ([3], [4], [1], [258])
    """
    if len(raw) % RECORD:
        raise UserError(f"{where}: sample {sample}: wrong record size: {len(raw)} bytes is not a "
                        f"multiple of {RECORD} (N-MNIST events are 5-byte records; truncated file?)")
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD).astype(np.int64)
    x, y = b[:, 0], b[:, 1]
    p = b[:, 2] >> 7
    t = ((b[:, 2] & 0x7F) << 16) | (b[:, 3] << 8) | b[:, 4]
    overflow = y == OVERFLOW_Y
    t = t + OVERFLOW_US * np.cumsum(overflow)
    keep = ~overflow
    x, y, p, t = x[keep], y[keep], p[keep], t[keep]
    check_timestamps(t, where, sample)
    check_addresses(x, y, p, SENSOR_SIZE, where, sample)
    ev = np.empty(len(t), dtype=EVENT_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
    return ev


def read_bin(path: str | Path, sample=0) -> np.ndarray:
    """Events of one N-MNIST ``.bin`` file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    return decode_bin(raw, str(path), sample)


def _split_dir(root: Path, split: str) -> Path | None:
    for name in SPLIT_DIRS[split]:
        if (root / name).is_dir():
            return root / name
    return None


def locate(data_dir) -> Path:
    dirs = candidate_dirs(data_dir, SUBDIRS)
    for d in dirs:
        if detect(d):
            return d
    for d in dirs:
        hint = archive_hint(d, ("train", "test", "Train", "Test"))
        if hint:
            raise UserError(f"{TITLE}: {hint}")
    raise UserError(f"{TITLE}: no Train/ or Test/ folder in {', '.join(str(d) for d in dirs)}; "
                    f"expected Train/<digit>/*.bin and Test/<digit>/*.bin as unpacked from train.zip "
                    f"and test.zip ({URL})")


def open_split(data_dir, split: str) -> EventSplit:
    """Open ``train`` or ``test``: files sorted by digit, then by name."""
    if split not in SPLITS:
        raise UserError(f"{TITLE}: unknown split {split!r}; known: {', '.join(SPLITS)}")
    root = locate(data_dir)
    folder = _split_dir(root, split)
    if folder is None:
        raise UserError(f"{TITLE}: {root / SPLIT_DIRS[split][0]} not found (expected "
                        f"{SPLIT_DIRS[split][0]}/<digit>/*.bin; {URL})")
    files = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not (sub.name.isdigit() and int(sub.name) < len(CLASSES)):
            raise UserError(f"{sub}: unexpected folder: labels are the folder names 0..9, "
                            f"so label {sub.name!r} is out of range")
        files += [(int(sub.name), f) for f in sorted(sub.glob("*.bin"))]

    def read(limit=None):
        for k, (label, f) in enumerate(files[:limited(len(files), limit)]):
            yield Sample(read_bin(f, k), label, f"{f.parent.name}/{f.name}")

    return EventSplit("nmnist", split, root, len(files), tuple(f for _, f in files), CLASSES,
                      SENSOR_SIZE, read, {})


def detect(folder: Path) -> bool:
    return any(_split_dir(folder, s) is not None for s in SPLITS)


def available(folder: Path) -> tuple[str, ...]:
    """Splits whose folder is in ``folder``."""
    return tuple(s for s in SPLITS if _split_dir(folder, s) is not None)


#: 20 bins over the 300 ms of three saccades, 2×2 spatial pooling: V = 2 · 17 · 17 = 578.
SPEC = DatasetSpec(
    name="nmnist", title=TITLE, kind="camera", sensor_size=SENSOR_SIZE, n_classes=len(CLASSES),
    splits=SPLITS, default_config=BinningConfig(n_bins=20, duration_us=300_000, spatial_factor=2),
    readout="last", files="Train/<digit>/*.bin, Test/<digit>/*.bin", urls=(URL,),
    open_split=open_split, detect=detect, available=available, subdirs=SUBDIRS,
    archive_names=("train", "test", "Train", "Test"), reader_version=READER_VERSION)
SPECS = (SPEC,)
