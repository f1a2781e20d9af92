"""From an event stream to the dense input of a recurrent network: ``(T, V)`` float32 frames.

Pipeline of :func:`bin_events`, in this order (every step optional but the binning):

1. **denoise** (``denoise_us > 0``): drop an event unless one of its 4 neighbours (x±1 or y±1, same
   polarity or not) had an event at most ``denoise_us`` µs earlier: tonic's ``Denoise`` rule,
   vectorised (see :func:`denoise`).
2. **spatial downsampling** (camera, ``spatial_factor = f``): ``x → x // f``, ``y → y // f``; the
   sensor becomes ``ceil(W/f) × ceil(H/f)``; counts of merged pixels add up.
3. **polarity merge** (``merge_polarity``): ``p → 0``, one polarity plane.
4. **channel downsampling** (audio, ``channels = n``): channel ``c → c · n // 700``, i.e. the 700
   channels are summed in n contiguous groups (groups of exactly 700/n when n divides 700:
   140 → groups of 5).
5. **time binning** into ``n_bins = T`` steps. With ``duration_us = D``: bin ``= t · T // D`` with
   ``t`` from the start of the sample; events at ``t >= D`` are dropped, so every sample has the same
   time scale (bins of D/T µs). With ``duration_us = None``: the span of each sample is stretched
   over the T bins, ``bin = (t − t_min) · T // (t_max − t_min + 1)`` (like tonic's
   ``ToFrame(n_time_bins=T)``, but no event is lost).
6. **encoding** of the count frames ``C[t, v]`` (number of events of input v in bin t):
   ``count``: C; ``binary``: 1 where C > 0; ``delta``: ``C[t] − C[t−1]`` with ``C[−1] = 0`` (signed).

Input order ``v``: ``v = p·H'·W' + y·W' + x`` (polarity plane, then row, then column), so
``frames.reshape(T, P', H', W')`` is tonic's ``ToFrame`` layout ``(T, P, H, W)``; for audio
(``H = P = 1``) ``v`` is the channel. ``V = P'·H'·W'``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from surnn_neuro.datasets.events import as_events

ENCODINGS = ("count", "binary", "delta")


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


@dataclass(frozen=True)
class BinningConfig:
    """How events become frames (see the module docstring for each step).

    n_bins: T, number of time steps (≥ 1).
    encoding: "count" | "binary" | "delta".
    duration_us: fixed window D in µs from the sample start, or None to stretch each sample.
    channels: audio only: number of channel groups n (1..700), None keeps every channel.
    spatial_factor: camera only: integer pooling factor f ≥ 1.
    merge_polarity: sum both polarities into one plane.
    denoise_us: tonic-style denoise filter time in µs; 0 disables it.
    """

    n_bins: int = 30
    encoding: str = "count"
    duration_us: int | None = None
    channels: int | None = None
    spatial_factor: int = 1
    merge_polarity: bool = False
    denoise_us: int = 0

    def __post_init__(self):
        if not _is_int(self.n_bins) or self.n_bins < 1:
            raise ValueError(f"n_bins must be an integer >= 1, got {self.n_bins!r}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}; known: {', '.join(ENCODINGS)}")
        if self.duration_us is not None and (not _is_int(self.duration_us) or self.duration_us < 1):
            raise ValueError(f"duration_us must be None or an integer >= 1 (µs), "
                             f"got {self.duration_us!r}")
        if self.channels is not None and (not _is_int(self.channels) or self.channels < 1):
            raise ValueError(f"channels must be None or an integer >= 1, got {self.channels!r}")
        if not _is_int(self.spatial_factor) or self.spatial_factor < 1:
            raise ValueError(f"spatial_factor must be an integer >= 1, got {self.spatial_factor!r}")
        if not isinstance(self.merge_polarity, (bool, np.bool_)):
            raise ValueError(f"merge_polarity must be a bool, got {self.merge_polarity!r}")
        if not _is_int(self.denoise_us) or self.denoise_us < 0:
            raise ValueError(f"denoise_us must be an integer >= 0 (µs; 0 = off), "
                             f"got {self.denoise_us!r}")

    def replace(self, **changes) -> "BinningConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def is_audio(sensor_size) -> bool:
    """A 1-D sensor without polarity (SHD/SSC: (700, 1, 1))."""
    return sensor_size[1] == 1 and sensor_size[2] == 1


def check_config(sensor_size, config: BinningConfig) -> None:
    """ValueError if ``config`` does not apply to this sensor (channels on a camera, ...)."""
    if is_audio(sensor_size):
        if config.spatial_factor != 1:
            raise ValueError("spatial_factor applies to camera datasets; use channels to "
                             "downsample an audio dataset")
        if config.channels is not None and config.channels > sensor_size[0]:
            raise ValueError(f"channels = {config.channels} exceeds the {sensor_size[0]} channels "
                             f"of the sensor")
    elif config.channels is not None:
        raise ValueError("channels applies to audio datasets (SHD, SSC); use spatial_factor and "
                         "merge_polarity for camera datasets")


def output_sensor(sensor_size, config: BinningConfig) -> tuple[int, int, int]:
    """Sensor ``(W', H', P')`` after downsampling and polarity merge."""
    check_config(sensor_size, config)
    W, H, P = (int(s) for s in sensor_size)
    if is_audio(sensor_size):
        return (config.channels or W, 1, 1)
    f = config.spatial_factor
    return (math.ceil(W / f), math.ceil(H / f), 1 if config.merge_polarity else P)


def output_size(sensor_size, config: BinningConfig) -> int:
    """V, the number of inputs per time step.

    >>> output_size((700, 1, 1), BinningConfig(channels=140))
    140
    >>> output_size((128, 128, 2), BinningConfig(spatial_factor=4))  # 2 · 32 · 32
    2048
    """
    W, H, P = output_sensor(sensor_size, config)
    return W * H * P


def input_layout(sensor_size, config: BinningConfig) -> str:
    """A one-line description of the input order, for info dicts and reports."""
    W, H, P = output_sensor(sensor_size, config)
    if is_audio(sensor_size):
        return f"v = channel group (c * {W} // {sensor_size[0]}), V = {W}"
    return f"v = p*{H}*{W} + y*{W} + x, V = {P}*{H}*{W} (reshape (T, {P}, {H}, {W}) = tonic ToFrame)"


def denoise(events: np.ndarray, filter_us: int) -> np.ndarray:
    """Keep the events that have a 4-neighbour (x±1 or y±1) event at most ``filter_us`` µs
    earlier (strictly less than ``filter_us`` apart, earlier in stream order).

    This is the rule of ``tonic.transforms.Denoise`` (tonic 1.7.0, ``denoise_numpy``), vectorised:
    tonic loops over events in Python. One difference: tonic starts its per-pixel memory at
    ``filter_time`` instead of "never", so it keeps *every* event with ``t < filter_time``; we do
    not. For streams starting at ``t >= filter_us`` both give the same events (tested).
    """
    n = len(events)
    if n == 0 or filter_us <= 0:
        return events.copy()
    x = events["x"].astype(np.int64) + 1  # pad by one pixel so that neighbours never wrap
    y = events["y"].astype(np.int64) + 1
    t = events["t"].astype(np.int64)
    W = int(x.max()) + 2
    pix = y * W + x
    keep = np.zeros(n, dtype=bool)
    order = np.arange(n, dtype=np.int64)
    # For each neighbour direction: merge "writes" (event j marks pixel pix[j] at 2j) with
    # "queries" (event i asks pixel pix[i]+d at 2i+1), sort by (pixel, stream position) and find,
    # for each query, the last write to the same pixel before it.
    for d in (1, -1, W, -W):
        keys = np.concatenate([pix, pix + d])
        pos = np.concatenate([2 * order, 2 * order + 1])
        srt = np.lexsort((pos, keys))
        k_sorted = keys[srt]
        is_write = srt < n
        last = np.maximum.accumulate(np.where(is_write, np.arange(2 * n), -1))
        q = np.flatnonzero(~is_write)
        lw = last[q]
        ok = lw >= 0
        q, lw = q[ok], lw[ok]
        same = k_sorted[lw] == k_sorted[q]
        qi = srt[q[same]] - n
        wi = srt[lw[same]]
        keep[qi[t[qi] - t[wi] < filter_us]] = True
    return events[keep]


def bin_events(events: np.ndarray, sensor_size, config: BinningConfig) -> np.ndarray:
    """Frames ``(T, V)`` float32 of one sample (steps and input order in the module docstring).

    ``events``: an array of :data:`~surnn_neuro.datasets.events.EVENT_DTYPE`, or any tonic-style
    structured array (fields t, x[, y][, p] of any integer widths, audio without y), converted and
    checked by :func:`~surnn_neuro.datasets.events.as_events` (UserError if it does not fit the
    sensor).

    >>> from surnn_neuro.datasets.events import make_events
    >>> ev = make_events([0, 10, 10, 35], [0, 1, 1, 0])       # audio: x = channel
    >>> bin_events(ev, (2, 1, 1), BinningConfig(n_bins=4, duration_us=40)).tolist()
    [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [1.0, 0.0]]
    """
    events = as_events(events, sensor_size)
    W2, H2, P2 = output_sensor(sensor_size, config)
    T, V = config.n_bins, W2 * H2 * P2
    if config.denoise_us:
        events = denoise(events, config.denoise_us)
    t = events["t"].astype(np.int64)
    x = events["x"].astype(np.int64)
    if is_audio(sensor_size):
        v = x * W2 // int(sensor_size[0]) if config.channels else x
    else:
        f = config.spatial_factor
        y = events["y"].astype(np.int64)
        p = np.zeros_like(x) if config.merge_polarity else events["p"].astype(np.int64)
        v = p * (H2 * W2) + (y // f) * W2 + x // f
    if t.size == 0:
        counts = np.zeros((T, V), dtype=np.float32)
    else:
        if config.duration_us is None:
            t0 = t.min()
            b = (t - t0) * T // (t.max() - t0 + 1)
        else:
            b = t * T // config.duration_us
            inside = (b >= 0) & (b < T)
            b, v = b[inside], v[inside]
        counts = np.bincount(b * V + v, minlength=T * V).reshape(T, V).astype(np.float32)
    if config.encoding == "binary":
        return (counts > 0).astype(np.float32)
    if config.encoding == "delta":
        return np.diff(counts, axis=0, prepend=np.zeros((1, V), np.float32))
    return counts
