"""Writers of small files in the real dataset formats (no sample data ships in any wheel).

Each writer follows the published layout (facts §5): SHD/SSC HDF5 with h5py vlen dtypes, AEDAT 3.1
with the 28-byte block header, N-MNIST 5-byte records, tonic's DVS Gesture npy tree.
"""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np


# ----------------------------------------------------------------------------------------- SHD/SSC

def write_shd(path, times, units, labels, keys=None, speaker=None, times_dtype=np.float16):
    """SHD/SSC file: spikes/times (vlen float, s), spikes/units (vlen uint16), labels, extra/."""
    path = Path(path)
    n = len(labels)
    with h5py.File(path, "w") as f:
        dt = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(times_dtype)))
        du = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i in range(n):
            dt[i] = np.asarray(times[i], dtype=times_dtype)
            du[i] = np.asarray(units[i], dtype=np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        if keys is not None:
            f.create_dataset("extra/keys", data=np.array([k.encode() for k in keys]))
        if speaker is not None:
            f.create_dataset("extra/speaker", data=np.asarray(speaker, dtype=np.uint16))
    return path


# Four SHD samples whose times are exact in float16 (multiples of 2^-k), so the expected µs are
# exact: 0.5 s = 500000 µs, 0.25 s = 250000 µs, 0.125 s = 125000 µs, 0.0625 s = 62500 µs.
SHD_TIMES = [[0.0, 0.0625, 0.5], [0.125], [], [0.25, 0.25, 1.0]]
SHD_UNITS = [[0, 699, 3], [10], [], [5, 6, 7]]
SHD_LABELS = [3, 0, 19, 7]


def write_shd_pair(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keys = [f"key-{i}" for i in range(20)]
    write_shd(folder / "shd_train.h5", SHD_TIMES, SHD_UNITS, SHD_LABELS, keys, speaker=[1, 2, 3, 4])
    write_shd(folder / "shd_test.h5", SHD_TIMES[:2], SHD_UNITS[:2], [1, 2], keys, speaker=[9, 9])
    return folder


# ------------------------------------------------------------------------------------------- AEDAT

def aedat_header(version="3.1") -> bytes:
    return (f"#!AER-DAT{version}\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
            f"#Start-Time: 2017-01-01\r\n#!END-HEADER\r\n").encode()


def polarity_word(x, y, p, valid=1) -> int:
    """The uint32 data word: x in bits 17.., y in bits 2.., p in bit 1, validity mark in bit 0."""
    return (x << 17) | (y << 2) | (p << 1) | valid


def aedat_block(events, etype=1, overflow=0, size=8, tsoff=4, capacity=None, number=None,
                valid=None) -> bytes:
    """One block: 28-byte header (uint16 type, source; uint32 size, TS offset, TS overflow,
    capacity, number, valid) + capacity × size bytes ((uint32 data, uint32 timestamp) events)."""
    n = len(events)
    cap = n if capacity is None else capacity
    num = n if number is None else number
    nval = num if valid is None else valid
    head = struct.pack("<HHIIIIII", etype, 1, size, tsoff, overflow, cap, num, nval)
    body = b"".join(struct.pack("<II", d, ts) for d, ts in events)
    body += b"\0" * (cap * size - len(body))
    return head + body


# Block A (polarity, overflow 0), block B (special events, skipped), block C (polarity, overflow 1).
BLOCK_A = [(polarity_word(10, 20, 1), 1000),
           (polarity_word(127, 0, 0, valid=0), 1500),  # invalid: dropped
           (polarity_word(0, 127, 0), 2000),
           (polarity_word(5, 6, 1), 2_147_483_000)]
BLOCK_B = [(0x12345678, 2_147_483_100)]
BLOCK_C = [(polarity_word(64, 65, 1), 100),    # t = 2^31 + 100 = 2147483748
           (polarity_word(1, 2, 0), 600)]      # t = 2^31 + 600 = 2147484248
# Rows: class 3 over [900, 2500) and class 11 over [2147483000, 2147484000).
LABELS_CSV = "class,startTime_usec,endTime_usec\n3,900,2500\n11,2147483000,2147484000\n"


def write_aedat_trial(folder, stem, blocks, labels_csv, version="3.1"):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.aedat").write_bytes(aedat_header(version) + b"".join(blocks))
    (folder / f"{stem}_labels.csv").write_text(labels_csv)
    return folder / f"{stem}.aedat"


def write_gesture_release(folder):
    """user01_fluorescent (train, 2 gestures) and user02_led (test, 1 gesture)."""
    folder = Path(folder)
    write_aedat_trial(folder, "user01_fluorescent",
                      [aedat_block(BLOCK_A), aedat_block(BLOCK_B, etype=0),
                       aedat_block(BLOCK_C, overflow=1)], LABELS_CSV)
    write_aedat_trial(folder, "user02_led", [aedat_block([(polarity_word(3, 4, 1), 50),
                                                          (polarity_word(3, 5, 0), 70)])],
                      "class,startTime_usec,endTime_usec\n5,40,100\n")
    (folder / "trials_to_train.txt").write_text("user01_fluorescent.aedat\n")
    (folder / "trials_to_test.txt").write_text("user02_led.aedat\n\n")
    return folder


def write_gesture_npy(folder):
    """tonic's tree: ibmGestureTrain/user01_led/{0,3}.npy, ibmGestureTest/user02_natural/10.npy;
    columns x, y, p, t (ms)."""
    folder = Path(folder)
    samples = {("ibmGestureTrain", "user01_led", 0): [[1, 2, 1, 5.0], [3, 4, 0, 6.5], [127, 127, 1, 8.0]],
               ("ibmGestureTrain", "user01_led", 3): [[0, 0, 0, 0.0]],
               ("ibmGestureTest", "user02_natural", 10): [[9, 9, 1, 1.0], [9, 9, 1, 1.0]]}
    for (split, trial, label), rows in samples.items():
        d = folder / split / trial
        d.mkdir(parents=True, exist_ok=True)
        np.save(d / f"{label}.npy", np.asarray(rows, dtype=np.float64))
    return folder


# ----------------------------------------------------------------------------------------- N-MNIST

def nmnist_record(x, y, p, t) -> bytes:
    """5 bytes: x, y, p in bit 7 of byte 2 with t bits 22..16, t bits 15..8, t bits 7..0."""
    return bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])


OVERFLOW = nmnist_record(0, 240, 0, 0)
# (1,2,ON,100 µs), (3,4,OFF,8000 µs), overflow marker (+8192 µs after it), (33,33,ON,50 µs → 8242)
NMNIST_SAMPLE = (nmnist_record(1, 2, 1, 100) + nmnist_record(3, 4, 0, 8000) + OVERFLOW
                 + nmnist_record(33, 33, 1, 50))


def write_nmnist(folder):
    """Train/0/a.bin (the sample above), Train/7/b.bin (empty), Test/1/c.bin (one event)."""
    folder = Path(folder)
    for rel, data in {"Train/0/a.bin": NMNIST_SAMPLE, "Train/7/b.bin": b"",
                      "Test/1/c.bin": nmnist_record(0, 0, 0, 0x7FFFFF)}.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return folder
