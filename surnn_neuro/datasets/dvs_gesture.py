"""DVS128 Gesture (Amir et al., CVPR 2017): 11 gestures, 128×128 DVS, two layouts.

**Original release** (https://research.ibm.com/interactive/dvsgesture/, ``DvsGesture.tar.gz``): one
folder holding ``trials_to_train.txt`` and ``trials_to_test.txt`` (one ``userNN_<lighting>.aedat``
name per line) and, per trial, ``userNN_<lighting>.aedat`` (AEDAT 3.1) and
``userNN_<lighting>_labels.csv`` (header ``class,startTime_usec,endTime_usec``, classes 1..11).

AEDAT 3.1: a text header (``#!AER-DAT3.1\\r\\n`` … ``#!END-HEADER\\r\\n``), then blocks. Each block
has a 28-byte little-endian header (uint16 eventType, uint16 eventSource, uint32 eventSize,
eventTSOffset, eventTSOverflow, eventCapacity, eventNumber, eventValid) followed by eventCapacity ×
eventSize bytes of which the first eventNumber events are used (the files are written compacted,
capacity = number; tonic and SpikingJelly read capacity × size too). Polarity events (eventType 1,
eventSize 8, eventTSOffset 4) are (uint32 data, uint32 timestamp)::

    valid = data & 1 (events with 0 are dropped: libcaer's validity mark)
    p = (data >> 1) & 1,  y = (data >> 2) & 0x1FFF,  x = (data >> 17) & 0x1FFF
    t = timestamp | (eventTSOverflow << 31)     (µs)

Other event types are skipped. Each label row cuts one sample: the events with
``startTime_usec <= t < endTime_usec``, with ``t`` made relative to ``startTime_usec``; label =
class − 1. A row whose end runs past the start of the next gesture (the known error in
``user22_led_labels.csv``, class 9) is clipped to that start. tonic 1.7.0's ``read_dvs_ibm`` fails
on these files, hence this reader.

**tonic's preprocessed copy** (``ibmGestureTrain.tar.gz`` / ``ibmGestureTest.tar.gz``): a folder
holding ``ibmGestureTrain/`` and ``ibmGestureTest/``, each with ``userNN_<lighting>/<label>.npy``
(label 0..10), each an N×4 array of columns x, y, p, t with t in **milliseconds**. Times are made
relative to the first event of the sample (t − t₀, in µs).

If a folder holds both layouts, the original release is read.
"""

from __future__ import annotations

import csv
import struct
from pathlib import Path
from typing import Iterator

import numpy as np

from surnn_neuro.datasets.base import (DatasetSpec, EventSplit, Sample, archive_hint,
                                      candidate_dirs, limited)
from surnn_neuro.datasets.events import (EVENT_DTYPE, check_addresses, check_timestamps,
                                         validate_events)
from surnn_neuro.datasets.transforms import BinningConfig
from surnn_neuro.errors import UserError

TITLE = "DVS128 Gesture"
SENSOR_SIZE = (128, 128, 2)
CLASSES = ("hand_clap", "right_hand_wave", "left_hand_wave", "right_arm_clockwise",
           "right_arm_counter_clockwise", "left_arm_clockwise", "left_arm_counter_clockwise",
           "arm_roll", "air_drums", "air_guitar", "other_gestures")
N_CLASSES = len(CLASSES)
SPLITS = ("train", "test")
URL = "https://research.ibm.com/interactive/dvsgesture/"
TONIC_FILES = ("figshare file 38022171 (ibmGestureTrain.tar.gz) and 38020584 "
               "(ibmGestureTest.tar.gz)")
READER_VERSION = 1
SUBDIRS = ("DvsGesture", "DVSGesture", "dvs_gesture", "dvsgesture", "dvs-gesture")
TRIAL_LISTS = {"train": "trials_to_train.txt", "test": "trials_to_test.txt"}
NPY_DIRS = {"train": "ibmGestureTrain", "test": "ibmGestureTest"}
CSV_HEADER = ["class", "startTime_usec", "endTime_usec"]

BLOCK_HEADER = struct.Struct("<HHIIIIII")  # 28 bytes
POLARITY_EVENT = 1


# ---------------------------------------------------------------------------------------- AEDAT 3.1

