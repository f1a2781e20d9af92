import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from ds_formats import (SHD_LABELS, write_gesture_npy, write_gesture_release, write_nmnist,
                        write_shd, write_shd_pair)
from surnn_neuro.datasets import DATASETS, BinningConfig, check, load_split, task_data
from surnn_neuro.errors import UserError


def cache_files(d):
    return sorted(p.name for p in Path(d).glob("*")) if Path(d).exists() else []


# ------------------------------------------------------------------------------------- load_split

def test_dispatch_table():
    assert list(DATASETS) == ["shd", "ssc", "dvs-gesture", "nmnist", "event-digits"]
    with pytest.raises(UserError, match="unknown dataset 'shdd'; known: shd, ssc, dvs-gesture, "
                                        "nmnist, event-digits"):
        load_split("shdd", "train")
    with pytest.raises(UserError, match="unknown split 'dev'; known: train, test"):
        load_split("nmnist", "dev", "/tmp")
    with pytest.raises(UserError, match="dvs-gesture: channels applies to audio datasets"):
        load_split("dvs-gesture", "train", "/tmp", BinningConfig(channels=4))


def test_shd_default_binning_by_hand(tmp_path):
    write_shd_pair(tmp_path / "d")
    x, y, info = load_split("shd", "train", tmp_path / "d", progress=False, cache_dir=tmp_path / "c")
    # default: T = 100 bins over 1.4 s, 140 channel groups (c // 5)
    assert x.shape == (4, 100, 140) and x.dtype == np.float32 and y.dtype == np.int64
    assert y.tolist() == SHD_LABELS
    # sample 0: t = 0, 62500, 500000 µs -> bins t*100//1400000 = 0, 4, 35; channels 0, 699, 3 -> 0, 139, 0
    assert x[0, 0, 0] == 1 and x[0, 4, 139] == 1 and x[0, 35, 0] == 1 and x[0].sum() == 3
    # sample 3: t = 250000, 250000, 1000000 -> bins 17, 17, 71; channels 5, 6, 7 -> group 1
    assert x[3, 17, 1] == 2 and x[3, 71, 1] == 1 and x[3].sum() == 3
    assert x[2].sum() == 0
    assert info["n_inputs"] == 140 and info["n_bins"] == 100 and info["bin_us"] == 14000
    assert info["events_per_sample"] == {"mean": 1.75, "min": 0, "max": 3}   # (3+1+0+3)/4
    assert info["classes"][0] == "key-0" and info["cache"]["status"] == "miss"


def test_cache_hit_miss_and_invalidation(tmp_path):
    d, c = write_shd_pair(tmp_path / "d"), tmp_path / "c"
    x1, y1, i1 = load_split("shd", "train", d, progress=False, cache_dir=c)
    x2, y2, i2 = load_split("shd", "train", d, progress=False, cache_dir=c)
    assert i2["cache"]["status"] == "hit" and i2["cache"]["path"] == i1["cache"]["path"]
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert i2["events_per_sample"] == i1["events_per_sample"]
    assert len(cache_files(c)) == 1
    # another binning of the same files: a second entry, the first is kept
    _, _, i3 = load_split("shd", "train", d, BinningConfig(n_bins=7, channels=700), progress=False,
                          cache_dir=c)
    assert i3["cache"]["status"] == "miss" and len(cache_files(c)) == 2
    # a limit is part of the key
    x4, _, i4 = load_split("shd", "train", d, limit=2, progress=False, cache_dir=c)
    assert x4.shape[0] == 2 and i4["cache"]["status"] == "miss"
    # a source file with a new mtime: miss; the entries of the old file version are removed
    src = d / "shd_train.h5"
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    _, _, i5 = load_split("shd", "train", d, progress=False, cache_dir=c)
    assert i5["cache"]["status"] == "miss" and cache_files(c) == [Path(i5["cache"]["path"]).name]


def _bad_shd(d):
    write_shd(d / "shd_train.h5", [[0.0], [0.5, 0.25]], [[1], [2, 3]], [0, 1])  # sample 1 decreases


