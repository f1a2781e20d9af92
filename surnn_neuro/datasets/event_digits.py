"""event-digits: an embedded event dataset made from scikit-learn's 1797 8×8 digits.

No download: ``sklearn.datasets.load_digits`` ships with scikit-learn. Each image is turned into an
event stream by simulating an event camera that looks at the digit while the digit moves along a
fixed triangle, like the three saccades of N-MNIST:

* **Scene.** Pixel values 0..16 become intensities ``I = v / 16`` on an 8×8 grid; the sensor is
  ``S × S`` = 12 × 12. At time ``τ`` the image's pixel ``(row i, column j)`` sits at sensor position
  ``(offset + dy(τ) + i, offset + dx(τ) + j)`` (offset 1 px), sampled bilinearly (background 0).
* **Motion.** ``(dx, dy)`` moves at constant speed from (0, 0) to (1, 2) to (2, 0) and back to
  (0, 0) px: three saccades of 100 ms each, 300 ms in all, simulated in steps of 2 ms.
* **Pixels.** Each sensor pixel keeps a reference log intensity (``L = log(I + 0.1)``, set at τ = 0,
  so a static scene emits nothing). Whenever ``L`` has moved by the contrast threshold C = 0.4 from
  its reference, the pixel emits an ON event (p = 1, brighter) or an OFF event (p = 0, darker) and
  the reference moves by ±C; several crossings in one step give several events, each timestamped by
  linear interpolation of ``L`` inside the step (rounded to µs; a crossing reached exactly within
  1e-9·C counts, so a pixel that returns to its start value returns to its start reference too).
  Timestamps lie in ``[0, 300 ms)``: a crossing at the very end is stamped 299 999 µs.

The result is deterministic (no random numbers; float64 throughout), 534 events per sample on
average (min 384, max 702); the path is closed, so every pixel emits as many ON as OFF events. Split
(fixed, stratified 80/20, no seed): within each class, in the order of ``load_digits``, every fifth
sample (class ranks 4, 9, 14, …) is in ``test`` (355 samples), the rest in ``train`` (1442).

Default binning (:data:`SPEC`): T = 30 bins of 10 ms over
300 ms, counts, V = 2 · 12 · 12 = 288.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surnn_neuro.datasets.base import DatasetSpec, EventSplit, Sample, class_ranks, limited
from surnn_neuro.datasets.events import EVENT_DTYPE
from surnn_neuro.datasets.transforms import BinningConfig
from surnn_neuro.errors import UserError

TITLE = "event-digits (scikit-learn digits through a simulated event camera)"
CLASSES = tuple(str(d) for d in range(10))
SPLITS = ("train", "test", "all")
READER_VERSION = 1
TEST_EVERY = 5


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


@dataclass(frozen=True)
class DigitsEncoding:
    """Parameters of the simulated event camera (defaults = the published dataset).

    sensor: side S of the square sensor (px). offset: position of the image's first pixel (px).
    path: triangle vertices (dx, dy) in px, visited in order and back to the first.
    saccade_us: duration of one leg. step_us: simulation step. threshold: contrast threshold C on
    log intensity. eps: ``L = log(I + eps)``.
    """

    sensor: int = 12
    offset: float = 1.0
    path: tuple = ((0.0, 0.0), (1.0, 2.0), (2.0, 0.0))
    saccade_us: int = 100_000
    step_us: int = 2_000
    threshold: float = 0.4
    eps: float = 0.1

    def __post_init__(self):
        if not isinstance(self.sensor, int) or self.sensor < 8:
            raise ValueError(f"sensor must be an integer >= 8 (px), got {self.sensor!r}")
        if len(self.path) < 2 or any(len(v) != 2 or not all(_is_num(c) for c in v)
                                     for v in self.path):
            raise ValueError(f"path must hold >= 2 (dx, dy) vertices, got {self.path!r}")
        lo = self.offset + min(min(v) for v in self.path)
        hi = self.offset + max(max(v) for v in self.path) + 8
        if lo < 0 or hi > self.sensor:
            raise ValueError(f"the moving 8×8 image leaves the {self.sensor}×{self.sensor} sensor "
                             f"(covers {lo}..{hi} px); enlarge sensor or shrink offset/path")
        if not isinstance(self.saccade_us, int) or not isinstance(self.step_us, int) or \
                self.step_us < 1 or self.saccade_us < self.step_us or self.saccade_us % self.step_us:
            raise ValueError(f"saccade_us ({self.saccade_us!r}) must be a positive multiple of "
                             f"step_us ({self.step_us!r})")
        if not _is_num(self.threshold) or self.threshold <= 0:
            raise ValueError(f"threshold must be > 0, got {self.threshold!r}")
        if not _is_num(self.eps) or self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}")

    @property
    def duration_us(self) -> int:
        return self.saccade_us * len(self.path)

    @property
    def sensor_size(self) -> tuple[int, int, int]:
        return (self.sensor, self.sensor, 2)


DEFAULT_ENCODING = DigitsEncoding()
SENSOR_SIZE = DEFAULT_ENCODING.sensor_size


def load_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: images (1797, 8, 8) float64 in 0..16 and labels (1797,) int64."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float64), d.target.astype(np.int64)


def source_file() -> Path:
    """The data file inside scikit-learn (its size and mtime key the cache)."""
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"


def split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split`` ("train", "test" or "all"): test = class ranks 4, 9, 14, ...

    >>> split_indices(np.array([0, 0, 0, 0, 0, 0, 1]), "test").tolist()
    [4]
    """
    if split not in SPLITS:
        raise UserError(f"event-digits: unknown split {split!r}; known: {', '.join(SPLITS)}")
    if split == "all":
        return np.arange(len(labels))
    test = class_ranks(labels) % TEST_EVERY == TEST_EVERY - 1
    return np.flatnonzero(test if split == "test" else ~test)


