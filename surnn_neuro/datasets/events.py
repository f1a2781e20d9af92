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

Other layouts come in through :func:`as_events`: any structured array with tonic's field names, in
any order and of any integer widths (tonic's own datasets use int64 fields, or int16 / bool), and
the audio layout without ``y`` (tonic's SHD/SSC: ``t, x, p`` with ``p = 1`` on a sensor with one
polarity).
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


_INT16_MAX = np.iinfo(np.int16).max


def _as_int64(values: np.ndarray, field: str, where: str, sample) -> np.ndarray:
    if values.dtype == np.uint64 and values.size and values.max() > np.iinfo(np.int64).max:
        raise UserError(f"{where}: sample {sample}: field {field!r} holds {int(values.max())}, "
                        f"beyond int64")
    return values.astype(np.int64)


def as_events(events, sensor_size: SensorSize, where: str = "events", sample=0) -> np.ndarray:
    """Any tonic-style event array as :data:`EVENT_DTYPE`, checked; arrays already of
    :data:`EVENT_DTYPE` are returned as they are (every reader has validated them).

    Accepted: a 1-D structured array with fields ``t`` and ``x`` and optionally ``y`` and ``p``
    (extra fields are ignored), in any order, each of any integer dtype (``p`` also bool). Without
    ``y`` (audio layout) the sensor must have ``H = 1`` and ``y = 0``; without ``p``, ``p = 0``. On a
    single-polarity sensor (``P = 1``) the polarity field may hold one value, mapped to 0 (tonic's
    rule in ``ToFrame``: its SHD stores ``p = 1`` with sensor (700, 1, 1)); two values are an error.
    Then :func:`check_timestamps` and :func:`check_addresses` run on the values before they are
    narrowed, so nothing wraps. UserError naming ``where`` and ``sample`` for any problem.

    >>> tonic_like = np.array([(5, 2, 1), (9, 0, 1)], dtype=[("t", "<i8"), ("x", "<i8"), ("p", "<i8")])
    >>> ev = as_events(tonic_like, (3, 1, 1))
    >>> ev.dtype == EVENT_DTYPE, ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist()
    (True, [2, 0], [0, 0], [0, 0])
    """
    if isinstance(events, np.ndarray) and events.dtype == EVENT_DTYPE:
        return events
    names = getattr(getattr(events, "dtype", None), "names", None)
    if not isinstance(events, np.ndarray) or names is None or events.ndim != 1:
        shape = getattr(events, "shape", None)
        got = f"{type(events).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")
        frames = (" (frames? leave tonic's ToFrame out of the transform: the events are binned "
                  "here)" if isinstance(events, np.ndarray) and names is None and events.ndim > 1
                  else "")
        raise UserError(f"{where}: sample {sample}: expected a 1-D structured event array with "
                        f"fields t, x[, y][, p] (tonic's layout), got {got}{frames}")
    missing = [f for f in ("t", "x") if f not in names]
    if missing:
        raise UserError(f"{where}: sample {sample}: events have no field {', '.join(missing)} "
                        f"(fields: {', '.join(names)}); expected t (µs), x[, y][, p]")
    for f in ("t", "x", "y", "p"):
        if f in names and events.dtype[f].kind not in ("iub" if f == "p" else "iu"):
            what = "timestamps (µs)" if f == "t" else "addresses"
            raise UserError(f"{where}: sample {sample}: field {f!r} has dtype {events.dtype[f]}; "
                            f"{what} must be integers (e.g. np.rint(t).astype(np.int64))")
    W, H, P = (int(s) for s in sensor_size)
    if max(W, H) > _INT16_MAX + 1:
        raise ValueError(f"sensor {W}×{H} exceeds the int16 addresses of EVENT_DTYPE")
    t = _as_int64(events["t"], "t", where, sample)
    x = _as_int64(events["x"], "x", where, sample)
    if "y" in names:
        y = _as_int64(events["y"], "y", where, sample)
    elif H != 1:
        raise UserError(f"{where}: sample {sample}: events have no y field (audio layout) but the "
                        f"sensor has H = {H} rows")
    else:
        y = np.zeros_like(x)
    p = events["p"].astype(np.int64) if "p" in names else np.zeros_like(x)
    if P == 1 and p.size:
        lo, hi = int(p.min()), int(p.max())
        if lo != hi:
            raise UserError(f"{where}: sample {sample}: the sensor has one polarity (P = 1) but the "
                            f"events hold polarities {lo} and {hi}")
        p = np.zeros_like(p)
    check_timestamps(t, where, sample)
    check_addresses(x, y, p, sensor_size, where, sample)
    out = np.empty(len(t), dtype=EVENT_DTYPE)
    out["t"], out["x"], out["y"], out["p"] = t, x, y, p
    return out
