"""A real 4-trial sweep on a local Ray instance, interrupted (Ctrl-C) and resumed.

One module-scoped run serves every test (Ray starts in seconds, not milliseconds): the sweep is
started as the real command in its own process group, killed (SIGTERM) once its first trial
has written result.json, and then continued with ``--resume``.
"""

import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from surnn_neuro.cli import main
from surnn_neuro.sweep.pareto import mark_fronts

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["loihi1_table2", "cmos45_fp32"]
CONFIG = f"""
[sweep]
name = "four"
search = "grid"
sim_samples = 16
profile = "loihi1_table2"
profiles = {json.dumps(PROFILES)}
max_concurrent = 1        # one trial at a time: the interrupt lands between trials

[ray]
num_cpus = 2

[train]
task = "digits"
model = "sugru"
hidden = 8
epochs = 3
batch_size = 64
lr = 5e-3

[space]
budget = [0.0, 0.05]
"options.duty" = [0.15, 0.4]
"""


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _wait_group_gone(pgid: int, seconds=20.0) -> bool:
    end = time.time() + seconds
    while time.time() < end:
        if not _group_alive(pgid):
            return True
        time.sleep(0.2)
    return False


#: the command with this checkout first on sys.path but not on PYTHONPATH: Ray's workers can then
#: import it only through the runtime environment the sweep gives them
VIA_SYS_PATH = ("import sys; sys.path.insert(0, sys.argv.pop(1)); from surnn_neuro.cli import main; "
                "sys.exit(main(sys.argv[1:]))")


def _sweep(args, out_log: Path, interrupt_after=None, timeout=240, no_pythonpath=False):
    """Run ``surnn-neuro sweep ...`` in a new process group; SIGTERM once ``interrupt_after()`` is true."""
    if no_pythonpath:
        cmd = [sys.executable, "-c", VIA_SYS_PATH, str(ROOT), "sweep", *args]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    else:
        cmd, env = [sys.executable, "-m", "surnn_neuro.cli", "sweep", *args], _env()
    with open(out_log, "w") as log:
        p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        state = None
        try:
            if interrupt_after is not None:
                end = time.time() + timeout
                while p.poll() is None and time.time() < end:
                    state = interrupt_after()
                    if state is not None:
                        p.send_signal(signal.SIGTERM)  # what `kill` sends; Ctrl-C (SIGINT) takes the same path
                        break
                    time.sleep(0.1)
            rc = p.wait(timeout=timeout)
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)  # our own process group only
            raise
    return rc, out_log.read_text(), p.pid, state


def _mtimes(out: Path) -> dict:
    return {d.name: (d / "checkpoint.pt").stat().st_mtime_ns for d in (out / "runs").iterdir()
            if (d / "result.json").is_file()}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    cfg = base / "four.toml"
    cfg.write_text(textwrap.dedent(CONFIG))
    out = base / "out"

    def first_result_written():
        done = list((out / "runs").glob("*/result.json")) if (out / "runs").exists() else []
        return _mtimes(out) if done else None

    rc1, log1, pid1, before = _sweep([str(cfg), "--out", str(out), "--quiet"], base / "first.log",
                                     interrupt_after=first_result_written)
    gone1 = _wait_group_gone(pid1)
    after_first = _mtimes(out)
    rc2, log2, pid2, _ = _sweep([str(cfg), "--out", str(out), "--resume", "--quiet"], base / "second.log")
    gone2 = _wait_group_gone(pid2)
    return {"cfg": cfg, "out": out, "rc": (rc1, rc2), "log": (log1, log2), "gone": (gone1, gone2),
            "before_interrupt": before, "after_first": after_first, "after_resume": _mtimes(out)}


def test_interrupted_sweep_resumes_and_runs_only_the_missing_trials(sweep):
    (rc1, rc2), (log1, log2) = sweep["rc"], sweep["log"]
    assert rc1 == 130, log1[-3000:]
    assert "sweep interrupted" in log1 and "--resume" in log1
    first = sweep["after_first"]
    assert 1 <= len(first) < 4  # some trials finished before the interrupt took effect, not all
    assert rc2 == 0, log2[-3000:]
    assert "resuming: Ray Tune state" in log2
    final = sweep["after_resume"]
    assert len(final) == 4
    # finished runs were not trained again (their checkpoints are untouched); the others were
    assert all(final[k] == first[k] for k in first)
    trained_again = [k for k in final if k not in first]
    assert len(trained_again) == 4 - len(first)
    # the resumed session reports a line per trial it ran; it retrained only the missing ones
    done_lines = [ln for ln in log2.splitlines() if ln.startswith("done ")]
    assert len([ln for ln in done_lines if "(reused)" not in ln]) == len(trained_again)
    # no Ray process outlived either command (each ran in its own process group)
    assert sweep["gone"] == (True, True)


