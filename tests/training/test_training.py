"""Tasks, training runs, checkpoints."""

import gzip
import json
import struct
from dataclasses import replace

import numpy as np
import pytest
import torch

from surnn_neuro.datasets.mnist import read_idx
from surnn_neuro.errors import UserError
from surnn_neuro.training import checkpoint as ckpt_mod
from surnn_neuro.training.checkpoint import load_checkpoint
from surnn_neuro.training.loop import TrainConfig
from surnn_neuro.training.runs import evaluate_run, train_run
from surnn_neuro.training.tasks import load_task


def test_adding_task_structure_and_baseline():
    task = load_task("adding", seq_len=50)
    x, y = task.x_test.numpy(), task.y_test.numpy()
    markers = x[:, :, 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :25].sum(1) == 1) and np.all(markers[:, 25:].sum(1) == 1)
    np.testing.assert_allclose((x[:, :, 0] * markers).sum(1), y, rtol=1e-6)
    # predicting 1 scores E[(u1 + u2 − 1)^2] = Var(u1 + u2) = 2/12 ≈ 0.1667 (SA-RNN's "unsolved" level)
    assert abs(float(((y - 1.0) ** 2).mean()) - 1 / 6) < 0.02


@pytest.mark.parametrize("name", ["copy", "selective-copy"])
def test_copy_tasks_targets_are_the_input_symbols(name):
    task = load_task(name, seq_len=40)
    x, y = task.x_train[:20].numpy(), task.y_train[:20].numpy()
    tok = x.argmax(-1)
    S = y.shape[1]
    for k in range(20):
        symbols = tok[k][(tok[k] >= 1) & (tok[k] <= 8)]
        assert list(symbols) == list(y[k] + 1)  # in order, shifted to classes 0..7
        assert tok[k, 40 - S - 1] == 9  # delimiter
        assert np.all(tok[k, 40 - S:] == 0)  # the answer steps are blank


def test_digits_split_and_permutation():
    d, p = load_task("digits"), load_task("pdigits")
    assert (len(d.x_train), len(d.x_test)) == (1437, 360)
    assert d.x_train.shape[1:] == (64, 1) and d.output_size == 10
    # the permutation reorders pixels only: sorted pixel values and labels agree sample by sample
    assert torch.equal(d.x_train.sort(1).values, p.x_train.sort(1).values)
    assert torch.equal(d.y_train, p.y_train)
    assert not torch.equal(d.x_train, p.x_train)


def _write_idx(path, arr, gz=False):
    head = bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = head + arr.astype(np.uint8).tobytes()
    # closed explicitly: Python 3.12's GzipFile buffers writes, and an unclosed one may lose them
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


def _mnist_dir(tmp_path, gz=False):
    rng = np.random.RandomState(0)
    sfx = ".gz" if gz else ""
    for prefix, n in (("train", 6), ("t10k", 4)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{sfx}", rng.randint(0, 256, (n, 28, 28)), gz)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{sfx}", rng.randint(0, 10, n), gz)
    return tmp_path


@pytest.mark.parametrize("gz", [False, True])
def test_smnist_reads_idx_files(tmp_path, gz):
    _mnist_dir(tmp_path, gz)
    task = load_task("smnist", data_dir=tmp_path)
    assert task.x_train.shape == (6, 784, 1) and task.x_test.shape == (4, 784, 1)
    raw = read_idx(tmp_path / f"train-images-idx3-ubyte{'.gz' if gz else ''}")
    np.testing.assert_allclose(task.x_train[:, :, 0].numpy(), raw.reshape(6, -1) / 255.0, rtol=1e-6)
    ps = load_task("psmnist", data_dir=tmp_path)
    assert torch.equal(ps.x_train.sort(1).values, task.x_train.sort(1).values)


def test_smnist_bad_input(tmp_path):
    with pytest.raises(UserError, match="needs --data-dir"):
        load_task("smnist")
    with pytest.raises(UserError, match="missing t10k-images-idx3-ubyte"):
        _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28)))
        _write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2))
        load_task("smnist", data_dir=tmp_path)
    bad = tmp_path / "trunc"
    bad.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">III", 5, 28, 28) + b"\0" * 100)
    with pytest.raises(UserError, match="trunc: truncated"):
        read_idx(bad)
    with pytest.raises(UserError, match="unknown task 'mnist'"):
        load_task("mnist")


