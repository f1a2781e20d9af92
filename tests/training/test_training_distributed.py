"""Data-parallel training (torch.distributed, gloo): two processes = one process, same global batch."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp

from surnn_neuro.errors import UserError
from surnn_neuro.training.distributed import DistContext, init_distributed
from surnn_neuro.training.loop import TrainConfig
from surnn_neuro.training.runs import train_run
from surnn_neuro.training.tasks import load_task

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-5  # float32 summation order differs between one process and two shards


def _small_adding(n_train=11, n_test=6):
    task = load_task("adding", seq_len=6)
    return replace(task, x_train=task.x_train[:n_train], y_train=task.y_train[:n_train],
                   x_test=task.x_test[:n_test], y_test=task.y_test[:n_test])


def _worker(rank, world, init_file, cfg, task, base):
    tdist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        # a different folder per rank: a write by rank 1 would show up as its own folder
        train_run(cfg, Path(base) / f"rank{rank}", progress=False, task=task, distributed=True)
    finally:
        tdist.destroy_process_group()


def _weights(run_dir):
    return torch.load(Path(run_dir) / "checkpoint.pt", weights_only=True)["state_dict"]


def _max_diff(a, b):
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def test_two_gloo_processes_match_one_process(tmp_path):
    # 11 samples, global batch 5: batches of 5, 5, 1 -> shards 3/2, 3/2 and 1/0 (rank 1 empty), so a
    # mean of per-rank means would weight the shards wrongly and the empty rank would break DDP.
    # sarnn: per-sample coordinator gates, so the budget term differs sample by sample.
    task = _small_adding()
    cfg = TrainConfig(task="adding", model="sarnn", hidden=6, epochs=3, batch_size=5, lr=1e-2,
                      budget=0.05, seq_len=6, seed=3, device="cpu")
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), cfg, task, str(tmp_path / "dist")), nprocs=2)
    one = train_run(cfg, tmp_path / "one", progress=False, task=task)
    assert (tmp_path / "dist" / "rank0" / "checkpoint.pt").is_file()
    assert not (tmp_path / "dist" / "rank1").exists()  # rank 1 wrote nothing
    d = _max_diff(_weights(tmp_path / "dist" / "rank0"), _weights(tmp_path / "one"))
    assert d < TOL
    h_dist = json.loads((tmp_path / "dist" / "rank0" / "history.json").read_text())
    h_one = json.loads((tmp_path / "one" / "history.json").read_text())
    assert h_dist["world_size"] == 2 and h_one["world_size"] == 1
    for a, b in zip(h_dist["epochs"], h_one["epochs"]):  # loss and update rate of the global batch
        for k in ("loss", "task_loss", "update_rate"):
            assert abs(a[k] - b[k]) < 1e-5
    m_dist = json.loads((tmp_path / "dist" / "rank0" / "metrics.json").read_text())
    assert abs(m_dist["mse"] - one["mse"]) < 1e-5 and m_dist["world_size"] == 2
    assert abs(m_dist["update_rate"] - one["update_rate"]) < 1e-6
    # the tolerance is meaningful: another global batch (6 -> batches 6, 5) lands elsewhere
    train_run(replace(cfg, batch_size=6), tmp_path / "b6", progress=False, task=task)
    assert _max_diff(_weights(tmp_path / "b6"), _weights(tmp_path / "one")) > 100 * TOL


def test_torchrun_cli_matches_one_process(tmp_path):
    # digits: 1437 training samples, global batch 359 -> 4 batches of 359 (shards 180/179) and a last
    # batch of 1 (shards 1/0). The real command under torchrun (env:// rendezvous on localhost).
    args = ["train", "--task", "digits", "--model", "sugru", "--hidden", "8", "--epochs", "2",
            "--batch-size", "359", "--budget", "0.01", "--seed", "1", "--device", "cpu", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", "-m", "surnn_neuro.cli", *args, "--distributed",
                           "--out", str(tmp_path / "dist")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("wrote ") == 1  # rank 0 reports once
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["checkpoint.pt", "history.json",
                                                                     "metrics.json", "timings.json"]
    cfg = TrainConfig(task="digits", model="sugru", hidden=8, epochs=2, batch_size=359, budget=0.01,
                      seed=1, device="cpu")
    one = train_run(cfg, tmp_path / "one", progress=False)
    assert _max_diff(_weights(tmp_path / "dist"), _weights(tmp_path / "one")) < TOL
    m = json.loads((tmp_path / "dist" / "metrics.json").read_text())
    assert m["accuracy"] == pytest.approx(one["accuracy"], abs=1 / 360 + 1e-9)  # at most one flip
    assert m["update_rate"] == pytest.approx(one["update_rate"], abs=1e-6)
    assert m["flops_per_sequence"] == pytest.approx(one["flops_per_sequence"], rel=1e-6)


def test_shards_cover_the_batch_once():
    # tensor_split: sizes ceil/floor of b/W, contiguous, in order, nothing padded or repeated
    for b in (1, 2, 5, 7):
        for world in (2, 3):
            parts = [DistContext(r, world, r, "gloo", torch.device("cpu")).shard(torch.arange(b))
                     for r in range(world)]
            assert torch.equal(torch.cat(parts), torch.arange(b))
            assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_distributed_outside_torchrun_is_one_line(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(UserError, match="torchrun"):
        init_distributed("cpu")