def _aedat_data_start(buf: bytes, path: Path) -> int:
    """Byte offset of the first block after the text header; UserError if the header is bad."""
    if not buf.startswith(b"#!AER-DAT"):
        raise UserError(f"{path}: corrupt AEDAT header: the file does not start with '#!AER-DAT' "
                        f"(not an AEDAT file)")
    eol = buf.find(b"\n")
    if eol < 0:
        raise UserError(f"{path}: corrupt AEDAT header: no end of line in the first line")
    version = buf[9:eol].strip().decode("ascii", "replace")
    if not version.startswith("3."):
        raise UserError(f"{path}: unsupported AEDAT version {version!r}: DVS128 Gesture files are "
                        f"AEDAT 3.1")
    pos = eol + 1
    while True:
        if pos >= len(buf) or buf[pos:pos + 1] != b"#":
            raise UserError(f"{path}: corrupt AEDAT header: no '#!END-HEADER' line before byte "
                            f"{pos}")
        eol = buf.find(b"\n", pos)
        if eol < 0:
            raise UserError(f"{path}: corrupt AEDAT header: unterminated header line at byte {pos}")
        line = buf[pos:eol].strip()
        pos = eol + 1
        if line == b"#!END-HEADER":
            return pos


def read_aedat(path: str | Path) -> np.ndarray:
    """All valid polarity events of an AEDAT 3.1 file, timestamps absolute (µs), in file order.

    Addresses are not checked against the sensor here (a cut sample is, see :func:`open_split`);
    x and y have 13 bits so they fit int16 unchanged. UserError for a corrupt text header, a
    truncated or inconsistent block header, or a polarity block with eventSize ≠ 8.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    off = _aedat_data_start(buf, path)
    datas, stamps = [], []
    block = 0
    while off < len(buf):
        if len(buf) - off < BLOCK_HEADER.size:
            raise UserError(f"{path}: truncated AEDAT block header at byte {off} (block {block}): "
                            f"{len(buf) - off} of 28 bytes")
        etype, _src, esize, tsoff, tsovf, cap, num, nvalid = BLOCK_HEADER.unpack_from(buf, off)
        where = f"{path}: corrupt AEDAT block header at byte {off} (block {block})"
        if esize == 0 or num > cap or nvalid > num:
            raise UserError(f"{where}: eventSize {esize}, eventCapacity {cap}, eventNumber {num}, "
                            f"eventValid {nvalid}")
        payload = cap * esize
        if off + BLOCK_HEADER.size + payload > len(buf):
            raise UserError(f"{where}: the block announces {payload} bytes of events but only "
                            f"{len(buf) - off - BLOCK_HEADER.size} remain (truncated file?)")
        if etype == POLARITY_EVENT and num:
            if esize != 8 or tsoff != 4:
                raise UserError(f"{where}: polarity events need eventSize 8 and eventTSOffset 4, "
                                f"got {esize} and {tsoff}")
            words = np.frombuffer(buf, dtype="<u4", count=2 * num, offset=off + BLOCK_HEADER.size)
            datas.append(words[0::2])
            stamps.append(words[1::2].astype(np.int64) | (np.int64(tsovf) << 31))
        off += BLOCK_HEADER.size + payload
        block += 1
    if not datas:
        return np.empty(0, dtype=EVENT_DTYPE)
    data = np.concatenate(datas)
    t = np.concatenate(stamps)
    keep = (data & 1).astype(bool)
    data, t = data[keep], t[keep]
    ev = np.empty(len(t), dtype=EVENT_DTYPE)
    ev["t"] = t
    ev["x"] = (data >> 17) & 0x1FFF
    ev["y"] = (data >> 2) & 0x1FFF
    ev["p"] = (data >> 1) & 1
    return ev


def read_labels_csv(path: Path) -> list[tuple[int, int, int]]:
    """Rows ``(label 0..10, start µs, end µs)`` of a ``*_labels.csv`` file, ends clipped to the
    next gesture's start. UserError for a wrong header, a malformed row, a class outside 1..11 or
    an end not after its start."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # tolerate a byte-order mark
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read the label file ({e})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows or [c.strip() for c in rows[0]] != CSV_HEADER:
        got = ",".join(rows[0]) if rows else "an empty file"
        raise UserError(f"{path}: expected the header {','.join(CSV_HEADER)}, got {got}")
    out = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            cls, start, end = (int(c.strip()) for c in row)
        except ValueError:
            raise UserError(f"{path}: line {line}: expected three integers "
                            f"(class,startTime_usec,endTime_usec), got {','.join(row)}") from None
        if not 1 <= cls <= N_CLASSES:
            raise UserError(f"{path}: line {line} (sample {line - 2}): label (class) {cls} out of "
                            f"range 1..{N_CLASSES}")
        if start < 0 or end <= start:
            raise UserError(f"{path}: line {line} (sample {line - 2}): bad interval "
                            f"{start}..{end} us (need 0 <= start < end)")
        out.append((cls - 1, start, end))
    starts = sorted(s for _, s, _ in out)
    clipped = []
    for label, start, end in out:
        later = [s for s in starts if s > start]
        if later and later[0] < end:
            end = later[0]
        clipped.append((label, start, end))
    return clipped


