"""The surnn-neuro command: --help everywhere, one-line errors with a non-zero exit."""

import subprocess
import sys

import pytest

from surnn_neuro.cli import COMMANDS


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "surnn_neuro.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_top_level_help_lists_every_command():
    r = run_cli("--help")
    assert r.returncode == 0
    for name in COMMANDS:
        assert name in r.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS) + ["data check"])
def test_every_subcommand_has_help(name):
    r = run_cli(*name.split(), "--help")
    assert r.returncode == 0, r.stderr
    assert "usage:" in r.stdout


def _one_line_error(r, *needles):
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0]


def test_bad_input_gives_one_clear_line(tmp_path):
    _one_line_error(run_cli("train", "--task", "digitz", "--model", "gru", "--out", str(tmp_path / "r")),
                    "unknown task 'digitz'")
    _one_line_error(run_cli("train", "--task", "digits", "--model", "grux", "--out", str(tmp_path / "r")),
                    "--model: unknown model 'grux'")
    _one_line_error(run_cli("train", "--task", "digits", "--model", "sugru", "--option", "harmonix=2",
                            "--epochs", "1", "--out", str(tmp_path / "r")), "harmonix")
    _one_line_error(run_cli("evaluate", str(tmp_path / "missing")), "checkpoint not found")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "checkpoint.pt").write_text("garbage")
    _one_line_error(run_cli("evaluate", str(tmp_path / "bad")), "corrupt")
    _one_line_error(run_cli("run", "--stages", "nope", "--out", str(tmp_path / "d")), "unknown stage")
    # nothing half-written by the failed runs
    assert not (tmp_path / "r").exists()


def test_train_then_evaluate_through_the_command(tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", "--task", "adding", "--seq-len", "20", "--model", "sarnn", "--hidden", "4",
                "--epochs", "1", "--batch-size", "256", "--budget", "1e-3", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "mse" in r.stdout and (out / "checkpoint.pt").exists()
    e = run_cli("evaluate", str(out), "--json")
    assert e.returncode == 0, e.stderr
    assert '"solved"' in e.stdout


def test_nir_graph_from_elsewhere_converts_simulates_and_gets_energy(tmp_path):
    import numpy as np
    import norse

    braille = __import__("pathlib").Path(norse.__file__).parent / "torch" / "utils" / "test" / "braille.nir"
    graph = tmp_path / "braille.h5"
    r = run_cli("convert", str(braille), "--out", str(graph))
    assert r.returncode == 0, r.stderr
    assert "spiking cubalif, cubalif" in r.stdout
    x = (np.random.RandomState(0).rand(2, 30, 12) < 0.2).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    trace = tmp_path / "trace.h5"
    r = run_cli("simulate", str(graph), "--input", str(tmp_path / "x.npy"), "--out", str(trace))
    assert r.returncode == 0, r.stderr
    e = run_cli("energy", str(trace), "--json")
    assert e.returncode == 0 and '"loihi1_table2"' in e.stdout
    _one_line_error(run_cli("simulate", str(graph), "--input", str(tmp_path / "nope.npy")), "file not found")
    _one_line_error(run_cli("simulate", str(graph)), "exactly one of --task")


def test_sigterm_raises_terminated_inside_a_command_only():
    import os
    import signal

    from surnn_neuro.errors import Terminated, terminate_as_interrupt

    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(Terminated) as e, terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)  # delivered before the next bytecode: raised in the block
    assert isinstance(e.value, KeyboardInterrupt)  # every Ctrl-C cleanup runs for it too
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored
    # a child forked inside the block gets the default action back (status 0 says so)
    with terminate_as_interrupt():
        pid = os.fork()
        if pid == 0:
            os._exit(0 if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL else 1)
        assert os.waitpid(pid, 0)[1] == 0
    # a host program's own handler is left alone
    def host(signum, frame):
        pass

    old = signal.signal(signal.SIGTERM, host)
    try:
        with terminate_as_interrupt():
            assert signal.getsignal(signal.SIGTERM) is host
    finally:
        signal.signal(signal.SIGTERM, old)