def _bad_nmnist(d):
    write_nmnist(d)
    (d / "Train" / "7" / "b.bin").write_bytes(b"\0" * 7)                      # 7 bytes


def _bad_gesture(d):
    write_gesture_release(d)
    aedat = d / "user01_fluorescent.aedat"
    aedat.write_bytes(aedat.read_bytes()[:-3])                                 # truncated block


@pytest.mark.parametrize("name, make, match", [
    ("shd", _bad_shd, r"shd_train.h5: sample 1: timestamps decrease"),
    ("nmnist", _bad_nmnist, r"b.bin: sample 1: wrong record size: 7 bytes"),
    ("dvs-gesture", _bad_gesture, r"user01_fluorescent.aedat: corrupt AEDAT block header"),
])
def test_bad_source_leaves_no_cache_entry(tmp_path, name, make, match):
    d, c = tmp_path / "d", tmp_path / "c"
    d.mkdir()
    make(d)
    with pytest.raises(UserError, match=match):
        load_split(name, "train", d, progress=False, cache_dir=c)
    assert cache_files(c) == []   # not even a temporary file


def test_corrupt_cache_entry_is_rewritten(tmp_path):
    d, c = write_shd_pair(tmp_path / "d"), tmp_path / "c"
    _, _, info = load_split("shd", "test", d, progress=False, cache_dir=c)
    Path(info["cache"]["path"]).write_bytes(b"garbage")
    x, _, info = load_split("shd", "test", d, progress=False, cache_dir=c)
    assert info["cache"]["status"] == "miss" and x.shape == (2, 100, 140)
    with h5py.File(info["cache"]["path"], "r") as f:
        assert f["x"].shape == (2, 100, 140)


def test_cache_off_and_default_location(tmp_path, monkeypatch):
    d = write_shd_pair(tmp_path / "d")
    _, _, info = load_split("shd", "test", d, progress=False, use_cache=False)
    assert info["cache"] == {"status": "off", "path": None}
    _, _, info = load_split("shd", "test", d, progress=False)   # $SURNN_NEURO_CACHE (conftest)
    assert Path(info["cache"]["path"]).parent == Path(os.environ["SURNN_NEURO_CACHE"])


def test_dvs_gesture_and_nmnist_defaults_by_hand(tmp_path):
    write_gesture_release(tmp_path / "g")
    x, y, info = load_split("dvs-gesture", "train", tmp_path / "g", progress=False)
    # 40 bins over 2 s, factor 4 -> 32×32×2, v = p*1024 + (y//4)*32 + x//4
    # sample 0: (t=100, x=10, y=20, ON) -> bin 0, v = 1024 + 5*32 + 2 = 1186;
    #           (t=1100, x=0, y=127, OFF) -> bin 0, v = 31*32 + 0 = 992
    assert x.shape == (2, 40, 2048) and y.tolist() == [2, 10]
    assert x[0, 0, 1186] == 1 and x[0, 0, 992] == 1 and x[0].sum() == 2
    assert info["layout"] == "aedat"
    write_nmnist(tmp_path / "n")
    x, y, _ = load_split("nmnist", "train", tmp_path / "n", progress=False)
    # 20 bins over 300 ms (all three events in bin 0), factor 2 -> 17×17×2, v = p*289 + (y//2)*17 + x//2:
    # (1,2,ON) -> 289 + 17 + 0 = 306; (3,4,OFF) -> 34 + 1 = 35; (33,33,ON) -> 289 + 272 + 16 = 577
    assert x.shape == (2, 20, 578) and y.tolist() == [0, 7]
    assert x[0, 0, 306] == x[0, 0, 35] == x[0, 0, 577] == 1 and x[0].sum() == 3 and x[1].sum() == 0


