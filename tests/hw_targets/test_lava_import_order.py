"""Lava must import after something else fixed the multiprocessing start method (tqdm does)."""

import subprocess
import sys

import pytest

CODE = r"""
import multiprocessing, numpy as np
multiprocessing.RLock()          # what tqdm's write lock does: it fixes the start method
assert multiprocessing.get_start_method(allow_none=True) == 'fork'
from surnn_neuro.ir.examples import random_graph, random_input
from surnn_neuro.simulators import simulate
g = random_graph(seed=1)
x = random_input(g, batch=1, steps=4)
ref = simulate(g, x, backend='reference')
lav = simulate(g, x, backend='lava')
assert all(np.array_equal(lav.gate_spikes[k], ref.gate_spikes[k]) for k in ref.gate_spikes)
print('ok')
"""


@pytest.mark.lava
def test_lava_runs_after_a_multiprocessing_lock_was_created():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith("ok")
