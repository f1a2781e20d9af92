"""TaskData (numpy in the data layer), the registry of specs, and the torch view of training."""

from dataclasses import replace

import numpy as np
import pytest

from surnn_neuro.datasets import (DATASETS, TASKS, DatasetSpec, TaskData, known_tasks,
                                  load_task_arrays)
from surnn_neuro.datasets import (arrays, digits, dvs_gesture, event_digits, mnist, nmnist, shd,
                                  synthetic)
from surnn_neuro.errors import UserError


def _task(**kw):
    x = np.zeros((4, 3, 2), np.float32)
    args = dict(name="t", kind="classification", x_train=x, y_train=np.array([0, 1, 2, 0]),
                x_test=x[:2], y_test=np.array([1, 1]), output_size=3, readout="last",
                metric="accuracy", info={})
    args.update(kw)
    return TaskData(**args)


def test_task_data_validates():
    t = _task()
    assert (t.input_size, t.seq_len) == (2, 3)
    with pytest.raises(ValueError, match="unknown task kind 'clasification'; known: classification"):
        _task(kind="clasification")
    with pytest.raises(ValueError, match="unknown readout 'first'"):
        _task(readout="first")
    with pytest.raises(ValueError, match="metric 'mse' does not fit a classification task"):
        _task(metric="mse")
    with pytest.raises(ValueError, match="x_train must be a .N, T, V. float32 array, got float64"):
        _task(x_train=np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="y_test of a classification task must be a 1-D int64"):
        _task(y_test=np.array([1.0, 1.0], np.float32))
    with pytest.raises(ValueError, match="x_train has 4 samples but y_train has 3"):
        _task(y_train=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"y_train: labels 0\.\.3 outside 0\.\.2"):
        _task(y_train=np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"train inputs are \(T, V\) = \(3, 2\) but test"):
        _task(x_test=np.zeros((2, 5, 2), np.float32))
    # replace() validates too, as the pipeline subsets tasks with it
    with pytest.raises(ValueError, match="x_train has 2 samples"):
        replace(t, x_train=t.x_train[:2])


def test_every_module_declares_its_spec():
    assert list(DATASETS) == ["shd", "ssc", "dvs-gesture", "nmnist", "event-digits"]
    assert [s.name for m in (shd, dvs_gesture, nmnist, event_digits) for s in m.SPECS] == list(DATASETS)
    assert DATASETS["shd"] is shd.SHD_SPEC and DATASETS["nmnist"] is nmnist.SPEC
    assert [s.name for m in (synthetic, digits, mnist, arrays) for s in m.TASKS] == list(TASKS)
    assert known_tasks() == tuple(TASKS) + tuple(DATASETS)
    with pytest.raises(ValueError, match="train_split 'training' is not one of its splits"):
        replace(nmnist.SPEC, train_split="training")
    with pytest.raises(ValueError, match="unknown kind 'radar'"):
        replace(nmnist.SPEC, kind="radar")
    assert isinstance(nmnist.SPEC, DatasetSpec)


def test_loaders_return_numpy_and_training_returns_the_same_bytes_as_torch():
    import torch

    from surnn_neuro.training.tasks import as_torch, load_task

    a = load_task_arrays("copy", seq_len=25, n_train=12, n_test=4)
    assert isinstance(a.x_train, np.ndarray) and a.x_train.dtype == np.float32
    assert a.y_train.dtype == np.int64 and a.y_train.shape == (12, 10)
    t = load_task("copy", seq_len=25, n_train=12, n_test=4)
    for f in ("x_train", "y_train", "x_test", "y_test"):
        assert isinstance(getattr(t, f), torch.Tensor)
        np.testing.assert_array_equal(getattr(t, f).numpy(), getattr(a, f))
        assert getattr(t, f).numpy().dtype == getattr(a, f).dtype
    # as_torch shares memory (no copy) and is idempotent
    v = as_torch(a)
    assert np.shares_memory(v.x_train.numpy(), a.x_train) and as_torch(v).x_train is v.x_train
    with pytest.raises(UserError, match="--seq-len: task digits has a fixed length"):
        load_task_arrays("digits", seq_len=10)


def test_read_only_arrays_become_tensors_without_warning(recwarn):
    from surnn_neuro.training.tasks import as_torch

    t = _task()
    t.x_train.setflags(write=False)
    v = as_torch(t)
    assert v.x_train.shape == (4, 3, 2) and not [w for w in recwarn if "writable" in str(w.message)]
