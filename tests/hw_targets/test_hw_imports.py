"""hw_targets imports without torch (STYLE.md 10) and without Lava until a network is built; doctests run."""

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["surnn_neuro.hw_targets.lava.fixed_point", "surnn_neuro.hw_targets.lava.timing",
           "surnn_neuro.hw_targets.lava.resources"]


def test_import_hw_targets_does_not_pull_torch_or_lava():
    code = ("import sys, surnn_neuro.hw_targets, surnn_neuro.hw_targets.lava; "
            "bad = [m for m in ('torch', 'lava') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.lava
def test_lava_modules_do_not_pull_torch():
    code = ("import sys, surnn_neuro.hw_targets.lava.network, surnn_neuro.hw_targets.lava.runner, "
            "surnn_neuro.hw_targets.lava.deploy, surnn_neuro.simulators.lava_backend; "
            "bad = [m for m in ('torch',) if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
