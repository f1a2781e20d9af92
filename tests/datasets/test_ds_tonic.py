"""tonic's own event arrays and dataset objects (the real tonic 1.7.0) into frames and TaskData."""

from pathlib import Path

import numpy as np
import pytest
import tonic
from tonic.io import events_struct, make_structured_array, read_mnist_file

from ds_formats import SHD_LABELS, write_nmnist, write_shd_pair
from surnn_neuro.datasets import (BinningConfig, as_events, bin_events, from_tonic, load_arrays,
                                  make_events, save_arrays, shd, task_data)
from surnn_neuro.errors import UserError

# The camera case of test_ds_transforms: sensor W=4, H=2, P=2 -> V = 16, v = p*8 + y*4 + x
SENSOR = (4, 2, 2)
T_US = [0, 10, 12, 25, 39, 40]
X = [0, 3, 3, 3, 1, 2]
Y = [0, 1, 1, 1, 0, 1]
P = [1, 0, 0, 0, 1, 1]


def frames(entries, T=4, V=16):
    out = np.zeros((T, V), np.float32)
    for (t, v), val in entries.items():
        out[t, v] = val
    return out


# bins of 40/4 = 10 µs: bin = t*4//40 -> 0, 1, 1, 2, 3 and t = 40 dropped;
# v: e0 = 8 + 0 + 0 = 8; events 1, 2, 3 = 0 + 4 + 3 = 7; e4 = 8 + 0 + 1 = 9.
EXPECTED = frames({(0, 8): 1, (1, 7): 2, (2, 7): 1, (3, 9): 1})
CFG = BinningConfig(n_bins=4, duration_us=40)


@pytest.mark.parametrize("dtype", [tonic.datasets.NMNIST.dtype,   # x, y, t, p all int64
                                   events_struct,                  # x, y int16, t int64, p bool
                                   tonic.datasets.DVSGesture.dtype])  # x, y int16, p bool, t int64
def test_bin_events_takes_tonic_camera_arrays(dtype):
    ev = make_structured_array(np.array(X), Y, T_US, np.array(P, dtype=dtype["p"]), dtype=dtype) \
        if dtype.names == ("x", "y", "t", "p") else \
        make_structured_array(np.array(X), Y, np.array(P, dtype=dtype["p"]), T_US, dtype=dtype)
    assert ev.dtype == dtype
    got = bin_events(ev, SENSOR, CFG)
    np.testing.assert_array_equal(got, EXPECTED)
    # the same events cast by hand to our dtype bin to the same frames
    np.testing.assert_array_equal(got, bin_events(make_events(T_US, X, Y, P), SENSOR, CFG))


def test_bin_events_takes_tonic_audio_arrays():
    # tonic's SHD layout: (t, x, p) int64, p = 1, sensor (700, 1, 1)
    ev = make_structured_array(np.array([0, 62500, 500000]), [0, 699, 3], 1,
                               dtype=tonic.datasets.SHD.dtype)
    assert ev.dtype.names == ("t", "x", "p") and ev["p"].tolist() == [1, 1, 1]
    cfg = BinningConfig(n_bins=100, duration_us=1_400_000, channels=140)
    got = bin_events(ev, (700, 1, 1), cfg)
    # bins t*100//1400000 = 0, 4, 35; channel groups c*140//700 = c//5 = 0, 139, 0
    assert got[0, 0] == 1 and got[4, 139] == 1 and got[35, 0] == 1 and got.sum() == 3
    np.testing.assert_array_equal(got, bin_events(make_events([0, 62500, 500000], [0, 699, 3]),
                                                  (700, 1, 1), cfg))
    conv = as_events(ev, (700, 1, 1))  # single-polarity sensor: p = 1 mapped to 0, y = 0
    assert conv["p"].tolist() == [0, 0, 0] and conv["y"].tolist() == [0, 0, 0]


def test_tonic_transforms_then_our_binning():
    # tonic's Downsample(0.5) on its own int64 array assigns x·0.5 to an int field: x // 2, as
    # our spatial_factor=2, so binning the downsampled events on the 2×1×2 sensor gives our pooled
    # frames: v = p·2 + (y//2)·2 + x//2 -> e0: 2, events 1-3: 1, e4: 2
    ev = make_structured_array(np.array(X), Y, T_US, P, dtype=tonic.datasets.NMNIST.dtype)
    down = tonic.transforms.Downsample(spatial_factor=0.5)(ev.copy())
    assert down.dtype == tonic.datasets.NMNIST.dtype and down["x"].tolist() == [0, 1, 1, 1, 0, 1]
    ours = bin_events(ev, SENSOR, CFG.replace(spatial_factor=2))
    np.testing.assert_array_equal(bin_events(down, (2, 1, 2), CFG), ours)
    np.testing.assert_array_equal(ours, frames({(0, 2): 1, (1, 1): 2, (2, 1): 1, (3, 2): 1}, V=4))


