"""What commands leave on disk (issue 15): a set of outputs complete or absent, the user's umask,
byte-identical artefacts for the same seed, progress bars on a terminal only, and training that
stops (saving nothing) when it diverges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surnn_neuro import fileio
from surnn_neuro.cli import main
from surnn_neuro.errors import UserError

TRAIN = ["train", "--task", "adding", "--seq-len", "10", "--model", "sugru", "--hidden", "4", "--epochs", "2",
         "--batch-size", "512", "--quiet"]


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- staging: complete or absent --------------------------------------------------------------------

def test_failed_staged_folder_leaves_the_old_one_whole_and_nothing_else(tmp_path):
    target = tmp_path / "run"
    with fileio.staged_dir(target) as stage:
        (stage / "checkpoint.pt").write_bytes(b"old checkpoint")
        (stage / "metrics.json").write_text("old metrics")
    old = _files(target)
    with pytest.raises(RuntimeError):
        with fileio.staged_dir(target) as stage:
            (stage / "checkpoint.pt").write_bytes(b"new checkpoint")
            raise RuntimeError("killed before the metrics")
    assert _files(target) == old  # never a new checkpoint beside old metrics
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left


def test_staged_folder_replaces_the_old_one_as_a_whole(tmp_path):
    target = tmp_path / "a" / "b" / "run"
    with fileio.staged_dir(target) as stage:
        (stage / "x").write_text("1")
        (stage / "y").write_text("1")
    with fileio.staged_dir(target) as stage:
        (stage / "x").write_text("2")
    assert _files(target) == {"x": b"2"}  # y belonged to the old set only
    assert sorted(p.name for p in target.parent.iterdir()) == ["run"]


def test_failure_in_a_new_folder_removes_the_folders_it_created(tmp_path):
    with pytest.raises(OSError):
        with fileio.staged_dir(tmp_path / "new" / "deeper" / "run"):
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []  # no empty folders


def test_staged_files_appear_together_or_not_at_all(tmp_path):
    a, b = tmp_path / "g.h5", tmp_path / "sub" / "g.nir"
    a.write_text("old graph")
    with pytest.raises(ValueError):
        with fileio.staged_files([a, b]) as (sa, sb):
            sa.write_text("new graph")
            raise ValueError("the NIR writer failed")
    assert a.read_text() == "old graph" and not b.exists() and not (tmp_path / "sub").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.h5"]
    with fileio.staged_files([a, b]) as (sa, sb):
        sa.write_text("new graph")
        sb.write_text("nir")
    assert a.read_text() == "new graph" and b.read_text() == "nir"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["g.h5", "g.nir", "sub"]


def test_staging_left_by_a_killed_process_is_removed_by_the_next(tmp_path):
    # a staging folder named after a PID that no longer runs (a child that has exited)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".run.staging-{dead.pid}-abc123"
    stale.mkdir()
    (stale / "checkpoint.pt").write_text("half")
    alive = tmp_path / f".run.staging-{os.getpid()}-def456"  # ours, still running: kept
    alive.mkdir()
    with fileio.staged_dir(tmp_path / "run") as stage:
        (stage / "x").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run", alive.name])


def test_killed_training_leaves_the_previous_run_whole(tmp_path):
    # a real SIGKILL in the middle of training (epochs without end, on a run folder that already
    # holds a complete run): the old files stay byte for byte, nothing else appears
    out = tmp_path / "run"
    assert main(TRAIN + ["--out", str(out)]) == 0
    before = _files(out)
    p = subprocess.Popen([sys.executable, "-m", "surnn_neuro.cli", *TRAIN[:-5], "--epochs", "100000",
                          "--batch-size", "32", "--out", str(out)], stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # imports, task, first steps
    assert p.poll() is None, p.stderr.read()
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert _files(out) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["run"]



def test_terminated_job_removes_its_staging_folder_and_exits_143(tmp_path):
    # SIGTERM (kill, timeout, a batch scheduler) takes Ctrl-C's path: the main job, which works in a
    # staging folder beside --out from its start, removes it; one line, status 143 = 128 + SIGTERM
    # (15), no traceback, and no demo folder (there was none before)
    p = subprocess.Popen([sys.executable, "-m", "surnn_neuro.cli", "run", "--quick", "--epochs", "100000",
                          "--stages", "train", "--out", "demo"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline and \
            not any(x.name.startswith(".demo.staging-") for x in tmp_path.iterdir()):
        time.sleep(0.1)
    time.sleep(2.0)  # into the training
    assert p.poll() is None, p.stderr.read()
    assert [x.name for x in tmp_path.iterdir() if x.name.startswith(".demo.staging-")], "no staging folder"
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=60)[1]
    assert p.returncode == 143, err
    assert err.strip().splitlines()[-1] == "surnn-neuro: terminated" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_convert_with_a_bad_second_output_writes_neither(tmp_path, capsys):
    assert main(TRAIN + ["--out", str(tmp_path / "run")]) == 0
    (tmp_path / "f").write_text("a file")
    code = main(["convert", str(tmp_path / "run"), "--out", str(tmp_path / "g.h5"), "--nir",
                 str(tmp_path / "f" / "g.nir")])
    assert code == 2 and "is a file, not a folder" in capsys.readouterr().err
    assert not (tmp_path / "g.h5").exists()


# -- modes, determinism, progress -------------------------------------------------------------------

def test_files_get_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert main(TRAIN + ["--out", str(tmp_path / "run")]) == 0
        assert main(["convert", str(tmp_path / "run"), "--out", str(tmp_path / "g" / "g.h5")]) == 0
    finally:
        os.umask(old)
    # umask 027: files 0666 & ~027 = 0640, folders 0777 & ~027 = 0750 (tempfile's would be 0600 / 0700)
    for f in ("run/checkpoint.pt", "run/metrics.json", "run/history.json", "run/timings.json", "g/g.h5"):
        assert (tmp_path / f).stat().st_mode & 0o777 == 0o640, f
    for d in ("run", "g"):
        assert (tmp_path / d).stat().st_mode & 0o777 == 0o750, d


def test_same_seed_gives_byte_identical_artefacts(tmp_path):
    for name in ("a", "b"):
        d = tmp_path / name
        assert main(TRAIN + ["--out", str(d / "run")]) == 0
        assert main(["convert", str(d / "run"), "--out", str(d / "g.h5")]) == 0
        assert main(["simulate", str(d / "g.h5"), "--task", "adding", "--seq-len", "10", "--limit", "8",
                     "--out", str(d / "t.h5")]) == 0
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == ["g.h5", "run/checkpoint.pt", "run/history.json", "run/metrics.json", "run/timings.json",
                         "t.h5"]
    assert {k for k in a if a[k] != b[k]} <= {"run/timings.json"}  # only the wall-clock seconds differ
    assert "train_seconds" not in json.loads(a["run/metrics.json"]) and "train_seconds" in json.loads(
        a["run/timings.json"])


def test_off_a_terminal_training_logs_one_line_per_epoch(tmp_path, capsys):
    # capsys' stderr is not a terminal: no bar redraws, one plain line per epoch
    assert main(TRAIN[:-1] + ["--epochs", "3", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.strip().splitlines()
    assert [line.split(": ", 1)[1].split("  ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all(line.startswith("train sugru on adding: ") for line in lines)


def test_diverged_training_stops_with_one_line_and_saves_nothing(tmp_path, capsys, monkeypatch):
    # fault injection: the loss of the third step is NaN (as --lr inf produced before it was refused)
    import surnn_neuro.training.loop as loop

    calls = {"n": 0}
    real = loop.task_loss

    def loss(task, out, y):
        calls["n"] += 1
        value = real(task, out, y)
        return value * float("nan") if calls["n"] == 3 else value

    monkeypatch.setattr(loop, "task_loss", loss)
    code = main(TRAIN[:-3] + ["--batch-size", "4096", "--epochs", "5", "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    # 10000 training samples / 4096 per step = 3 steps per epoch: the NaN is epoch 1, step 3
    assert code == 2 and err.count("\n") == 1
    assert "training diverged: the loss became nan at epoch 1, step 3; nothing was saved" in err
    assert list(tmp_path.iterdir()) == []


def test_diverged_weights_are_caught_at_the_end_of_the_epoch(monkeypatch):
    import torch

    import surnn_neuro.training.loop as loop
    from surnn_neuro.training.tasks import load_task

    task = load_task("adding", seq_len=10)
    real_step = torch.optim.Adam.step

    def poisoned(self, *a, **k):  # the update itself overflows (a finite loss and gradient)
        out = real_step(self, *a, **k)
        with torch.no_grad():
            self.param_groups[0]["params"][0].fill_(float("inf"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoned)
    cfg = loop.TrainConfig(task="adding", model="gru", hidden=4, epochs=2, batch_size=10000, seq_len=10)
    with pytest.raises(UserError, match=r"the weight \S+ became inf at epoch 1, step 1"):
        loop.train(cfg, task, progress=False)


@pytest.mark.lava
def test_deployment_is_byte_identical_complete_and_replaced_whole(tmp_path, capsys):
    assert main(TRAIN + ["--out", str(tmp_path / "run")]) == 0
    assert main(["convert", str(tmp_path / "run"), "--out", str(tmp_path / "g.h5")]) == 0
    # two runs of the command (Lava numbers its processes per interpreter, so two deployments in
    # one process would differ in those numbers)
    for name in ("a", "b"):
        r = subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "deploy", str(tmp_path / "g.h5"), "--out",
                            str(tmp_path / name)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == ["network.pickle", "summary.json", "summary.md"] and a == b
    # deploying again into a: the folder is swapped whole; a file of an old set would not survive
    (tmp_path / "a" / "summary.md").unlink()
    assert main(["deploy", str(tmp_path / "g.h5"), "--out", str(tmp_path / "a"), "--float"]) == 0
    assert sorted(_files(tmp_path / "a")) == sorted(a)
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["select_tag"] == "floating_pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "g.h5", "run"]


def test_a_folder_with_hidden_files_of_its_own_is_not_replaced(tmp_path, capsys):
    # .git (or any file not the command's) would be deleted with the old folder: refused; the
    # temporary file a killed writer left (.checkpoint.pt.XXXX) is the command's own
    run = tmp_path / "run"
    run.mkdir()
    (run / ".checkpoint.pt.abc123").write_bytes(b"half")
    assert main(TRAIN + ["--out", str(run)]) == 0
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "history.json", "metrics.json", "timings.json"]
    (run / ".git").mkdir()
    assert main(TRAIN + ["--out", str(run)]) == 2
    assert "holds other files (.git)" in capsys.readouterr().err
    assert (run / ".git").is_dir()


def test_main_job_folder_is_complete_or_as_it_was(tmp_path, capsys, monkeypatch):
    from surnn_neuro import pipeline

    out = tmp_path / "demo"
    assert main(["run", "--quick", "--stages", "train", "--epochs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert ".staging" not in printed and f"wrote {out}/summary.json" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train"]["digits"]["sugru"]["run_dir"] == str(out / "runs" / "digits-sugru")
    assert "seconds" not in json.dumps(summary)  # wall-clock seconds live in timings.json
    assert set(json.loads((out / "timings.json").read_text())["train"]) == {"digits", "seconds"}
    before = _files(out)

    def broken(ctx):  # the second stage of the next invocation fails after the first succeeded
        raise RuntimeError("stage failed")

    monkeypatch.setitem(pipeline.STAGES, "spikes", broken)
    assert main(["run", "--quick", "--stages", "train,spikes", "--epochs", "1", "--seed", "1", "--out", str(out)]) == 1
    assert "while running stage spikes of the main job: RuntimeError: stage failed" in capsys.readouterr().err
    assert _files(out) == before  # the new train results were discarded with the failed job
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_a_linked_run_folder_is_replaced_behind_its_link(tmp_path):
    real = tmp_path / "real"
    with fileio.staged_dir(real) as stage:
        (stage / "x").write_text("1")
    (tmp_path / "link").symlink_to(real)
    with fileio.staged_dir(tmp_path / "link") as stage:
        (stage / "x").write_text("2")
    assert (tmp_path / "link").is_symlink() and (real / "x").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_a_caller_can_keep_its_own_files_beside_a_run(tmp_path):
    from surnn_neuro.training.loop import TrainConfig
    from surnn_neuro.training.runs import train_run

    run = tmp_path / "run"
    run.mkdir()
    (run / "train.log").write_text("a sweep's log\n")
    cfg = TrainConfig(task="adding", model="gru", hidden=4, epochs=1, batch_size=512, seq_len=10)
    with pytest.raises(UserError, match=r"holds other files \(train.log\)"):
        train_run(cfg, run, progress=False)
    train_run(cfg, run, progress=False, keep_other_files=True)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "history.json", "metrics.json",
                                                     "timings.json", "train.log"]
    assert (run / "train.log").read_text() == "a sweep's log\n"
