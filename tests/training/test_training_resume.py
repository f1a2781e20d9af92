"""Training continued from a snapshot (training.loop.train's snapshot/resume, train_run's
snapshot_file): the epochs after the snapshot run as in one uninterrupted run, bit for bit."""

import json
from dataclasses import replace

import pytest
import torch

from surnn_neuro.training.checkpoint import load_checkpoint, load_snapshot, save_snapshot
from surnn_neuro.training.loop import TrainConfig, train
from surnn_neuro.training.runs import train_run
from surnn_neuro.training.tasks import load_task


def _tiny_digits():
    task = load_task("digits")
    return replace(task, x_train=task.x_train[:48], y_train=task.y_train[:48],
                   x_test=task.x_test[:24], y_test=task.y_test[:24])


# sugru: a learnable oscillator and the budget term; sarnn: a slope annealed per epoch (set_epoch)
# and an input-dependent gate; random: a frozen random mask drawn at build time
@pytest.mark.parametrize("model", ["sugru", "sarnn", "random"])
def test_resumed_training_reaches_the_weights_of_one_run(tmp_path, model):
    task = _tiny_digits()
    cfg = TrainConfig(task="digits", model=model, hidden=6, epochs=4, batch_size=16, seed=5, budget=1e-3)
    epochs = []

    def snapshot(state):  # the state holds the live tensors: it is written during the call
        epochs.append(state["epoch"])
        save_snapshot(tmp_path / f"resume{state['epoch']}.pt", state, {"a": 1})

    whole, hist = train(cfg, task, progress=False, snapshot=snapshot)
    assert epochs == [0, 1, 2]  # a snapshot after every epoch but the last
    # read from the file, as a restarted trial does; then the random states are scrambled, as in a
    # fresh process whose model build drew from them
    state = load_snapshot(tmp_path / "resume1.pt", {"a": 1})
    torch.manual_seed(12345)
    cont, hist2 = train(cfg, task, progress=False, resume=state)
    for (k, a), (_, b) in zip(whole.state_dict().items(), cont.state_dict().items()):
        assert torch.equal(a, b), k
    assert hist2["epochs"] == hist["epochs"]  # the two epochs before, the two after
    # a snapshot of another configuration, a damaged one, a missing one: start from the beginning
    assert load_snapshot(tmp_path / "resume1.pt", {"a": 2}) is None
    (tmp_path / "bad.pt").write_bytes(b"not a snapshot")
    assert load_snapshot(tmp_path / "bad.pt", {"a": 1}) is None
    assert load_snapshot(tmp_path / "none.pt", {"a": 1}) is None


def test_a_run_killed_mid_training_continues_to_the_same_files(tmp_path):
    task = _tiny_digits()
    cfg = TrainConfig(task="digits", model="sugru", hidden=6, epochs=4, batch_size=16, seed=2)
    train_run(cfg, tmp_path / "whole", progress=False, task=task)

    def killed_after_third_epoch(rec):  # log runs before the snapshot: the last one is epoch 2's
        if rec["epoch"] == 2:
            raise KeyboardInterrupt

    run, snap = tmp_path / "run", tmp_path / "run" / "resume.pt"
    with pytest.raises(KeyboardInterrupt):
        train_run(cfg, run, progress=False, task=task, log=killed_after_third_epoch, keep_other_files=True,
                  snapshot_file=snap)
    assert load_snapshot(snap, __import__("dataclasses").asdict(cfg))["epoch"] == 1
    assert not (run / "checkpoint.pt").exists()
    seen = []
    train_run(cfg, run, progress=False, task=task, log=seen.append, keep_other_files=True, snapshot_file=snap)
    assert [r["epoch"] for r in seen] == [2, 3]  # only the epochs after the snapshot ran
    assert not snap.exists()  # removed once the run folder is written
    a, _ = load_checkpoint(tmp_path / "whole")
    b, _ = load_checkpoint(run)
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), k
    for f in ("metrics.json", "history.json"):
        assert json.loads((run / f).read_text()) == json.loads((tmp_path / "whole" / f).read_text()), f