def _audio(t, x, p=None, dtype=np.int64):
    fields = [("t", dtype), ("x", dtype)] + ([("p", dtype)] if p is not None else [])
    ev = np.zeros(len(t), dtype=fields)
    ev["t"], ev["x"] = t, x
    if p is not None:
        ev["p"] = p
    return ev


@pytest.mark.parametrize("events, sensor, message", [
    (_audio([0, 1], [0, 1]).astype([("t", float), ("x", np.int64)]), (700, 1, 1),
     "field 't' has dtype float64; timestamps .µs. must be integers"),
    (np.zeros(2, [("t", np.int64), ("y", np.int64)]), (700, 1, 1),
     "events have no field x .fields: t, y."),
    (_audio([0, 1], [0, 1], [0, 1]), (700, 1, 1),
     "the sensor has one polarity .P = 1. but the events hold polarities 0 and 1"),
    (_audio([0, 1], [0, 1], [1, 1]), (34, 34, 2), "events have no y field .audio layout. but the "
                                                  "sensor has H = 34 rows"),
    (_audio([0, 5], [3, 70000]), (700, 1, 1),
     "x .column/channel. = 70000 at event 1 is outside the sensor"),
    (_audio([5, 2], [3, 4]), (700, 1, 1), "timestamps decrease at event 1"),
    (np.zeros((3, 2, 2, 2), np.int16), (2, 2, 2), "frames. leave tonic's ToFrame out"),
])
def test_as_events_errors_name_the_sample(events, sensor, message):
    with pytest.raises(UserError, match="ds: sample 7: .*" + message):
        as_events(events, sensor, "ds", 7)


# --------------------------------------------------------------------------------- dataset objects

def _tonic_shd(tmp_path):
    """tonic.datasets.SHD on the local SHD files (train: 4 samples, test: 2). tonic only checks that
    its archive name exists before it would download, so empty placeholders stand in for them."""
    root = write_shd_pair(tmp_path / "SHD")
    for name in ("shd_train.h5.zip", "shd_test.h5.zip"):
        (root / name).write_bytes(b"")
    return (tonic.datasets.SHD(save_to=str(tmp_path), train=True),
            tonic.datasets.SHD(save_to=str(tmp_path), train=False), root)


def test_tonic_shd_dataset_gives_our_shd_task(tmp_path):
    train, test, root = _tonic_shd(tmp_path)
    assert len(train) == 4 and train.sensor_size == (700, 1, 1)
    ev, label = train[0]
    assert ev.dtype == tonic.datasets.SHD.dtype and ev["p"].tolist() == [1, 1, 1]
    cfg = shd.SHD_SPEC.default_config
    task = from_tonic(train, test, cfg, name="tonic-shd", progress=False)
    ours = task_data("shd", data_dir=root, progress=False, cache_dir=tmp_path / "c")
    # the float16 times are exact in µs, so tonic's truncation and our rounding agree
    np.testing.assert_array_equal(task.x_train, ours.x_train)
    np.testing.assert_array_equal(task.x_test, ours.x_test)
    assert task.y_train.tolist() == SHD_LABELS and task.y_test.tolist() == [1, 2]
    assert task.output_size == 20  # len(train.classes): the 20 extra/keys of the file
    assert task.x_train.dtype == np.float32 and task.y_train.dtype == np.int64
    assert task.readout == "mean" and task.info["sensor_size"] == [700, 1, 1]
    assert task.info["events_per_sample"]["train"] == {"mean": 1.75, "min": 0, "max": 3}


class LocalNMNIST(tonic.Dataset):
    """One's own tonic dataset on local N-MNIST files, read with tonic's own reader."""

    sensor_size = tonic.datasets.NMNIST.sensor_size
    dtype = tonic.datasets.NMNIST.dtype
    classes = [str(d) for d in range(10)]

    def __init__(self, root, train=True, transform=None):
        super().__init__(save_to=str(root), transform=transform)
        folder = Path(root) / ("Train" if train else "Test")
        for f in sorted(folder.glob("*/*.bin")):
            self.data.append(f)
            self.targets.append(int(f.parent.name))

    def __getitem__(self, i):
        events = read_mnist_file(str(self.data[i]), dtype=self.dtype)
        if self.transform is not None:
            events = self.transform(events)
        return events, self.targets[i]

    def __len__(self):
        return len(self.data)


