"""tonic datasets as training and simulation data: :func:`from_tonic`.

A tonic dataset (``tonic.datasets.SHD(save_to)``, ``tonic.datasets.NMNIST(...)``, or one's own
``tonic.Dataset`` subclass) is anything with ``len(ds)`` and ``ds[i] -> (events, label)``, plus a
``sensor_size`` attribute ``(W, H, P)``. :func:`from_tonic` reads every sample, converts its events
with :func:`~surnn_neuro.datasets.events.as_events` (any integer field widths, tonic's field order,
audio arrays without ``y``), bins them with our :class:`~surnn_neuro.datasets.transforms.BinningConfig`
and returns a numpy :class:`~surnn_neuro.datasets.task.TaskData`:

* training: ``train(cfg, as_torch(task))`` (:mod:`surnn_neuro.training`), or write it with
  :func:`surnn_neuro.datasets.arrays.save_arrays` and use ``surnn-neuro train --task arrays --data``;
* simulation: ``surnn_neuro.simulate_task.simulate_on_task(graph, task)``.

tonic itself is not imported here: the function only indexes the dataset. Leave tonic's ``ToFrame``
out of the dataset's ``transform`` (event transforms such as ``Denoise`` or ``Downsample`` are fine,
with ``sensor_size`` passed to match): the events are binned here, so that the frames follow the
package's input order and time rules (docs/datasets.md). Nothing is cached: tonic datasets carry no
file list to key a cache with; save the result with ``save_arrays`` to reuse it.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.datasets.base import class_ranks, limited
from surnn_neuro.datasets.events import as_events, event_stats
from surnn_neuro.datasets.task import READOUTS, TaskData
from surnn_neuro.datasets.transforms import (BinningConfig, bin_events, check_config,
                                             input_layout, output_size)
from surnn_neuro.errors import UserError

TEST_EVERY = 5


def _where(ds) -> str:
    loc = getattr(ds, "location_on_system", None)
    return f"{type(ds).__name__}" + (f" ({loc})" if loc else "")


def _sensor(ds, given) -> tuple[int, int, int]:
    sensor = given if given is not None else getattr(ds, "sensor_size", None)
    if sensor is None:
        raise UserError(f"{_where(ds)}: no sensor_size attribute; pass sensor_size=(W, H, P)")
    try:
        sensor = tuple(int(s) for s in sensor)
    except (TypeError, ValueError):
        raise UserError(f"{_where(ds)}: sensor_size {sensor!r} is not (W, H, P) integers") from None
    if len(sensor) != 3 or min(sensor) < 1:
        raise UserError(f"{_where(ds)}: sensor_size {sensor!r} is not (W, H, P) >= 1")
    return sensor


def _label(target, where: str, i: int) -> int:
    a = np.asarray(target)
    if a.ndim != 0 or a.dtype.kind not in "iu":
        raise UserError(f"{where}: sample {i}: label {target!r} is not an integer class index "
                        f"(set the dataset's target_transform to map it to 0..K-1)")
    return int(a)


def _read(ds, sensor, config: BinningConfig, limit, progress: bool, desc: str):
    from tqdm.auto import tqdm

    where = _where(ds)
    n = limited(len(ds), limit)
    x = np.zeros((n, config.n_bins, output_size(sensor, config)), dtype=np.float32)
    y = np.zeros(n, dtype=np.int64)
    n_events = np.zeros(n, dtype=np.int64)
    with tqdm(total=n, desc=desc, unit="sample", disable=None if progress else True, leave=False) as bar:  # tty only
        for i in range(n):
            item = ds[i]
            if not isinstance(item, tuple) or len(item) != 2:
                raise UserError(f"{where}: sample {i}: expected (events, label), got "
                                f"{type(item).__name__}")
            ev = as_events(item[0], sensor, where, i)
            x[i] = bin_events(ev, sensor, config)
            y[i] = _label(item[1], where, i)
            n_events[i] = event_stats(ev)[0]
            bar.update()
    return x, y, n_events


def _n_classes(train, given, labels) -> int:
    if given is not None:
        if int(given) < 1:
            raise ValueError(f"n_classes must be >= 1, got {given!r}")
        return int(given)
    classes = getattr(train, "classes", None)
    try:
        declared = len(classes) if classes is not None else 0
    except TypeError:
        declared = 0
    seen = int(max((int(y.max()) for y in labels if y.size), default=-1)) + 1
    return max(declared, seen, 1)


def from_tonic(train, test=None, config: BinningConfig | None = None, *, name: str = "tonic",
               n_classes: int | None = None, readout: str = "mean", sensor_size=None,
               limit: int | None = None, progress: bool = True) -> TaskData:
    """Bin a tonic dataset (train and test objects) into a numpy :class:`TaskData`.

    train, test: datasets with ``len`` and ``ds[i] -> (events, integer label)``. ``test=None``:
    ``train`` is split without a seed, within each class in index order every 5th sample (class
    ranks 4, 9, …) is test. config: the binning (default ``BinningConfig()``: T = 30 bins over each
    sample's span). sensor_size: default the dataset's ``sensor_size`` attribute (train and test
    must agree). n_classes: default ``len(train.classes)`` if the dataset has ``classes``, else the
    largest label + 1. readout: model readout, "mean" (default) or "last". limit: read only the
    first ``limit`` samples of each dataset.

    Returns x (N, T, V) float32 with V from the sensor and binning, y (N,) int64. UserError for a
    sample that is not (events, label), events that do not fit the sensor, non-integer or
    out-of-range labels, a binning that does not fit the sensor.
    """
    config = config if config is not None else BinningConfig()
    if not isinstance(config, BinningConfig):
        raise TypeError(f"config must be a BinningConfig, got {type(config).__name__}")
    if readout not in READOUTS or readout == "all":
        raise ValueError(f"readout must be 'mean' or 'last', got {readout!r}")
    sensor = _sensor(train, sensor_size)
    if test is not None and sensor_size is None and getattr(test, "sensor_size", None) is not None \
            and _sensor(test, None) != sensor:
        raise UserError(f"{_where(test)}: sensor_size {_sensor(test, None)} differs from the "
                        f"training set's {sensor}")
    try:
        check_config(sensor, config)
    except ValueError as e:
        raise UserError(f"{_where(train)}: {e}") from None
    xtr, ytr, etr = _read(train, sensor, config, limit, progress, f"{name} train")
    if len(ytr) == 0:
        raise UserError(f"{_where(train)}: no samples to train on")
    if test is None:
        is_test = class_ranks(ytr) % TEST_EVERY == TEST_EVERY - 1
        xtr, ytr, etr, xte, yte, ete = (xtr[~is_test], ytr[~is_test], etr[~is_test],
                                        xtr[is_test], ytr[is_test], etr[is_test])
        split = f"test = every {TEST_EVERY}th sample of each class of {_where(train)}"
        if not is_test.any() or is_test.all():
            raise UserError(f"{_where(train)}: {len(is_test)} samples leave the every-"
                            f"{TEST_EVERY}th test split empty; pass a test dataset")
    else:
        xte, yte, ete = _read(test, sensor, config, limit, progress, f"{name} test")
        if len(yte) == 0:
            raise UserError(f"{_where(test)}: no test samples")
        split = "given"
    K = _n_classes(train, n_classes, (ytr, yte))
    for which, y, ds in (("train", ytr, train), ("test", yte, test if test is not None else train)):
        bad = np.flatnonzero(y >= K)
        if bad.size:
            raise UserError(f"{_where(ds)}: {which} label {int(y[bad[0]])} out of range "
                            f"0..{K - 1} (n_classes = {K})")
    stats = {s: {"mean": float(e.mean()), "min": int(e.min()), "max": int(e.max())}
             for s, e in (("train", etr), ("test", ete))}
    info = {"source": "tonic", "dataset": _where(train), "sensor_size": list(sensor),
            "seq_len": config.n_bins, "n_inputs": int(xtr.shape[-1]), "chance": 1.0 / K,
            "binning": config.to_dict(), "input_layout": input_layout(sensor, config),
            "split": split, "events_per_sample": stats}
    return TaskData(name, "classification", xtr, ytr, xte, yte, K, readout, "accuracy", info)