def test_event_digits_full_splits():
    x, y, info = load_split("event-digits", "train", progress=False)
    xt, yt, it = load_split("event-digits", "test", progress=False)
    assert x.shape == (1442, 30, 288) and xt.shape == (355, 30, 288)
    assert np.bincount(yt).tolist() == [35, 36, 35, 36, 36, 36, 36, 35, 34, 36]
    assert 450 < info["events_per_sample"]["mean"] < 650
    # counts: each event in exactly one bin (none after 300 ms is lost)
    assert x.sum() == pytest.approx(info["events_per_sample"]["mean"] * 1442)
    _, _, again = load_split("event-digits", "test", progress=False)
    assert again["cache"]["status"] == "hit"


def test_task_data(tmp_path):
    d = write_shd_pair(tmp_path / "d")
    task = task_data("shd", data_dir=d, bins=10, progress=False)
    assert task.x_train.shape == (4, 10, 140) and task.x_test.shape == (2, 10, 140)
    assert task.output_size == 20 and task.readout == "mean" and task.seq_len == 10
    assert task.y_train.tolist() == SHD_LABELS
    with pytest.raises(UserError, match="--bins: n_bins must be an integer >= 1"):
        task_data("shd", data_dir=d, bins=0, progress=False)


# ------------------------------------------------------------------------------------------ check

def test_check_dataset_folders(tmp_path):
    write_shd_pair(tmp_path / "shd")
    write_gesture_npy(tmp_path / "DVSGesture")
    write_nmnist(tmp_path / "NMNIST")
    out = check(tmp_path)
    assert "SHD (Spiking Heidelberg Digits) (shd) in" in out
    # SHD train: 4 samples, labels 3, 0, 19, 7; durations 500, 0, 0, 750 ms; 7 events
    assert "train                4 samples  4/20 classes  duration ms mean 312.5 (min 0.0, max 750.0)" in out
    assert "events/sample mean 1.8 (min 0, max 3)" in out
    # rate = 7 events / 1.25 s
    assert "rate 6 ev/s" in out
    assert "DVS128 Gesture (dvs-gesture) in" in out and "[npy layout]" in out
    assert "N-MNIST (nmnist) in" in out and "2/10 classes" in out


def test_check_single_files_and_missing_split(tmp_path):
    write_shd(tmp_path / "shd_train.h5", [[0.0, 0.5]], [[1, 2]], [4])
    out = check(tmp_path)
    assert "train                1 samples" in out and "test           missing" in out
    assert "SHD (Spiking Heidelberg Digits) file" in check(tmp_path / "shd_train.h5")
    write_gesture_release(tmp_path / "g")
    out = check(tmp_path / "g" / "user01_fluorescent.aedat")
    assert "5 valid polarity events" in out and "gestures" in out and "2 samples" in out
    write_nmnist(tmp_path / "n")
    assert "3 events, duration 8.1 ms" in check(tmp_path / "n" / "Train" / "0" / "a.bin")
    write_gesture_npy(tmp_path / "t")
    assert "3 events, duration 3.0 ms" in check(tmp_path / "t" / "ibmGestureTrain" / "user01_led" / "0.npy")


def test_check_errors(tmp_path):
    with pytest.raises(UserError, match="no such file or folder"):
        check(tmp_path / "nope")
    with pytest.raises(UserError, match=r"no event dataset recognised; looked for SHD \(shd_train.h5"):
        check(tmp_path)
    (tmp_path / "shd_test.h5.zip").write_bytes(b"")
    with pytest.raises(UserError, match="unpack it first"):
        check(tmp_path)
    with pytest.raises(UserError, match="an archive; unpack it first"):
        check(tmp_path / "shd_test.h5.zip")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UserError, match="not a recognised event file"):
        check(tmp_path / "notes.txt")
    bad = tmp_path / "bad"
    bad.mkdir()
    write_shd(bad / "ssc_valid.h5", [[0.0]], [[800]], [3])
    with pytest.raises(UserError, match=r"ssc_valid.h5: sample 0: x \(column/channel\) = 800"):
        check(bad)


def test_check_event_digits_by_name():
    out = check("event-digits", limit=20)
    assert "built in" in out and "train               20 samples" in out


def test_dataset_table_pickles():
    import pickle

    assert pickle.loads(pickle.dumps(DATASETS))["shd"].default_config == DATASETS["shd"].default_config
