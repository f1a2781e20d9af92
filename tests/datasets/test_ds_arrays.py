"""Task ``arrays``: one's own inputs and labels from an .npz or HDF5 file."""

import h5py
import numpy as np
import pytest

from surnn_neuro.datasets import check, load_arrays, load_task_arrays
from surnn_neuro.errors import UserError


def _split(n_train=6, n_test=3, T=4, V=2, dtype=np.float32):
    rng = np.random.RandomState(0)
    return {"x_train": rng.rand(n_train, T, V).astype(dtype),
            "y_train": np.arange(n_train) % 3,
            "x_test": rng.rand(n_test, T, V).astype(dtype),
            "y_test": np.arange(n_test) % 3}


def _write(path, arrays):
    if path.suffix == ".npz":
        np.savez(path, **arrays)
    else:
        with h5py.File(path, "w") as f:
            for k, v in arrays.items():
                if v.dtype.kind == "U":  # HDF5 stores text as variable-length UTF-8
                    f.create_dataset(k, data=v.item(), dtype=h5py.string_dtype())
                else:
                    f.create_dataset(k, data=v)
    return path


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_split_layout_reads_as_given(tmp_path, suffix):
    a = _split(dtype=np.float64)
    a["y_train"] = a["y_train"].astype(np.uint8)  # any integer width
    task = load_task_arrays("arrays", data_dir=_write(tmp_path / f"d{suffix}", a))
    assert task.x_train.dtype == np.float32 and task.y_train.dtype == np.int64
    np.testing.assert_array_equal(task.x_train, a["x_train"].astype(np.float32))
    np.testing.assert_array_equal(task.y_test, a["y_test"])
    # K = largest label + 1 = 3; defaults: readout last, metric accuracy
    assert (task.output_size, task.readout, task.metric, task.seq_len, task.input_size) == \
        (3, "last", "accuracy", 4, 2)
    assert task.info["source_dtype"] == "float64"


def test_pooled_layout_splits_every_fifth_sample_of_each_class(tmp_path):
    y = np.array([0] * 6 + [1] * 5 + [2] * 4)
    x = np.arange(15 * 2, dtype=np.float32).reshape(15, 2, 1)
    task = load_arrays(_write(tmp_path / "p.npz", {"x": x, "y": y, "n_classes": np.int64(4),
                                                    "readout": np.array("mean")}))
    # class ranks 4 are test: sample 4 (class 0) and sample 10 (class 1); class 2 has only 4
    assert task.y_test.tolist() == [0, 1]
    np.testing.assert_array_equal(task.x_test[:, 0, 0], [8.0, 20.0])   # x[i, 0, 0] = 2i
    assert len(task.y_train) == 13 and task.output_size == 4 and task.readout == "mean"


def _bad(**changes):
    a = _split()
    for k, v in changes.items():
        if v is None:
            del a[k]
        else:
            a[k] = v
    return a


NAN = _split()["x_test"].copy()
NAN[2, 3, 1] = np.nan


