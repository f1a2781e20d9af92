import h5py
import numpy as np
import pytest
import tonic

from ds_formats import SHD_LABELS, SHD_TIMES, SHD_UNITS, write_shd, write_shd_pair
from surnn_neuro.datasets import shd
from surnn_neuro.errors import UserError


def read_all(data_dir, split, kind="shd"):
    es = shd.open_split(kind, data_dir, split)
    return es, list(es.samples())


def test_decodes_hand_written_samples(tmp_path):
    write_shd_pair(tmp_path)
    es, samples = read_all(tmp_path, "train")
    assert len(es) == 4 and es.sensor_size == (700, 1, 1)
    assert es.classes[:2] == ("key-0", "key-1") and es.meta["speaker"].tolist() == [1, 2, 3, 4]
    assert [s.label for s in samples] == SHD_LABELS
    # times are exact in float16: 0.0625 s = 62500 µs, 0.5 s = 500000 µs, 0.125 s = 125000 µs
    assert samples[0].events["t"].tolist() == [0, 62500, 500000]
    assert samples[0].events["x"].tolist() == [0, 699, 3]
    assert samples[1].events["t"].tolist() == [125000]
    assert samples[2].events.size == 0                      # an empty sample is allowed
    assert samples[3].events["t"].tolist() == [250000, 250000, 1000000]  # equal times are fine
    for s in samples:
        assert not s.events["y"].any() and not s.events["p"].any()
    assert samples[3].name == "shd_train.h5[3]"
    es, samples = read_all(tmp_path, "test")
    assert [s.label for s in samples] == [1, 2]


def test_limit_and_rounding(tmp_path):
    # float32 0.1 s = 0.100000001490116 s -> rounds to 100000 µs
    write_shd(tmp_path / "shd_train.h5", [[0.1, 0.2]], [[1, 2]], [0], times_dtype=np.float32)
    es, samples = read_all(tmp_path, "train")
    assert samples[0].events["t"].tolist() == [100000, 200000]
    write_shd_pair(tmp_path)
    es = shd.open_split("shd", tmp_path, "train")
    assert [s.label for s in es.samples(2)] == SHD_LABELS[:2]
    assert list(es.samples(0)) == []


def test_same_events_as_tonic(tmp_path):
    # tonic 1.7.0 loads without downloading when <root>/<file>.zip exists (facts §5.5)
    write_shd_pair(tmp_path / "SHD")
    (tmp_path / "SHD" / "shd_train.h5.zip").write_bytes(b"")
    ds = tonic.datasets.SHD(str(tmp_path), train=True)
    _, ours = read_all(tmp_path / "SHD", "train")
    for i, s in enumerate(ours):
        ev, label = ds[i]
        assert label == s.label
        np.testing.assert_array_equal(ev["t"], s.events["t"])
        np.testing.assert_array_equal(ev["x"], s.events["x"])


def test_holdout_split_is_stratified_every_tenth():
    labels = np.array([0] * 25 + [1] * 10 + [2] * 3)
    # class 0 ranks 9, 19 -> indices 9, 19; class 1 rank 9 -> index 25 + 9 = 34; class 2 none
    assert shd.holdout_indices(labels, "valid").tolist() == [9, 19, 34]
    assert len(shd.holdout_indices(labels, "train")) == 38 - 3


def test_holdout_splits_read_from_train(tmp_path):
    labels = [i % 2 for i in range(24)]
    write_shd(tmp_path / "shd_train.h5", [[0.0]] * 24, [[i] for i in range(24)], labels)
    _, valid = read_all(tmp_path, "holdout-valid")
    # class 0 sits at 0, 2, 4, ...: rank 9 -> index 18; class 1 rank 9 -> index 19
    assert [s.name for s in valid] == ["shd_train.h5[18]", "shd_train.h5[19]"]
    assert [s.events["x"][0] for s in valid] == [18, 19]
    _, train = read_all(tmp_path, "holdout-train")
    assert len(train) == 22


def test_ssc_splits(tmp_path):
    for split, label in (("train", 34), ("valid", 0), ("test", 20)):
        write_shd(tmp_path / f"ssc_{split}.h5", [[0.5]], [[3]], [label])
        _, samples = read_all(tmp_path, split, "ssc")
        assert samples[0].label == label and samples[0].events["t"].tolist() == [500000]
    with pytest.raises(UserError, match="unknown split 'holdout-valid'; known: train, valid, test"):
        shd.open_split("ssc", tmp_path, "holdout-valid")