def test_sweep_yields_a_pareto_table(sweep):
    out = sweep["out"]
    table = json.loads((out / "results.json").read_text())
    rows = table["rows"]
    assert len(rows) == 4 and {r["status"] for r in rows} == {"done"}
    assert table["metric"] == "accuracy" and table["objective"] == ["accuracy", "energy_pJ_loihi1_table2"]
    # the fronts in the file are the non-dominated rows, recomputed here from the rows' own numbers
    again = [dict(r) for r in rows]
    fronts = mark_fronts(again, "accuracy", PROFILES)
    assert table["fronts"]["digits"] == {n: [rows[i]["key"] for i in idx] for n, idx in fronts["digits"].items()}
    assert [r["on_front"] for r in rows] == [r["pareto_loihi1_table2"] for r in again]
    assert any(r["on_front"] for r in rows)
    with open(out / "results.csv") as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["key"] for r in csv_rows] == [r["key"] for r in rows]
    assert [r["on_front"] == "True" for r in csv_rows] == [r["on_front"] for r in rows]
    for r in rows:  # each row: trained, converted, simulated, estimated on every profile
        d = out / r["run_dir"]
        assert {"checkpoint.pt", "metrics.json", "graph.h5", "trace.h5", "result.json", "train.log"} <= {
            p.name for p in d.iterdir()}
        assert all(r[f"energy_pJ_{p}"] > 0 for p in PROFILES) and r["synaptic_ops"] > 0
        assert r["sim_samples"] == 16 and r["epochs_run"] == 3
        lines = (d / "train.log").read_text().splitlines()  # header [, continued from ...], an epoch a line
        assert lines[0] == r["key"] and [ln.split()[1] for ln in lines if ln.startswith("epoch ")] == [
            "1/3", "2/3", "3/3"] and len(lines) in (4, 5)
    # λ = 0.05 pushes the update rate below the λ = 0 run of the same duty cycle
    rate = {(r["budget"], r["options"]["duty"]): r["update_rate"] for r in rows}
    assert rate[(0.05, 0.15)] < rate[(0.0, 0.15)] and rate[(0.05, 0.4)] < rate[(0.0, 0.4)]
    for name in PROFILES + ["synaptic_ops"]:
        png = out / f"pareto_{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", report)
    assert {f"runs/{r['key']}/" for r in rows} <= set(links)
    assert all((out / link).exists() for link in links)


