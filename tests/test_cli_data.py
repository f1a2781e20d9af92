"""One's own data through the command: train --task arrays --data FILE, evaluate, convert, simulate."""

import json
import subprocess
import sys

import numpy as np
import pytest

from surnn_neuro.cli import main


def _own_file(path):
    """3 classes; class c raises input c during steps 2..4 (a learnable toy)."""
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, 60)
    x = rng.rand(60, 8, 3).astype(np.float32) * 0.2
    x[np.arange(60), 2:5, y] += 1.0
    np.savez(path, x=x, y=y)
    return path, y


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_evaluate_convert_simulate_on_own_file(tmp_path, capsys, monkeypatch):
    data, y = _own_file(tmp_path / "own.npz")
    # test = class ranks 4, 9, 14, ...: floor(n_c / 5) samples of each class c
    n_test = int((np.bincount(y) // 5).sum())
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "train", "--task", "arrays", "--data", "own.npz", "--model", "gru",
                          "--hidden", "6", "--epochs", "2", "--quiet", "--out", "run")
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["task"] == "arrays" and metrics["n_test"] == n_test
    # the checkpoint records the file by absolute path: evaluate from elsewhere re-reads it
    monkeypatch.chdir(tmp_path.parent)
    code, out, err = _run(capsys, "evaluate", str(tmp_path / "run"), "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["accuracy"] == metrics["accuracy"] and again["update_rate"] == metrics["update_rate"]
    code, out, err = _run(capsys, "convert", str(tmp_path / "run"), "--out", str(tmp_path / "g.h5"))
    assert code == 0, err
    code, out, err = _run(capsys, "simulate", str(tmp_path / "g.h5"), "--task", "arrays", "--data",
                          str(data), "--out", str(tmp_path / "trace.h5"))
    assert code == 0, err
    # the reference simulator scores the converted gru exactly like the torch model
    assert f"reference on arrays ({n_test} samples, T=8): accuracy = {metrics['accuracy']:.4f}" in out
    code, out, err = _run(capsys, "data", "check", str(data))
    assert code == 0 and f"{60 - n_test} samples  3/3 classes" in out and f"{n_test} samples" in out


@pytest.mark.parametrize("argv, message", [
    (["--task", "arrays", "--model", "gru"], "task arrays needs --data FILE"),
    (["--task", "arrays", "--data-dir", ".", "--model", "gru"], "pass --data FILE, not --data-dir"),
    (["--task", "digits", "--data", "x.npz", "--model", "gru"], "--data: only --task arrays reads a file"),
    (["--task", "arrays", "--data", "x.npz", "--data-dir", ".", "--model", "gru"],
     "give --data FILE or --data-dir DIR, not both"),
    (["--task", "arrays", "--data", "missing.npz", "--model", "gru"], "missing.npz: file not found"),
])
def test_train_data_errors(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "train", *argv, "--out", "r")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_bad_file_is_one_line_from_the_real_command(tmp_path):
    x = np.zeros((10, 4, 2), np.float32)
    x[3, 1, 0] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.arange(10) % 2)
    r = subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "train", "--task", "arrays", "--data",
                        str(tmp_path / "nan.npz"), "--model", "gru", "--out", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [f"surnn-neuro: error: {tmp_path / 'nan.npz'}: x holds 1 NaN or infinite "
                     f"value(s) (or values beyond float32), the first at sample 3, step 1, input 0"]
