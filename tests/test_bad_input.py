"""Bad input, tried as a hostile user would (issue 15), on every subcommand.

Each case must end in exactly one line on stderr that names the option or file and the problem,
exit status 2, before any work starts, and leave the output area as it was (no file, no empty
folder). The cases run in-process through ``surnn_neuro.cli.main`` (fast: one interpreter); a
handful at the end run the real command in a subprocess to check the exit status and stderr of
the actual program, including the ones that used to crash the interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from surnn_neuro.cli import main

sys.path.insert(0, str(Path(__file__).parent / "datasets"))
from ds_formats import nmnist_record, write_shd  # noqa: E402  (the dataset format writers)

TRAIN = ["train", "--task", "adding", "--seq-len", "10", "--model", "gru", "--hidden", "4", "--epochs", "1",
         "--quiet"]


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Good and bad inputs, made once: a tiny run, its graph and trace, damaged copies of them,
    bad arrays, bad energy profiles, incomplete dataset folders."""
    d = tmp_path_factory.mktemp("made")
    assert main(TRAIN + ["--out", str(d / "run")]) == 0
    assert main(["convert", str(d / "run"), "--out", str(d / "g.h5")]) == 0
    assert main(["simulate", str(d / "g.h5"), "--task", "adding", "--seq-len", "10", "--limit", "4",
                 "--out", str(d / "t.h5")]) == 0

    payload = torch.load(d / "run" / "checkpoint.pt", weights_only=True)

    def damaged(name, change):
        p = {k: (dict(v) if isinstance(v, dict) else v) for k, v in payload.items()}
        change(p)
        (d / name).mkdir()
        torch.save(p, d / name / "checkpoint.pt")

    first = next(iter(payload["state_dict"]))
    damaged("nan_weights", lambda p: p["state_dict"].__setitem__(first, p["state_dict"][first] * float("nan")))
    damaged("version_text", lambda p: p.__setitem__("version", "abc"))
    damaged("no_train_config", lambda p: p.pop("train_config"))
    damaged("task_number", lambda p: p["train_config"].__setitem__("task", 5))
    damaged("task_unknown", lambda p: p["train_config"].__setitem__("task", "nope"))
    damaged("seed_huge", lambda p: p["train_config"].__setitem__("seed", 2 ** 40))
    damaged("hidden_huge", lambda p: p["model_config"].__setitem__("hidden_size", 10 ** 9))
    damaged("hidden_other", lambda p: p["model_config"].__setitem__("hidden_size", 5))

    # a graph whose first 2-D weight is complex (it used to be cast with a warning)
    shutil.copy(d / "g.h5", d / "complex.h5")
    with h5py.File(d / "complex.h5", "r+") as f:
        name = next(n for n, obj in _datasets(f["nodes"]) if obj.ndim == 2 and obj.dtype.kind == "f")
        w = f["nodes"][name][()]
        del f["nodes"][name]
        f["nodes"].create_dataset(name, data=w + 1j)

    v = 2  # the adding task's inputs: value and marker
    np.save(d / "x_empty.npy", np.zeros((0, 5, v)))
    np.save(d / "x_2d.npy", np.zeros((5, v)))
    np.save(d / "x_nan.npy", np.where(np.eye(5, 1, dtype=bool)[:, :, None], np.nan, 0.0) * np.ones((5, 3, v)))
    np.save(d / "x_complex.npy", np.zeros((2, 3, v), complex))
    np.save(d / "x_channels.npy", np.zeros((2, 3, v + 1)))
    np.savez(d / "x.npz", x=np.zeros((2, 3, v)))
    (d / "x_text.npy").write_text("not numpy")

    fields = 'citation="c"\ne_ac=1\ne_neuron_update_active=1\ne_neuron_update_inactive=1\ne_spike=1\n'
    (d / "huge.toml").write_text(f'name="x"\n{fields}e_mac=1{"0" * 400}\n')
    (d / "huge5000.toml").write_text(f'name="x"\n{fields}e_mac=1{"0" * 5000}\n')
    (d / "latin1.toml").write_bytes(b'name="caf\xe9"\n')
    (d / "huge.json").write_text('{"name": "x", "e_mac": 1' + "0" * 5000 + "}")
    (d / "profile.yaml").write_text("name: x")

    (d / "sweep_bad.toml").write_text('[train]\ntask = "digits"\nmodel = "gru"\n[space]\nhidden = ["x"]\n')
    (d / "sweep_ok.toml").write_text('[train]\ntask = "digits"\nmodel = "gru"\n')

    (d / "ssc").mkdir()
    write_shd(d / "ssc" / "ssc_train.h5", [[0.125]], [[3]], [1])
    write_shd(d / "ssc" / "ssc_valid.h5", [[0.125]], [[3]], [1])  # no ssc_test.h5
    (d / "nmnist" / "Train" / "0").mkdir(parents=True)
    (d / "nmnist" / "Train" / "0" / "a.bin").write_bytes(nmnist_record(1, 2, 1, 100))  # no Test/
    return d


