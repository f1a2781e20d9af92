"""What every reader returns, and the shared rules for finding data on disk.

Each dataset module declares its :class:`DatasetSpec` (keyword-constructed, in the module itself);
:mod:`surnn_neuro.datasets.registry` collects them into ``DATASETS``.

A reader opens a split cheaply (file listing, headers, label files; no event decoding, no writes, no
downloads) and returns an :class:`EventSplit`: its length, the source files (for the cache key) and
a generator of :class:`Sample` that decodes and validates the events one sample at a time.

Data directories: a reader takes the folder that holds the dataset's files. If it is not given, the
environment variable ``SURNN_NEURO_DATA`` names a parent folder in which each dataset sits in its own
sub-folder (``shd/``, ``ssc/``, ``dvs_gesture/``, ``nmnist/``, also tonic's folder names); the
reader accepts either the folder itself or that sub-folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from surnn_neuro.datasets.transforms import BinningConfig
from surnn_neuro.errors import UserError

DATA_ENV = "SURNN_NEURO_DATA"
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class Sample:
    """One decoded sample: ``events`` of :data:`~surnn_neuro.datasets.events.EVENT_DTYPE`,
    ``label`` in ``0..n_classes-1``, ``name`` saying where it came from (file and index)."""

    events: np.ndarray
    label: int
    name: str


@dataclass(frozen=True, eq=False)
class EventSplit:
    """A split opened for reading. ``read(limit)`` yields the first ``limit`` samples (all if None)
    in a fixed order; ``sources`` are the files whose size and mtime key the cache."""

    dataset: str
    split: str
    root: Path
    n_samples: int
    sources: tuple[Path, ...]
    classes: tuple[str, ...]
    sensor_size: tuple[int, int, int]
    read: Callable[[int | None], Iterator[Sample]] = field(repr=False)
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.n_samples

    def samples(self, limit: int | None = None) -> Iterator[Sample]:
        return self.read(limit)


@dataclass(frozen=True)
class DatasetSpec:
    """What the package knows about one event dataset; one per dataset module.

    name: the task / dataset name (``--task``). title: human-readable name. kind: "audio" or
    "camera". sensor_size: tonic's ``(W, H, P)``. n_classes: labels are ``0..n_classes-1``.
    splits: every split the reader opens; ``train_split`` / ``test_split`` are the pair used for
    training and scoring. default_config: the :class:`BinningConfig` used unless one is given.
    readout: model readout for this dataset ("last", "mean" or "all"). files: the expected files, as
    told to the user. urls: where they are published. subdirs: sub-folder names tried under a data
    directory. archive_names: names whose packed archives (``.zip``, ``.tar.gz``...) get an
    "unpack it first" hint. reader_version: bump it when the reader's output changes (cache key).

    open_split(data_dir, split) -> EventSplit opens a split (UserError if files are missing);
    detect(folder) -> bool says whether ``folder`` holds this dataset; available(folder) lists the
    splits present there.
    """

    name: str
    title: str
    kind: str
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
    archive_names: tuple[str, ...] = ()
    reader_version: int = 1
    train_split: str = "train"
    test_split: str = "test"

    def __post_init__(self):
        if self.kind not in ("audio", "camera"):
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}; known: audio, camera")
        if len(self.sensor_size) != 3 or any(int(s) < 1 for s in self.sensor_size):
            raise ValueError(f"{self.name}: sensor_size must be (W, H, P) >= 1, got "
                             f"{self.sensor_size!r}")
        if self.n_classes < 1:
            raise ValueError(f"{self.name}: n_classes must be >= 1, got {self.n_classes}")
        for which in ("train_split", "test_split"):
            if getattr(self, which) not in self.splits:
                raise ValueError(f"{self.name}: {which} {getattr(self, which)!r} is not one of "
                                 f"its splits {', '.join(self.splits)}")
        if self.readout not in ("last", "mean", "all"):
            raise ValueError(f"{self.name}: unknown readout {self.readout!r}; known: last, mean, "
                             f"all")
        if not isinstance(self.default_config, BinningConfig):
            raise ValueError(f"{self.name}: default_config must be a BinningConfig")


def candidate_dirs(data_dir, subdirs: tuple[str, ...]) -> list[Path]:
    """Folders to look in, most specific last: ``data_dir`` and ``data_dir/<sub>`` for each
    ``sub`` in ``subdirs``. ``data_dir=None`` uses ``$SURNN_NEURO_DATA``; UserError if unset."""
    if data_dir is None:
        env = os.environ.get(DATA_ENV)
        if not env:
            raise UserError(f"no data directory given: pass --data-dir (the folder holding the "
                            f"dataset's files) or set {DATA_ENV}")
        data_dir = env
    base = Path(data_dir).expanduser()
    if not base.exists():
        raise UserError(f"data directory {base} does not exist")
    if not base.is_dir():
        raise UserError(f"data directory {base} is not a folder")
    return [base] + [base / s for s in subdirs if (base / s).is_dir()]


def archive_hint(folder: Path, names: tuple[str, ...]) -> str | None:
    """If ``folder`` holds an unpacked-not-yet archive of one of ``names``, say how to unpack it."""
    for name in names:
        for suf in ARCHIVE_SUFFIXES:
            arc = folder / (name + suf)
            if arc.is_file():
                how = ("unzip" if suf == ".zip" else "gunzip -k" if suf == ".gz" else "tar xzf"
                       if suf in (".tar.gz", ".tgz") else "tar xf")
                return (f"found the archive {arc} but not {name}: unpack it first "
                        f"(cd {folder} && {how} {arc.name})")
    return None


def limited(n: int, limit: int | None) -> int:
    """Number of samples read with ``limit`` (None = all); ValueError for a negative limit."""
    if limit is None:
        return n
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return min(n, int(limit))


def class_ranks(labels: np.ndarray) -> np.ndarray:
    """Rank of each sample within its class, in file order (the fixed, seedless splits use it:
    SHD's holdout, event-digits' and the arrays task's test = every k-th sample of each class).

    >>> class_ranks(np.array([3, 1, 3, 3, 1])).tolist()
    [0, 0, 1, 2, 1]
    """
    labels = np.asarray(labels)
    rank = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rank[idx] = np.arange(len(idx))
    return rank
