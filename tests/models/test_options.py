"""Typed model options (models/options.py): parsed at the command boundary, checked before a build."""

import subprocess
import sys

import pytest

from surnn_neuro.models import build, check_options, option_specs, parse_options


@pytest.mark.parametrize("pair, value", [
    ("harmonics=4", 4), ("duty=0.25", 0.25), ("duty=1", 1.0), ("learn_gate=false", False),
    ("learn_gate=True", True), ("learn_omega=yes", True), ("period_max=None", None),
    ("surrogate=gaussian", "gaussian"), ("readout=mean", "mean"), ("seq_len=10", 10),
])
def test_command_line_values_become_typed(pair, value):
    key = pair.split("=")[0]
    out = parse_options("sugru", [pair])
    assert out == {key: value} and type(out[key]) is type(value)


@pytest.mark.parametrize("model, pair, message", [
    ("sugru", "duty=nan", "option duty: expected a number in (0, 1], got nan"),
    ("sugru", "duty=0", "in (0, 1]"),  # open at 0: a gate that never opens
    ("sugru", "harmonics=4.5", "option harmonics: expected an integer in [1, 64], got 4.5"),
    ("sugru", "harmonics=four", "got 'four'"),
    ("sugru", "learn_gate=maybe", "option learn_gate: expected true or false, got 'maybe'"),
    ("sugru", "seq_len=-4", "option seq_len: expected an integer in [1, inf], got -4"),
    ("sugru", "harmonics={'a': 1}", "expected an integer"),
    ("sarnn", "anneal=maybe", "option anneal: expected true or false"),
    ("clockwork", "periods=(1,0,2)", "option periods: expected a tuple of integers in [1, inf]"),
    ("clockwork", "periods=()", "option periods"),
    ("phased", "r_on=1", "in (0, 1)"),
    ("random", "seed=-1", "in [0, 4294967295]"),
    ("sugru", "layers=3", "--layers"),
    ("sugru", "harmonix=3", "unknown option 'harmonix'; known: readout, seq_len, harmonics"),
    ("sugru", "duty", "expected KEY=VALUE"),
])
def test_bad_values_are_refused_with_what_they_accept(model, pair, message):
    with pytest.raises(ValueError) as e:
        parse_options(model, [pair])
    assert message in str(e.value)


def test_python_values_are_checked_too():
    # the API path (build / from_config) applies the same table: a string where an integer belongs
    with pytest.raises(ValueError, match="option harmonics: expected an integer"):
        build("sugru", 1, 4, 2, harmonics="4")
    with pytest.raises(ValueError, match="option duty"):
        build("sugru", 1, 4, 2, duty=float("nan"))
    assert check_options("clockwork", {"periods": [1, 2]}) == {"periods": (1, 2)}
    # every option of every model has a spec, and the factories accept every spec'd name
    for name in ("sugru", "surnn", "sarnn", "gru", "skiprnn", "clockwork", "phased", "random"):
        assert set(option_specs(name)) >= {"readout", "seq_len"}


def test_cli_option_errors_are_one_line_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "train", "--task", "digits", "--model", "sugru",
                        "--option", "duty=nan", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "surnn-neuro: error: --option duty: expected a number in (0, 1], got nan"]
    assert not (tmp_path / "run").exists()