def cut_gestures(events: np.ndarray, rows, where: str, names) -> Iterator[tuple[np.ndarray, int]]:
    """Cut the file's events into one validated sample per label row (times relative to start)."""
    for (label, start, end), name in zip(rows, names):
        sel = events[(events["t"] >= start) & (events["t"] < end)].copy()
        sel["t"] -= start
        validate_events(sel, SENSOR_SIZE, where, name)
        yield sel, label


# ------------------------------------------------------------------------------------------ layouts

def find_layout(data_dir) -> tuple[str, Path]:
    """``("aedat" | "npy", folder)``; UserError naming both layouts if neither is found."""
    dirs = candidate_dirs(data_dir, SUBDIRS)
    for d in dirs:
        if any((d / f).is_file() for f in TRIAL_LISTS.values()):
            return "aedat", d
    for d in dirs:
        if any((d / n).is_dir() for n in NPY_DIRS.values()):
            return "npy", d
    for d in dirs:
        hint = archive_hint(d, ("DvsGesture", "ibmGestureTrain", "ibmGestureTest"))
        if hint:
            raise UserError(f"{TITLE}: {hint}")
    raise UserError(
        f"{TITLE}: no data found in {', '.join(str(d) for d in dirs)}; expected either the original "
        f"release (trials_to_train.txt, trials_to_test.txt, userNN_<lighting>.aedat and "
        f"userNN_<lighting>_labels.csv; {URL}) or tonic's preprocessed folders ibmGestureTrain/ and "
        f"ibmGestureTest/ holding userNN_<lighting>/<label>.npy ({TONIC_FILES})")


def _read_trials(root: Path, split: str) -> list[tuple[Path, Path]]:
    lst = root / TRIAL_LISTS[split]
    if not lst.is_file():
        raise UserError(f"{TITLE}: {lst} not found; the original release has "
                        f"{TRIAL_LISTS['train']} and {TRIAL_LISTS['test']} beside the .aedat files")
    with open(lst, encoding="utf-8") as f:
        names = [ln.strip() for ln in f if ln.strip()]
    trials = []
    for name in names:
        aedat = root / name
        labels = root / (Path(name).stem + "_labels.csv")
        for p in (aedat, labels):
            if not p.is_file():
                raise UserError(f"{TITLE}: {p} (listed in {lst.name}) not found")
        trials.append((aedat, labels))
    return trials


def _open_aedat_split(root: Path, split: str) -> EventSplit:
    trials = _read_trials(root, split)
    table = [(aedat, csvp, read_labels_csv(csvp)) for aedat, csvp in trials]
    n = sum(len(rows) for _, _, rows in table)

    def read(limit=None):
        todo = limited(n, limit)
        for aedat, _csvp, rows in table:
            if todo <= 0:
                return
            rows = rows[:todo]
            events = read_aedat(aedat)
            names = [f"{k} (class {r[0] + 1}, {r[1]}..{r[2]} us)" for k, r in enumerate(rows)]
            for k, (ev, label) in enumerate(cut_gestures(events, rows, str(aedat), names)):
                yield Sample(ev, label, f"{aedat.name}#{k}")
            todo -= len(rows)

    sources = tuple(p for a, c in trials for p in (a, c)) + (root / TRIAL_LISTS[split],)
    meta = {"layout": "aedat", "users": [a.stem.split("_", 1)[0] for a, _, rows in table
                                         for _ in rows]}
    return EventSplit("dvs-gesture", split, root, n, sources, CLASSES, SENSOR_SIZE, read, meta)