def test_best_row_retrains_to_the_same_metrics(sweep, tmp_path):
    rows = json.loads((sweep["out"] / "results.json").read_text())["rows"]
    best = max(rows, key=lambda r: r["accuracy"])
    argv = shlex.split(best["command"])[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "again")
    assert main(argv + ["--quiet"]) == 0
    m = json.loads((tmp_path / "again" / "metrics.json").read_text())
    for k in ("accuracy", "update_rate", "flops_per_sequence", "params"):
        assert m[k] == best[k], k
    a = torch.load(tmp_path / "again" / "checkpoint.pt", weights_only=True)["state_dict"]
    b = torch.load(sweep["out"] / best["run_dir"] / "checkpoint.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_another_config_and_reuse_without_resume_are_one_line(sweep, tmp_path, capsys):
    out = sweep["out"]
    assert main(["sweep", str(sweep["cfg"]), "--out", str(out)]) == 2
    assert "holds a sweep already; add --resume" in capsys.readouterr().err
    changed = tmp_path / "changed.toml"
    changed.write_text(sweep["cfg"].read_text().replace("epochs = 3", "epochs = 4"))
    assert main(["sweep", str(changed), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "differs from the sweep" in err[0] and "train.epochs" in err[0]


def test_an_error_after_ray_started_shuts_ray_down(tmp_path):
    # no machine has 1000 GPUs: found only once the local Ray instance is up, then Ray must go down
    cfg = tmp_path / "gpu.toml"
    cfg.write_text("[resources]\ngpus = 1000\n[ray]\nnum_cpus = 1\n[train]\ntask = 'digits'\nmodel = 'gru'\n")
    rc, log, pid, _ = _sweep([str(cfg), "--out", str(tmp_path / "o")], tmp_path / "gpu.log")
    assert rc == 2, log[-2000:]
    assert "resources.gpus: 1000 per trial but the local Ray instance has 0 GPU(s)" in log
    assert _wait_group_gone(pid)


def test_optuna_multi_objective_with_asha(tmp_path):
    # Optuna's multi-objective TPE (accuracy vs synaptic ops) and ASHA stopping on the task loss
    cfg = tmp_path / "opt.toml"
    cfg.write_text(textwrap.dedent("""
        [sweep]
        search = "optuna"
        samples = 4
        objective = "synaptic_ops"
        profiles = ["cmos45_int8"]
        scheduler = "asha"
        grace_period = 1
        sim_samples = 8
        [ray]
        num_cpus = 2
        [train]
        task = "digits"
        hidden = 4
        epochs = 2
        batch_size = 128
        [space]
        model = ["sugru", "gru"]
        lr = { loguniform = [1e-3, 1e-2] }
        "options.duty" = [0.1, 0.3]
        """))
    # launched without PYTHONPATH: the workers find this checkout through the sweep's runtime env
    rc, log, pid, _ = _sweep([str(cfg), "--out", str(tmp_path / "o"), "--quiet"], tmp_path / "opt.log",
                             no_pythonpath=True)
    assert rc == 0, log[-3000:]
    assert _wait_group_gone(pid)
    table = json.loads((tmp_path / "o" / "results.json").read_text())
    assert table["objective"] == ["accuracy", "synaptic_ops"] and table["config"]["sweep"]["search"] == "optuna"
    rows = table["rows"]
    assert len(rows) == 4  # continuous lr: four distinct configurations
    assert {r["status"] for r in rows} <= {"done", "stopped"} and any(r["status"] == "done" for r in rows)
    front = set(table["fronts"]["digits"]["synaptic_ops"])
    for r in rows:
        assert 1e-3 <= r["lr"] <= 1e-2 and r["model"] in ("sugru", "gru")
        assert ("duty" in r["options"]) == (r["model"] == "sugru")  # the option reaches sugru only
        if r["status"] == "stopped":  # by ASHA after its first epoch: no scores, on no front
            assert r["epochs_run"] == 1 and "synaptic_ops" not in r and r["key"] not in front
    assert (tmp_path / "o" / "pareto_synaptic_ops.png").is_file()


def test_a_trial_killed_mid_training_continues_after_its_last_epoch(tmp_path):
    # one long trial; the sweep is killed once the trial has saved a few epochs (RUN_DIR/resume.pt),
    # then resumed: the trial continues after the saved epoch instead of from epoch 1, and ends with
    # the weights of the same training run outside the sweep
    cfg = tmp_path / "long.toml"
    cfg.write_text(textwrap.dedent("""
        [sweep]
        search = "grid"
        sim_samples = 8
        profile = "cmos45_int8"
        profiles = ["cmos45_int8"]
        [ray]
        num_cpus = 1
        [train]
        task = "digits"
        model = "sugru"
        hidden = 8
        epochs = 40
        batch_size = 64
        """))
    out = tmp_path / "o"

    def some_epochs_saved():
        logs = list((out / "runs").glob("*/train.log")) if (out / "runs").exists() else []
        return True if logs and logs[0].read_text().count("\nepoch ") >= 3 else None

    rc1, log1, pid1, _ = _sweep([str(cfg), "--out", str(out), "--quiet"], tmp_path / "first.log",
                                interrupt_after=some_epochs_saved)
    assert rc1 == 130, log1[-3000:]
    assert _wait_group_gone(pid1)
    (run,) = (out / "runs").iterdir()
    assert (run / "resume.pt").is_file() and not (run / "result.json").exists()
    rc2, log2, pid2, _ = _sweep([str(cfg), "--out", str(out), "--resume", "--quiet"], tmp_path / "second.log")
    assert rc2 == 0, log2[-3000:]
    assert _wait_group_gone(pid2)
    lines = (run / "train.log").read_text().splitlines()
    cont = [ln for ln in lines if ln.startswith("continued from resume.pt after epoch ")]
    assert len(cont) == 1 and int(cont[0].split()[-1]) >= 2, lines
    assert [ln.split()[1] for ln in lines if ln.startswith("epoch ")] == [f"{e}/40" for e in range(1, 41)]
    assert not (run / "resume.pt").exists()
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["status"] == "done" and row["epochs_run"] == 40
    argv = shlex.split(row["command"])[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "again")
    assert main(argv + ["--quiet"]) == 0
    a = torch.load(tmp_path / "again" / "checkpoint.pt", weights_only=True)["state_dict"]
    b = torch.load(run / "checkpoint.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