def _datasets(group, prefix=""):
    for k, obj in group.items():
        if isinstance(obj, h5py.Dataset):
            yield prefix + k, obj
        else:
            yield from _datasets(obj, prefix + k + "/")


@pytest.fixture
def area(tmp_path):
    """The output area of one case: a file, a folder of someone else's files, an empty folder."""
    (tmp_path / "afile").write_text("a file")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    (tmp_path / "empty").mkdir()
    return tmp_path


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_mode, p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


LONG = "n" * 300  # longer than any file system's name limit (255 bytes on ext4, tmpfs, xfs)

# (argv with {d}: the made inputs, {t}: the output area) -> what the one line must say
CASES = {
    # -- train: numbers without bounds
    "threads-huge": (TRAIN + ["--threads", "100000", "--out", "{t}/r"], "--threads: must be <= "),
    "threads-zero": (TRAIN + ["--threads", "0", "--out", "{t}/r"], "--threads: must be >= 1"),
    "threads-negative": (TRAIN + ["--threads", "-3", "--out", "{t}/r"], "--threads: must be >= 1"),
    "seed-negative": (TRAIN + ["--seed", "-1", "--out", "{t}/r"], "--seed: must be >= 0"),
    "seed-2^32": (TRAIN + ["--seed", str(2 ** 32), "--out", "{t}/r"], "--seed: must be <= 4294967295"),
    "epochs-zero": (TRAIN + ["--epochs", "0", "--out", "{t}/r"], "--epochs: must be >= 1"),
    "epochs-huge": (TRAIN + ["--epochs", str(10 ** 12), "--out", "{t}/r"], "--epochs: must be <= 100000"),
    "epochs-text": (TRAIN + ["--epochs", "ten", "--out", "{t}/r"], "--epochs: expected an integer"),
    "epochs-float": (TRAIN + ["--epochs", "2.5", "--out", "{t}/r"], "--epochs: expected an integer"),
    "layers-huge": (TRAIN + ["--layers", "100000", "--out", "{t}/r"], "--layers: must be <= 64"),
    "hidden-zero": (TRAIN + ["--hidden", "0", "--out", "{t}/r"], "--hidden: must be >= 1"),
    "hidden-unallocatable": (TRAIN + ["--hidden", "60000", "--out", "{t}/r"], "needs about"),
    "batch-zero": (TRAIN + ["--batch-size", "0", "--out", "{t}/r"], "--batch-size: must be >= 1"),
    "seq-len-zero": (TRAIN + ["--seq-len", "0", "--out", "{t}/r"], "--seq-len: must be >= 1"),
    "seq-len-unallocatable": (TRAIN + ["--seq-len", "1000000", "--out", "{t}/r"], "--seq-len 1000000"),
    # -- train: non-finite training
    "lr-inf": (TRAIN + ["--lr", "inf", "--out", "{t}/r"], "--lr: expected a number in (0, 10], got inf"),
    "lr-nan": (TRAIN + ["--lr", "nan", "--out", "{t}/r"], "--lr: expected a number"),
    "lr-1e30": (TRAIN + ["--lr", "1e30", "--out", "{t}/r"], "--lr: must be <= 10"),
    "lr-zero": (TRAIN + ["--lr", "0", "--out", "{t}/r"], "--lr: must be > 0"),
    "budget-inf": (TRAIN + ["--budget", "inf", "--out", "{t}/r"], "--budget: expected a number"),
    "budget-nan": (TRAIN + ["--budget", "nan", "--out", "{t}/r"], "--budget: expected a number"),
    "budget-negative": (TRAIN + ["--budget", "-1", "--out", "{t}/r"], "--budget: must be >= 0"),
    # -- train: names and model options
    "device-tpu": (TRAIN + ["--device", "tpu", "--out", "{t}/r"], "--device: unknown device 'tpu'"),
    "task-unknown": (["train", "--task", "digitz", "--model", "gru", "--out", "{t}/r"],
                     "--task: unknown task 'digitz'"),
    "model-unknown": (["train", "--task", "adding", "--model", "grux", "--out", "{t}/r"], "--model: unknown model"),
    "option-nan": (TRAIN[:6] + ["sugru", "--option", "duty=nan", "--out", "{t}/r"], "option duty"),
    "option-layers": (TRAIN + ["--option", "layers=3", "--out", "{t}/r"], "--layers"),
    "data-for-adding": (TRAIN + ["--data", "{d}/x.npz", "--out", "{t}/r"], "--data: only --task arrays"),
    "data-dir-missing": (["train", "--task", "shd", "--model", "gru", "--data-dir", "{t}/nope", "--out", "{t}/r"],
                         "--data-dir"),
    # -- train: output paths, checked before training
    "out-under-a-file": (TRAIN + ["--out", "{t}/afile/r"], "afile is a file, not a folder"),
    "out-is-a-file": (TRAIN + ["--out", "{t}/afile"], "exists and is not a folder"),
    "out-name-too-long": (TRAIN + ["--out", "{t}/" + LONG], "bytes long"),
    "out-foreign-files": (TRAIN + ["--out", "{t}/foreign"], "holds other files (notes.txt)"),
    "out-nul-byte": (TRAIN + ["--out", "{t}/a\x00b"], "NUL byte"),
    # -- evaluate: checkpoint contents
    "evaluate-missing": (["evaluate", "{t}/nothing"], "not found"),
    "evaluate-nan-weights": (["evaluate", "{d}/nan_weights"], "non-finite weights"),
    "evaluate-version-text": (["evaluate", "{d}/version_text"], "checkpoint field 'version'"),
    "evaluate-no-train-config": (["evaluate", "{d}/no_train_config"], "'train_config' is missing"),
    "evaluate-task-number": (["evaluate", "{d}/task_number"], "'train_config.task' must be a name"),
    "evaluate-task-unknown": (["evaluate", "{d}/task_unknown"], "unknown task 'nope'"),
    "evaluate-seed-huge": (["evaluate", "{d}/seed_huge"], "'train_config.seed'"),
    "evaluate-hidden-huge": (["evaluate", "{d}/hidden_huge"], "'model_config.hidden_size'"),
    "evaluate-hidden-other": (["evaluate", "{d}/hidden_other"], "does not match its model config"),
    "evaluate-device-tpu": (["evaluate", "{d}/run", "--device", "tpu"], "--device: unknown device 'tpu'"),
    # -- convert
    "convert-nothing-to-write": (["convert", "{d}/run"], "give --out GRAPH.h5 and/or --nir"),
    "convert-nir-under-a-file": (["convert", "{d}/run", "--out", "{t}/g.h5", "--nir", "{t}/afile/g.nir"],
                                 "afile is a file, not a folder"),
    "convert-out-is-a-folder": (["convert", "{d}/run", "--out", "{t}/empty"], "is a folder; give a file name"),
    "convert-same-file-twice": (["convert", "{d}/run", "--out", "{t}/g.h5", "--nir", "{t}/g.h5"], "the same file"),
    "convert-nan-weights": (["convert", "{d}/nan_weights", "--out", "{t}/g.h5"], "non-finite weights"),
    "convert-dt-zero": (["convert", "{d}/x.nir", "--out", "{t}/g.h5", "--dt", "0"], "--dt: must be > 0"),
    "convert-dt-nan": (["convert", "{d}/x.nir", "--out", "{t}/g.h5", "--dt", "nan"], "--dt: expected a number"),
    "convert-missing-nir": (["convert", "{t}/x.nir", "--out", "{t}/g.h5"], "NIR file not found"),
    # -- simulate
    "simulate-backend": (["simulate", "{d}/g.h5", "--task", "adding", "--backend", "nope"],
                         "--backend: unknown backend 'nope'"),
    "simulate-both": (["simulate", "{d}/g.h5", "--task", "adding", "--input", "{d}/x_2d.npy"], "exactly one of"),
    "simulate-empty": (["simulate", "{d}/g.h5", "--input", "{d}/x_empty.npy"], "empty array"),
    "simulate-2d": (["simulate", "{d}/g.h5", "--input", "{d}/x_2d.npy"], "expected a (B, T, V) array"),
    "simulate-nan": (["simulate", "{d}/g.h5", "--input", "{d}/x_nan.npy"],
                     "NaN or infinite value(s), the first at sample 0"),
    "simulate-complex": (["simulate", "{d}/g.h5", "--input", "{d}/x_complex.npy"], "real-valued"),
    "simulate-channels": (["simulate", "{d}/g.h5", "--input", "{d}/x_channels.npy"], "3 channels"),
    "simulate-npz": (["simulate", "{d}/g.h5", "--input", "{d}/x.npz"], "expected one .npy array"),
    "simulate-text": (["simulate", "{d}/g.h5", "--input", "{d}/x_text.npy"], "not a numpy .npy array"),
    "simulate-limit-zero": (["simulate", "{d}/g.h5", "--task", "adding", "--limit", "0"], "--limit: must be >= 1"),
    "simulate-complex-weights": (["simulate", "{d}/complex.h5", "--input", "{d}/x_nan.npy"], "real-valued"),
    "simulate-missing-graph": (["simulate", "{t}/g.h5", "--task", "adding"], "event graph file not found"),
    "simulate-out-is-a-folder": (["simulate", "{d}/g.h5", "--task", "adding", "--out", "{t}/empty"], "is a folder"),
    "simulate-task-unknown": (["simulate", "{d}/g.h5", "--task", "addding"], "--task: unknown task"),
    # -- energy
    "energy-huge-int": (["energy", "{d}/t.h5", "--profile-file", "{d}/huge.toml"], "beyond the float range"),
    "energy-5000-digits-toml": (["energy", "{d}/t.h5", "--profile-file", "{d}/huge5000.toml"], "not valid TOML"),
    "energy-5000-digits-json": (["energy", "{d}/t.h5", "--profile-file", "{d}/huge.json"], "not valid JSON"),
    "energy-not-utf8": (["energy", "{d}/t.h5", "--profile-file", "{d}/latin1.toml"], "not UTF-8"),
    "energy-yaml": (["energy", "{d}/t.h5", "--profile-file", "{d}/profile.yaml"], "use .toml or .json"),
    "energy-profile-missing": (["energy", "{d}/t.h5", "--profile-file", "{t}/p.toml"], "energy profile file not found"),
    "energy-profile-unknown": (["energy", "{d}/t.h5", "--profile", "loihi9"], "--profile"),
    "energy-trace-missing": (["energy", "{t}/t.h5"], "trace file not found"),
    "energy-graph-not-trace": (["energy", "{d}/g.h5"], "not a surnn-neuro trace"),
    # -- deploy
    "sweep-missing-config": (["sweep", "{d}/none.toml", "--out", "{t}/s"], "none.toml: sweep file not found"),
    "sweep-bad-key": (["sweep", "{d}/sweep_bad.toml", "--out", "{t}/s"],
                      "space.hidden: expected a list of integers, got 'x'"),
    "sweep-out-under-file": (["sweep", "{d}/sweep_ok.toml", "--out", "{t}/afile/s"], "afile"),
    "deploy-steps-zero": (["deploy", "{d}/g.h5", "--out", "{t}/l", "--steps", "0"], "--steps: must be >= 1"),
    "deploy-steps-huge": (["deploy", "{d}/g.h5", "--out", "{t}/l", "--steps", str(10 ** 9)],
                          "--steps: must be <= 1000000"),
    "deploy-target": (["deploy", "{d}/g.h5", "--out", "{t}/l", "--target", "loihi"], "--target: unknown target"),
    "deploy-out-under-a-file": (["deploy", "{d}/g.h5", "--out", "{t}/afile/l"], "afile is a file, not a folder"),
    "deploy-out-is-a-file": (["deploy", "{d}/g.h5", "--out", "{t}/afile"], "exists and is not a folder"),
    "deploy-out-foreign": (["deploy", "{d}/g.h5", "--out", "{t}/foreign"], "holds other files"),
    "deploy-out-too-long": (["deploy", "{d}/g.h5", "--out", "{t}/" + LONG], "bytes long"),
    "deploy-graph-missing": (["deploy", "{t}/g.h5", "--out", "{t}/l"], "event graph file not found"),
    # -- data check
    "data-missing": (["data", "check", "{t}/nope"], "not found"),
    "data-limit-zero": (["data", "check", "event-digits", "--limit", "0"], "--limit: must be >= 1"),
    "data-ssc-no-test": (["data", "check", "{d}/ssc"], "the test split is missing"),
    "data-nmnist-no-test": (["data", "check", "{d}/nmnist"], "the test split is missing"),
    # -- run (the main job)
    "run-epochs-zero": (["run", "--epochs", "0", "--out", "{t}/demo"], "--epochs: must be >= 1"),
    "run-quick-hidden-zero": (["run", "--quick", "--hidden", "0", "--out", "{t}/demo"], "--hidden: must be >= 1"),
    "run-stages-empty": (["run", "--stages", ",", "--out", "{t}/demo"], "--stages: no stage named"),
    "run-stages-unknown": (["run", "--stages", "train,nope", "--out", "{t}/demo"], "unknown stage(s) nope"),
    "run-lava-limit-zero": (["run", "--lava-limit", "0", "--out", "{t}/demo"], "--lava-limit: must be >= 1"),
    "run-lava-limit-beyond": (["run", "--lava-limit", "1000", "--out", "{t}/demo"], "has 360 samples"),
    "run-seed": (["run", "--seed", "-5", "--out", "{t}/demo"], "--seed: must be >= 0"),
    "run-device": (["run", "--device", "tpu", "--out", "{t}/demo"], "unknown device 'tpu'"),
    "run-out-under-a-file": (["run", "--out", "{t}/afile/demo"], "afile is a file, not a folder"),
    "run-out-not-a-job": (["run", "--out", "{t}/foreign"], "not a main-job folder"),
    "run-stage-needs-train": (["run", "--stages", "spikes", "--out", "{t}/demo"], "run the 'train' stage first"),
    # -- the command itself
    "unknown-command": (["trian"], "invalid choice: 'trian'"),
    "missing-required": (["train", "--task", "adding"], "required"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_before_any_work(case, made, area, capsys):
    argv, message = CASES[case]
    if case.startswith("convert-dt"):
        shutil.copy(Path(__import__("norse").__file__).parent / "torch/utils/test/braille.nir", made / "x.nir")
    before = _snapshot(area)
    code, out, err = _run(capsys, [a.format(d=made, t=area) for a in argv])
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("surnn-neuro") and "Traceback" not in err
    assert message in lines[0], lines[0]
    assert _snapshot(area) == before  # nothing written, no empty folder, nothing changed


def test_out_is_the_current_folder(made, area, capsys, monkeypatch):
    monkeypatch.chdir(area / "empty")
    code, _, err = _run(capsys, TRAIN + ["--out", "."])
    assert code == 2 and "is the current folder" in err and len(err.strip().splitlines()) == 1
    assert list((area / "empty").iterdir()) == []


def test_every_subcommand_has_bad_input_cases():
    from surnn_neuro.cli import COMMANDS

    covered = {CASES[c][0][0] for c in CASES}
    assert set(COMMANDS) - {"tasks"} <= covered  # `tasks` takes no input


def test_every_table_option_is_tried_out_of_bounds():
    # every numeric option of the table appears in some case with a value outside its bounds
    from surnn_neuro.preflight import OPTIONS

    tried = {a for argv, _ in CASES.values() for a in argv if a.startswith("--")}
    assert {f for f, o in OPTIONS.items() if o.kind in ("int", "float")} <= tried


# -- the real program, in a subprocess -------------------------------------------------------------

def _cli(*args, env=None, prefix=(), **kw):
    return subprocess.run([*prefix, sys.executable, "-m", "surnn_neuro.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}, **kw)


def _one_line(r, code=2):
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == code, r.stderr
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_threads_that_crashed_the_interpreter(tmp_path):
    # --threads 100000 ended in a segmentation fault inside torch
    line = _one_line(_cli(*TRAIN, "--threads", "100000", "--out", tmp_path / "r"))
    assert line.startswith("surnn-neuro train: error: --threads: must be <= ") and "CPU" in line
    assert not (tmp_path / "r").exists()


def test_seed_beyond_32_bits_and_argparse_errors_are_one_line(tmp_path):
    assert "--seed: must be <= 4294967295" in _one_line(_cli(*TRAIN, "--seed", 2 ** 32, "--out", tmp_path / "r"))
    assert "the following arguments are required: --out" in _one_line(_cli(*TRAIN))


def test_read_only_folder_is_refused_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    prefix = ()
    if os.geteuid() == 0:  # root writes anywhere; without CAP_DAC_OVERRIDE it obeys the mode bits
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a folder read-only")
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search",
                  "--inh-caps=-dac_override,-dac_read_search", "--")
    try:
        for argv in (TRAIN + ["--out", ro / "r"], ["run", "--out", ro / "demo"],
                     ["deploy", tmp_path / "g.h5", "--out", ro / "l"]):
            if argv[0] == "deploy" and not (tmp_path / "g.h5").exists():
                assert main(TRAIN + ["--out", str(tmp_path / "run")]) == 0
                assert main(["convert", str(tmp_path / "run"), "--out", str(tmp_path / "g.h5")]) == 0
            line = _one_line(_cli(*argv, prefix=prefix))
            assert f"cannot write in {ro} (Permission denied)" in line, line
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_closed_pipe_ends_quietly(made):
    # `energy --json | head -1`: the reader goes away; no BrokenPipeError traceback. The report
    # fits in the pipe's buffer, so whether the writer sees the closed pipe depends on timing;
    # `| true` closes it before the command writes (its imports alone take a second): always EPIPE
    energy = f"{sys.executable} -m surnn_neuro.cli energy {made / 't.h5'} --json"
    r = subprocess.run(["bash", "-c", f"{energy} | head -1"], capture_output=True, text=True, timeout=300)
    assert r.stdout == "{\n" and r.stderr == ""
    r = subprocess.run(["bash", "-c", f"set -o pipefail; {energy} | true"], capture_output=True, text=True,
                       timeout=300)
    assert r.stderr == ""
    assert r.returncode == 141  # 128 + SIGPIPE, as for a program the signal ended


_FAILING = ("import sys, surnn_neuro.simulate_task as s\n"
            "def broken(*a, **k):\n    raise RuntimeError('the kernel went sideways\\nsecond line')\n"
            "s.simulate_on_array = broken\n"
            "from surnn_neuro.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(made):
    # an error that is nobody's input (injected into the simulator glue): one line naming what
    # the command was doing, exit status 1; --debug or SURNN_NEURO_DEBUG=1 add the traceback
    np.save(made / "ok.npy", np.zeros((2, 3, 2)))
    argv = ["simulate", made / "g.h5", "--input", made / "ok.npy"]
    r = subprocess.run([sys.executable, "-c", _FAILING, *map(str, argv)], capture_output=True, text=True, timeout=300)
    line = _one_line(r, code=1)
    assert line == (f"surnn-neuro: error: while simulating {made / 'g.h5'} on the reference backend: RuntimeError: "
                    f"the kernel went sideways second line (rerun with --debug or SURNN_NEURO_DEBUG=1 for the "
                    f"traceback)")
    for extra, env in (([], {"SURNN_NEURO_DEBUG": "1"}), (["--debug"], {})):
        r = subprocess.run([sys.executable, "-c", _FAILING, *map(str, argv + extra)], capture_output=True, text=True,
                           timeout=300, env={**os.environ, **env})
        assert r.returncode == 1 and "Traceback (most recent call last)" in r.stderr
        assert r.stderr.strip().splitlines()[-1] == line


def test_in_process_boundary_names_out_of_memory(made, capsys, monkeypatch):
    import surnn_neuro.simulate_task as st

    def no_memory(*a, **k):
        raise MemoryError

    monkeypatch.setattr(st, "simulate_on_array", no_memory)
    np.save(made / "ok.npy", np.zeros((2, 3, 2)))
    code, _, err = _run(capsys, ["simulate", made / "g.h5", "--input", made / "ok.npy"])
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"surnn-neuro: error: out of memory while simulating {made / 'g.h5'}")