def read_npy_sample(path: Path, sample) -> np.ndarray:
    """Events of one tonic-preprocessed sample (N×4: x, y, p, t in ms), validated, t − t₀ in µs."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"{path}: cannot read as .npy ({' '.join(str(e).split())[:160]})") from None
    if arr.ndim != 2 or arr.shape[1] != 4 or not np.issubdtype(arr.dtype, np.number):
        raise UserError(f"{path}: sample {sample}: expected an N×4 numeric array (x, y, p, t in ms), "
                        f"got shape {arr.shape} and dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise UserError(f"{path}: sample {sample}: non-finite values")
    t = np.rint(arr[:, 3].astype(np.float64) * 1000.0).astype(np.int64)
    x, y, p = (arr[:, k].astype(np.int64) for k in range(3))
    check_timestamps(t, str(path), sample)
    check_addresses(x, y, p, SENSOR_SIZE, str(path), sample)
    ev = np.empty(len(t), dtype=EVENT_DTYPE)
    ev["t"] = t - (t[0] if len(t) else 0)
    ev["x"], ev["y"], ev["p"] = x, y, p
    return ev


def _open_npy_split(root: Path, split: str) -> EventSplit:
    folder = root / NPY_DIRS[split]
    if not folder.is_dir():
        raise UserError(f"{TITLE}: {folder} not found; tonic's layout has {NPY_DIRS['train']}/ and "
                        f"{NPY_DIRS['test']}/ ({TONIC_FILES})")
    files = []
    for trial in sorted(p for p in folder.iterdir() if p.is_dir()):
        for f in trial.glob("*.npy"):
            if not f.stem.isdigit():
                raise UserError(f"{f}: the file name must be the label (0..{N_CLASSES - 1}.npy)")
            label = int(f.stem)
            if label >= N_CLASSES:
                raise UserError(f"{f}: label {label} out of range 0..{N_CLASSES - 1}")
            files.append((trial.name, label, f))
    files.sort(key=lambda r: (r[0], r[1]))

    def read(limit=None):
        for k, (_trial, label, f) in enumerate(files[:limited(len(files), limit)]):
            yield Sample(read_npy_sample(f, k), label, f"{f.parent.name}/{f.name}")

    meta = {"layout": "npy", "users": [t.split("_", 1)[0] for t, _, _ in files]}
    return EventSplit("dvs-gesture", split, root, len(files), tuple(f for _, _, f in files),
                      CLASSES, SENSOR_SIZE, read, meta)


def open_split(data_dir, split: str) -> EventSplit:
    """Open the ``train`` or ``test`` split from whichever layout ``data_dir`` holds."""
    if split not in SPLITS:
        raise UserError(f"{TITLE}: unknown split {split!r}; known: {', '.join(SPLITS)}")
    layout, root = find_layout(data_dir)
    return _open_aedat_split(root, split) if layout == "aedat" else _open_npy_split(root, split)


def detect(folder: Path) -> bool:
    return (any((folder / f).is_file() for f in TRIAL_LISTS.values())
            or any((folder / n).is_dir() for n in NPY_DIRS.values()))


def available(folder: Path) -> tuple[str, ...]:
    """Splits present in ``folder`` in either layout."""
    return tuple(s for s in SPLITS
                 if (folder / TRIAL_LISTS[s]).is_file() or (folder / NPY_DIRS[s]).is_dir())


#: 40 bins over 2 s, 4×4 spatial pooling: V = 2 · 32 · 32 = 2048.
SPEC = DatasetSpec(
    name="dvs-gesture", title=TITLE, kind="camera", sensor_size=SENSOR_SIZE, n_classes=N_CLASSES,
    splits=SPLITS, default_config=BinningConfig(n_bins=40, duration_us=2_000_000, spatial_factor=4),
    readout="mean",
    files="trials_to_train.txt, trials_to_test.txt, userNN_<lighting>.aedat, "
          "userNN_<lighting>_labels.csv (or tonic's ibmGestureTrain/, ibmGestureTest/)",
    urls=(URL,), open_split=open_split, detect=detect, available=available, subdirs=SUBDIRS,
    archive_names=("DvsGesture", "ibmGestureTrain", "ibmGestureTest"),
    reader_version=READER_VERSION)
SPECS = (SPEC,)
