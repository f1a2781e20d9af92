"""The datasets package imports without torch (numpy + h5py only), and its doctests run."""

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["surnn_neuro.datasets.events", "surnn_neuro.datasets.transforms",
           "surnn_neuro.datasets.shd", "surnn_neuro.datasets.nmnist",
           "surnn_neuro.datasets.event_digits", "surnn_neuro.datasets.cache"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0


def test_import_without_torch():
    code = ("import sys; import surnn_neuro.datasets as d; d.load_split; "
            "assert 'torch' not in sys.modules and 'tonic' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
