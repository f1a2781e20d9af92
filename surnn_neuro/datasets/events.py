"""The one event dtype of the package, and the checks every reader runs on its events.

An event stream is a 1-D structured numpy array of :data:`EVENT_DTYPE`:

=====  =======  ==========================================================================
field  dtype    meaning
=====  =======  ==========================================================================
``t``  int64    timestamp in microseconds from the start of the sample, non-decreasing
``x``  int16    column (camera) or channel (audio: 0..699 for SHD/SSC)
``y``  int16    row (camera); always 0 for audio
``p``  int8     polarity: 1 = ON (brighter), 0 = OFF; always 0 for audio
=====  =======  ==========================================================================

The field names are tonic's, so tonic's transforms take our arrays as they are (tonic indexes
fields by name, never by position): ``tonic.transforms.ToFrame``, ``Denoise``, ``Downsample``,
``MergePolarities`` were checked with tonic 1.7.0 (tests/datasets/test_ds_transforms.py). ``p`` is
int8 rather than tonic's bool so that polarity sums and differences need no cast; tonic casts ``p``
with ``astype(int)`` where it needs an index.

A sensor size is tonic's ``(W, H, P)`` tuple: width (or number of channels), height, polarities.
Audio datasets use ``(700, 1, 1)``.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.errors import UserError

EVENT_DTYPE = np.dtype([("t", np.int64), ("x", np.int16), ("y", np.int16), ("p", np.int8)])

SensorSize = tuple  # (W, H, P), tonic's order


def make_events(t, x, y=0, p=0) -> np.ndarray:
    """Build an event array from columns (scalars broadcast).

    >>> ev = make_events([0, 5], [3, 4], 0, [1, 0])
    >>> ev["t"].tolist(), ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist()
    ([0, 5], [3, 4], [0, 0], [1, 0])
    >>> ev.dtype == EVENT_DTYPE
    True
    """
    t = np.asarray(t, dtype=np.int64).reshape(-1)
    ev = np.empty(len(t), dtype=EVENT_DTYPE)
    ev["t"] = t
    ev["x"] = x
    ev["y"] = y
    ev["p"] = p
    return ev


def empty_events() -> np.ndarray:
    """An event array with no events."""
    return np.empty(0, dtype=EVENT_DTYPE)


def validate_events(events: np.ndarray, sensor_size: SensorSize, where: str, sample) -> np.ndarray:
    """Check an event array; raise :class:`UserError` naming ``where`` (the file), the sample and
    the first problem found. Returns ``events`` unchanged.

    Checks: timestamps ≥ 0 and non-decreasing; ``0 <= x < W``, ``0 <= y < H``, ``0 <= p < P``.
    Addresses are checked before they are narrowed to int16 by the readers (see
    :func:`check_addresses`), so an address of 70000 is reported as such, not wrapped.

    >>> validate_events(make_events([0, 2], [1, 1]), (700, 1, 1), "a.h5", 0).size
    2
    >>> validate_events(make_events([-3, 2], [1, 1]), (700, 1, 1), "a.h5", 7)
    Traceback (most recent call last):
    ...
    surnn_neuro.errors.UserError: a.h5: sample 7: negative timestamp -3 us at event 0
    """
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"events must have dtype {EVENT_DTYPE}, got {events.dtype}")
    check_timestamps(events["t"], where, sample)
    check_addresses(events["x"], events["y"], events["p"], sensor_size, where, sample)
    return events


def check_timestamps(t: np.ndarray, where: str, sample) -> None:
    """UserError if any timestamp is negative or smaller than its predecessor."""
    if t.size == 0:
        return
    neg = np.flatnonzero(t < 0)
    if neg.size:
        i = int(neg[0])
        raise UserError(f"{where}: sample {sample}: negative timestamp {int(t[i])} us at event {i}")
    dec = np.flatnonzero(np.diff(t) < 0)
    if dec.size:
        i = int(dec[0]) + 1
        raise UserError(f"{where}: sample {sample}: timestamps decrease at event {i} "
                        f"({int(t[i - 1])} us, then {int(t[i])} us); events must be in time order")


def check_addresses(x, y, p, sensor_size: SensorSize, where: str, sample) -> None:
    """UserError if an address lies outside the sensor ``(W, H, P)``. Accepts any integer arrays
    (call it on the raw decoded values, before the cast to int16)."""
    for name, values, size in (("x", x, sensor_size[0]), ("y", y, sensor_size[1]),
                               ("p", p, sensor_size[2])):
        values = np.asarray(values)
        if values.size == 0:
            continue
        bad = np.flatnonzero((values < 0) | (values >= size))
        if bad.size:
            i = int(bad[0])
            what = {"x": "x (column/channel)", "y": "y (row)", "p": "polarity"}[name]
            raise UserError(f"{where}: sample {sample}: {what} = {int(values[i])} at event {i} is "
                            f"outside the sensor (valid 0..{size - 1}; sensor W×H×P = "
                            f"{sensor_size[0]}×{sensor_size[1]}×{sensor_size[2]})")


def check_label(label: int, n_classes: int, where: str, sample) -> int:
    """UserError unless ``0 <= label < n_classes``; returns the label as an int."""
    label = int(label)
    if not 0 <= label < n_classes:
        raise UserError(f"{where}: sample {sample}: label {label} out of range 0..{n_classes - 1}")
    return label


def event_stats(events: np.ndarray) -> tuple[int, int]:
    """``(number of events, duration in µs)`` where duration = last − first timestamp (0 if < 2)."""
    n = int(events.size)
    dur = int(events["t"][-1] - events["t"][0]) if n > 1 else 0
    return n, dur
