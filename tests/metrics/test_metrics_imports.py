"""metrics/ imports without torch (DESIGN.md §4, STYLE.md 10), and its doctests run."""

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["surnn_neuro.metrics.profiles", "surnn_neuro.metrics.counts",
           "surnn_neuro.metrics.energy", "surnn_neuro.metrics.cli"]


def test_import_does_not_pull_torch():
    code = ("import sys, surnn_neuro.metrics, surnn_neuro.metrics.cli; "
            "bad = [m for m in ('torch', 'matplotlib') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0