def _shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``out[..., i, j] = a[..., i - dy, j - dx]`` with zeros where that is outside."""
    out = np.zeros_like(a)
    H, W = a.shape[-2:]
    if abs(dx) >= W or abs(dy) >= H:
        return out
    out[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        a[..., max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    return out


def render(canvas: np.ndarray, ox: float, oy: float) -> np.ndarray:
    """Bilinear translation of ``canvas`` (N, S, S) by (ox, oy) px, zeros coming in."""
    ix, iy = int(np.floor(ox)), int(np.floor(oy))
    fx, fy = ox - ix, oy - iy
    return ((1 - fx) * (1 - fy) * _shift(canvas, ix, iy) + fx * (1 - fy) * _shift(canvas, ix + 1, iy)
            + (1 - fx) * fy * _shift(canvas, ix, iy + 1) + fx * fy * _shift(canvas, ix + 1, iy + 1))


def encode_digits(images: np.ndarray, encoding: DigitsEncoding = DEFAULT_ENCODING) -> list[np.ndarray]:
    """Event streams of images (N, 8, 8) with values 0..16, by the simulation in the module
    docstring. Each sample's events depend on its own image only."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (N, 8, 8), got {images.shape}")
    N, S, C = len(images), encoding.sensor, float(encoding.threshold)
    canvas = np.zeros((N, S, S))
    canvas[:, :8, :8] = images / 16.0
    verts = list(encoding.path) + [encoding.path[0]]

    def log_frame(dx, dy):
        img = render(canvas, encoding.offset + dx, encoding.offset + dy)
        return np.log(img + encoding.eps).reshape(N, S * S)

    ref = log_frame(*verts[0])
    prev = ref.copy()
    steps = encoding.saccade_us // encoding.step_us
    parts = []  # (sample, t, pixel, p) per step and direction
    for leg in range(len(encoding.path)):
        (ax, ay), (bx, by) = verts[leg], verts[leg + 1]
        for k in range(1, steps + 1):
            f = k / steps
            cur = log_frame(ax + (bx - ax) * f, ay + (by - ay) * f)
            t_end = leg * encoding.saccade_us + k * encoding.step_us
            diff = cur - ref
            for sign in (1, -1):
                n_cross = np.floor(np.maximum(sign * diff, 0.0) / C + 1e-9).astype(np.int64)
                si, pi = np.nonzero(n_cross)
                if si.size == 0:
                    continue
                cnt = n_cross[si, pi]
                rs, rp = np.repeat(si, cnt), np.repeat(pi, cnt)
                kk = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt) + 1
                level = ref[rs, rp] + sign * kk * C
                lp, ln = prev[rs, rp], cur[rs, rp]
                frac = np.clip((level - lp) / (ln - lp), 0.0, 1.0)
                t = np.rint(t_end - encoding.step_us * (1.0 - frac)).astype(np.int64)
                # a crossing exactly at the end of the path belongs to the last µs of the window
                t = np.minimum(t, encoding.duration_us - 1)
                parts.append((rs, t, rp, np.full(rs.size, 1 if sign > 0 else 0, np.int64)))
                ref[si, pi] += sign * cnt * C
            prev = cur
    if parts:
        s, t, pix, p = (np.concatenate([q[i] for q in parts]) for i in range(4))
    else:
        s = t = pix = p = np.zeros(0, np.int64)
    order = np.lexsort((np.arange(s.size), t, s))  # by sample, then time, then generation order
    s, t, pix, p = s[order], t[order], pix[order], p[order]
    bounds = np.searchsorted(s, np.arange(N + 1))
    out = []
    for i in range(N):
        a, b = bounds[i], bounds[i + 1]
        ev = np.empty(b - a, dtype=EVENT_DTYPE)
        ev["t"], ev["x"], ev["y"], ev["p"] = t[a:b], pix[a:b] % S, pix[a:b] // S, p[a:b]
        out.append(ev)
    return out


def open_split(split: str, encoding: DigitsEncoding = DEFAULT_ENCODING) -> EventSplit:
    """The split as an :class:`EventSplit` (encoded lazily, in one batch, when read)."""
    images, labels = load_images()
    idx = split_indices(labels, split)

    def read(limit=None):
        sel = idx[:limited(len(idx), limit)]
        for i, ev in zip(sel, encode_digits(images[sel], encoding)):
            yield Sample(ev, int(labels[i]), f"digits[{int(i)}]")

    return EventSplit("event-digits", split, source_file().parent, len(idx), (source_file(),),
                      CLASSES, encoding.sensor_size, read, {"encoding": encoding})


def _open(data_dir, split: str) -> EventSplit:
    return open_split(split)  # built in: no data directory


def _detect(folder: Path) -> bool:
    return False  # never found on disk: ``data check event-digits`` names it


def _available(folder: Path) -> tuple[str, ...]:
    return ("train", "test")


#: 30 bins of 10 ms over the 300 ms path, counts: V = 2 · 12 · 12 = 288.
SPEC = DatasetSpec(
    name="event-digits", title=TITLE, kind="camera", sensor_size=SENSOR_SIZE, n_classes=10,
    splits=SPLITS, default_config=BinningConfig(n_bins=30, duration_us=300_000), readout="last",
    files="none (built from sklearn.datasets.load_digits)", urls=(), open_split=_open,
    detect=_detect, available=_available, reader_version=READER_VERSION)
SPECS = (SPEC,)