@pytest.mark.parametrize("arrays, message", [
    (_bad(y_test=None), r"missing key y_test \(keys found: x_test, x_train, y_train\)"),
    ({"x_train": np.zeros((2, 1, 1))}, "missing key y_train, x_test, y_test"),
    ({"inputs": np.zeros(3)}, r"missing key x_train, y_train, x_test, y_test \(keys found: inputs\)"),
    (dict(_split(), x=np.zeros((2, 1, 1))), "holds both x/y and x_train"),
    (_bad(x_train=np.zeros((6, 4))), r"x_train must be \(N, T, V\) inputs, got shape \(6, 4\)"),
    (_bad(x_train=np.zeros((6, 4, 2), np.complex64)), "x_train must be numeric, got dtype complex64"),
    (_bad(x_test=NAN), "x_test holds 1 NaN or infinite value.s. .*first at sample 2, step 3, input 1"),
    (_bad(x_train=np.full((6, 4, 2), 1e39)), "x_train holds 48 NaN or infinite .* beyond float32"),
    (_bad(x_test=np.zeros((0, 4, 2), np.float32), y_test=np.zeros(0, np.int64)),
     r"x_test holds no samples \(shape \(0, 4, 2\)\)"),
    (_bad(x_train=np.zeros((6, 0, 2), np.float32)), "x_train has T = 0 steps and V = 2 inputs"),
    (_bad(y_train=np.zeros(6, np.float32)), "y_train must hold integer class labels, got dtype float32"),
    (_bad(y_train=np.zeros((6, 1), np.int64)), r"y_train must be \(N,\) labels"),
    (_bad(y_test=np.zeros(2, np.int64)), "y_test has 2 labels but the inputs have 3 samples"),
    (_bad(y_train=np.array([0, 1, -1, 0, 0, 0])), r"y_train: label -1 at sample 2 out of range >= 0"),
    (dict(_split(), n_classes=np.int64(2)), r"y_train: label 2 at sample 2 out of range 0\.\.1"),
    (dict(_split(), n_classes=np.float64(2.5)), "n_classes must be an integer >= 1, got 2.5"),
    (dict(_split(), readout=np.array("all")), "readout 'all' unknown; known: last, mean"),
    (_bad(x_test=np.zeros((3, 5, 2), np.float32)),
     r"x_train is \(T, V\) = \(4, 2\) but x_test is \(5, 2\)"),
    ({"x": np.zeros((4, 2, 1), np.float32), "y": np.arange(4)},
     "4 samples leave the every-5th test split empty"),
])
@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_bad_files_give_one_line_naming_the_file(tmp_path, arrays, message, suffix):
    path = _write(tmp_path / f"bad{suffix}", arrays)
    with pytest.raises(UserError, match=f"^{path}: {message}") as e:
        load_arrays(path)
    assert "\n" not in str(e.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(UserError, match="nothing.npz: file not found"):
        load_arrays(tmp_path / "nothing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="junk.npz: cannot read as .npz"):
        load_arrays(tmp_path / "junk.npz")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(UserError, match="junk.h5: cannot read as HDF5"):
        load_arrays(tmp_path / "junk.h5")
    np.save(tmp_path / "x.npy", np.zeros((2, 3, 1)))
    with pytest.raises(UserError, match=r"x.npy: unknown file type '.npy'; expected .npz, .h5, .hdf5"):
        load_arrays(tmp_path / "x.npy")
    with pytest.raises(UserError, match="task arrays needs --data FILE"):
        load_task_arrays("arrays")
    with pytest.raises(UserError, match="--seq-len: task arrays has a fixed length"):
        load_task_arrays("arrays", seq_len=5, data_dir=tmp_path / "x.npz")


def test_data_check_summarises_an_arrays_file(tmp_path):
    x_train = np.zeros((4, 3, 2), np.float32)
    x_train[0, 0, 0] = 2.0                      # min 0, max 2, mean 2/24, zeros 23/24 = 95.83 %
    path = _write(tmp_path / "own.h5", {"x_train": x_train, "y_train": np.array([0, 0, 1, 3]),
                                        "x_test": np.ones((2, 3, 2), np.float32),
                                        "y_test": np.array([1, 1])})
    out = check(path)
    assert f"arrays file {path}: T = 3 steps, V = 2 inputs, 4 classes, readout last" in out
    # train labels 0, 0, 1, 3: classes 0, 1, 3 of 4 present, per class 2, 1, 0, 1
    assert "train                4 samples  3/4 classes (min 0, max 2 per class)  x min 0, max 2, " \
           "mean 0.08333, zeros 95.83 %" in out
    assert "test                 2 samples  1/4 classes (min 0, max 2 per class)" in out
    # an SHD file is still read as SHD
    from ds_formats import write_shd_pair

    assert check(write_shd_pair(tmp_path / "shd") / "shd_train.h5").startswith("SHD")