def test_custom_tonic_dataset_gives_our_nmnist_task(tmp_path):
    root = write_nmnist(tmp_path / "nm")
    train, test = LocalNMNIST(root), LocalNMNIST(root, train=False)
    assert train[0][0].dtype == tonic.datasets.NMNIST.dtype  # int64 x, y, t, p
    task = from_tonic(train, test, BinningConfig(n_bins=20, duration_us=300_000, spatial_factor=2),
                      readout="last", progress=False)
    ours = task_data("nmnist", data_dir=root, progress=False, cache_dir=tmp_path / "c")
    for f in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(task, f), getattr(ours, f))
    # sample a: (1,2,ON,100 µs), (3,4,OFF,8000), (33,33,ON,8242): bins t·20//300000 = 0, 0, 0;
    # pooled sensor 17×17×2: v = p·289 + (y//2)·17 + x//2 -> 289 + 17 + 0, 0 + 34 + 1, 289 + 272 + 16
    assert task.x_train[0, 0, 306] == 1 and task.x_train[0, 0, 35] == 1 and task.x_train[0, 0, 577] == 1
    assert task.x_train[0].sum() == 3 and task.x_train[1].sum() == 0
    assert task.output_size == 10 and task.readout == "last"


def test_from_tonic_split_and_errors(tmp_path):
    train, _, _ = _tonic_shd(tmp_path)
    with pytest.raises(UserError, match="SHD .*: 4 samples leave the every-5th test split empty"):
        from_tonic(train, progress=False)

    class Listed:
        """Anything indexable returning (events, label): 10 samples, labels 0, 1 alternating."""

        sensor_size = (3, 1, 1)

        def __len__(self):
            return 10

        def __getitem__(self, i):
            return _audio([0, 1 + i], [i % 3, 2]), i % 2

    task = from_tonic(Listed(), config=BinningConfig(n_bins=2), progress=False)
    # class 0 = samples 0, 2, 4, 6, 8 and class 1 = 1, 3, 5, 7, 9: rank 4 -> samples 8 and 9 test
    assert task.y_test.tolist() == [0, 1] and len(task.y_train) == 8
    np.testing.assert_array_equal(task.x_test[0], bin_events(_audio([0, 9], [2, 2]), (3, 1, 1),
                                                             BinningConfig(n_bins=2)))
    assert task.output_size == 2

    class NoSensor(Listed):
        sensor_size = None

    with pytest.raises(UserError, match="NoSensor: no sensor_size attribute; pass sensor_size"):
        from_tonic(NoSensor(), progress=False)
    assert from_tonic(NoSensor(), sensor_size=(3, 1, 1), progress=False).input_size == 3

    class Named(Listed):
        def __getitem__(self, i):
            return super().__getitem__(i)[0], "yes"

    with pytest.raises(UserError, match="Named: sample 0: label 'yes' is not an integer class"):
        from_tonic(Named(), progress=False)
    with pytest.raises(UserError, match=r"train label 1 out of range 0\.\.0 \(n_classes = 1\)"):
        from_tonic(Listed(), n_classes=1, progress=False)
    with pytest.raises(UserError, match="Listed: spatial_factor applies to camera datasets"):
        from_tonic(Listed(), config=BinningConfig(spatial_factor=2), progress=False)
    framed = LocalNMNIST(write_nmnist(tmp_path / "nm"),
                         transform=tonic.transforms.ToFrame(sensor_size=(34, 34, 2), n_time_bins=2))
    with pytest.raises(UserError, match="LocalNMNIST .*: sample 0: .*leave tonic's ToFrame out"):
        from_tonic(framed, progress=False)


def test_tonic_task_saved_as_arrays_reads_back(tmp_path):
    train, test, _ = _tonic_shd(tmp_path)
    task = from_tonic(train, test, BinningConfig(n_bins=5, channels=10), progress=False)
    for suffix in (".npz", ".h5"):
        back = load_arrays(save_arrays(tmp_path / f"shd{suffix}", task))
        for f in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(getattr(back, f), getattr(task, f))
            assert getattr(back, f).dtype == getattr(task, f).dtype
        assert (back.output_size, back.readout) == (20, "mean")


def test_tonic_task_trains_and_simulates_like_torch(tmp_path):
    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.simulate_task import simulate_on_task
    from surnn_neuro.training.loop import TrainConfig, evaluate, train
    from surnn_neuro.training.tasks import as_torch

    tr, te, _ = _tonic_shd(tmp_path)
    task = from_tonic(tr, te, BinningConfig(n_bins=8, duration_us=1_400_000, channels=20),
                      name="tonic-shd", progress=False)
    cfg = TrainConfig(task="tonic-shd", model="gru", hidden=4, epochs=2, batch_size=2)
    model, _ = train(cfg, as_torch(task), progress=False)
    torch_acc = evaluate(model, as_torch(task))["value"]
    _, result = simulate_on_task(to_graph(model), task)
    assert result["n"] == 2 and result["metric"] == "accuracy"
    assert result["value"] == torch_acc