def _tiny_digits():
    task = load_task("digits")
    return replace(task, x_train=task.x_train[:64], y_train=task.y_train[:64],
                   x_test=task.x_test[:40], y_test=task.y_test[:40])


def test_train_run_is_deterministic_and_reloads(tmp_path):
    task = _tiny_digits()
    cfg = TrainConfig(task="digits", model="sugru", hidden=8, epochs=2, batch_size=16, seed=3)
    m1 = train_run(cfg, tmp_path / "a", progress=False, task=task)
    m2 = train_run(cfg, tmp_path / "b", progress=False, task=task)
    for key in ("accuracy", "update_rate", "flops_per_sequence", "final_train_loss"):
        assert m1[key] == m2[key], key
    on_disk = json.loads((tmp_path / "a" / "metrics.json").read_text())
    for key in ("task", "model", "metric", "accuracy", "update_rate", "skip_percent",
                "flops_per_sequence", "params", "seed"):
        assert key in on_disk
    assert on_disk["skip_percent"] == pytest.approx(100 * (1 - on_disk["update_rate"]))
    model, payload = load_checkpoint(tmp_path / "a")
    assert payload["train_config"]["seed"] == 3
    # the reloaded model reproduces the test-split gates and outputs of the trained one
    x = task.x_test.transpose(0, 1)
    out, gates = model(x)
    acc = float((out.argmax(-1) == task.y_test).float().mean())
    assert acc == pytest.approx(m1["accuracy"])


def test_flops_of_dense_gru_follow_the_definition(tmp_path):
    # dense gru, V = 1, H = 8, T = 64: every neuron updates at every step and needs
    # 3(V + H) + 3 = 30 multiplications; no gate network → 64 · 8 · 30 = 15360 per sequence
    task = _tiny_digits()
    cfg = TrainConfig(task="digits", model="gru", hidden=8, epochs=1, batch_size=32)
    m = train_run(cfg, tmp_path / "g", progress=False, task=task)
    assert m["flops_per_sequence"] == 15360
    assert m["update_rate"] == 1.0 and m["skip_percent"] == 0.0


def test_evaluate_run_matches_training_metrics(tmp_path, monkeypatch):
    import surnn_neuro.training.runs as runs

    task = _tiny_digits()
    monkeypatch.setattr(runs, "task_for", lambda cfg: task)
    cfg = TrainConfig(task="digits", model="sarnn", hidden=6, epochs=1, batch_size=16)
    m = train_run(cfg, tmp_path / "r", progress=False, task=task)
    again = evaluate_run(tmp_path / "r", device="cpu")
    assert again["accuracy"] == m["accuracy"] and again["update_rate"] == m["update_rate"]


def test_checkpoint_errors_and_atomic_write(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nothing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="corrupt or not a surnn-neuro checkpoint"):
        load_checkpoint(bad)
    other = tmp_path / "other"
    other.mkdir()
    torch.save({"weights": torch.zeros(2)}, other / "checkpoint.pt")
    with pytest.raises(UserError, match="not a surnn-neuro checkpoint"):
        load_checkpoint(other)

    # a failure in the middle of torch.save leaves no checkpoint behind
    def broken_save(obj, f):
        open(f, "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_mod.torch, "save", broken_save)
    from surnn_neuro.models import build

    with pytest.raises(OSError):
        ckpt_mod.save_checkpoint(tmp_path / "x" / "checkpoint.pt", build("gru", 1, 2, 2), {})
    assert not (tmp_path / "x" / "checkpoint.pt").exists()
    assert list((tmp_path / "x").iterdir()) == []


def test_train_config_rejects_bad_values():
    with pytest.raises(UserError, match="--model: unknown model"):
        TrainConfig(task="digits", model="lstm")
    with pytest.raises(UserError, match="--hidden: must be >= 1"):
        TrainConfig(task="digits", model="gru", hidden=0)
    with pytest.raises(UserError, match="--device"):
        TrainConfig(task="digits", model="gru", device="tpu")