def test_shd_has_no_valid_split(tmp_path):
    write_shd_pair(tmp_path)
    with pytest.raises(UserError, match="no official validation split; use holdout-train / holdout-valid"):
        shd.open_split("shd", tmp_path, "valid")


def test_missing_files_name_expected_files_and_url(tmp_path):
    with pytest.raises(UserError, match=r"shd_train.h5 not found in .*expected the files shd_train.h5, "
                                        r"shd_test.h5 \(published zipped at https://zenkelab.org/datasets/"):
        shd.open_split("shd", tmp_path, "train")


def test_zip_only_says_unzip(tmp_path):
    (tmp_path / "ssc_test.h5.zip").write_bytes(b"PK")
    with pytest.raises(UserError, match=r"found the archive .*ssc_test.h5.zip but not ssc_test.h5: "
                                        r"unpack it first \(cd .* && unzip ssc_test.h5.zip\)"):
        shd.open_split("ssc", tmp_path, "test")


def test_data_dir_from_environment_and_subfolder(tmp_path, monkeypatch):
    write_shd_pair(tmp_path / "shd")
    monkeypatch.setenv("SURNN_NEURO_DATA", str(tmp_path))
    assert len(shd.open_split("shd", None, "train")) == 4
    monkeypatch.delenv("SURNN_NEURO_DATA")
    with pytest.raises(UserError, match="no data directory given: pass --data-dir"):
        shd.open_split("shd", None, "train")


# ------------------------------------------------------------------------------------ malformed

def test_truncated_hdf5(tmp_path):
    path = write_shd(tmp_path / "shd_train.h5", SHD_TIMES, SHD_UNITS, SHD_LABELS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match=r"shd_train.h5: cannot open as HDF5 .*truncated or not an "
                                        r"SHD/SSC file"):
        shd.open_split("shd", tmp_path, "train")


def test_not_hdf5(tmp_path):
    (tmp_path / "shd_test.h5").write_bytes(b"hello, not hdf5")
    with pytest.raises(UserError, match="cannot open as HDF5"):
        shd.open_split("shd", tmp_path, "test")


def test_wrong_keys(tmp_path):
    with h5py.File(tmp_path / "shd_train.h5", "w") as f:
        f["spikes/times"] = np.zeros(2)
        f["targets"] = np.zeros(2)
    with pytest.raises(UserError, match=r"not an SHD/SSC file: missing spikes/units, labels \(top-level "
                                        r"keys found: spikes, targets\)"):
        shd.open_split("shd", tmp_path, "train")


def test_length_mismatch_between_datasets(tmp_path):
    path = write_shd(tmp_path / "shd_train.h5", SHD_TIMES, SHD_UNITS, SHD_LABELS)
    with h5py.File(path, "a") as f:
        del f["labels"]
        f["labels"] = np.zeros(3, np.uint8)
    with pytest.raises(UserError, match=r"spikes/times has shape \(4,\), spikes/units \(4,\) and "
                                        r"labels \(3,\)"):
        shd.open_split("shd", tmp_path, "train")


@pytest.mark.parametrize("times, units, labels, message", [
    ([[0.0, 0.5], [0.1, 0.2, 0.3]], [[1, 2], [1, 2]], [0, 1],
     r"sample 1: ragged sample: spikes/times has 3 entries but spikes/units has 2"),
    ([[0.0], [-0.5, 0.1]], [[1], [1, 2]], [0, 1],
     r"sample 1: negative timestamp -500000 us at event 0"),
    ([[0.5, 0.25]], [[1, 2]], [0],
     r"sample 0: timestamps decrease at event 1 \(500000 us, then 250000 us\)"),
    ([[0.0], [0.5, 0.5]], [[1], [3, 700]], [0, 1],
     r"sample 1: x \(column/channel\) = 700 at event 1 is outside the sensor \(valid 0..699"),
    ([[0.0], [0.5]], [[1], [3]], [0, 20], r"sample 1: label 20 out of range 0..19"),
])
def test_malformed_samples(tmp_path, times, units, labels, message):
    write_shd(tmp_path / "shd_train.h5", times, units, labels)
    with pytest.raises(UserError, match=r"shd_train.h5: " + message):
        list(shd.open_split("shd", tmp_path, "train").samples())
