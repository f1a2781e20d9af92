"""A tiny hand-built trace shared by the metrics tests (derivations in test_metrics_energy.py)."""

import numpy as np
import pytest

from surnn_neuro.ir.trace import Trace


def make_tiny_trace() -> Trace:
    """Nodes ("in", "l1"), T = 3 steps, B = 2 samples, one GRU layer with V = 3, H = 2 (G = 3).

    Gate spikes (sample, step, neuron):
        sample 0: t0 [1 1], t1 [0 1], t2 [0 0]
        sample 1: t0 [1 1], t1 [1 0], t2 [0 1]      -> spikes per step 4, 2, 1 (7 of 12 slots)
    Input events per step (both samples): 4, 3, 5 (binary spikes -> ACs), fan-out 6 = G·H.
    Delta events = gate spikes: 4, 2, 1 (graded -> MACs), recurrent fan-out 6 = G·H.
    synaptic ops of l1: t0 4·6 + 4·6 = 48, t1 3·6 + 2·6 = 30, t2 5·6 + 1·6 = 36   (total 114)
    of which ACs:       24, 18, 30                                                (total 72)
    dense MACs of l1: G·H·(V + H)·B = 6·5·2 = 60 per step                          (total 180)
    """
    g = np.zeros((2, 3, 2), dtype=bool)
    g[0, 0] = [1, 1]
    g[0, 1] = [0, 1]
    g[1, 0] = [1, 1]
    g[1, 1] = [1, 0]
    g[1, 2] = [0, 1]
    return Trace(
        backend="reference",
        node_names=("in", "l1"),
        layer_names=("l1",),
        outputs=np.zeros((2, 1)),
        gate_spikes={"l1": g},
        events=np.array([[4, 3, 5], [4, 2, 1]], dtype=np.int64),
        synaptic_ops=np.array([[0, 0, 0], [48, 30, 36]], dtype=np.int64),
        ac_ops=np.array([[0, 0, 0], [24, 18, 30]], dtype=np.int64),
        neuron_updates=np.array([[0, 0, 0], [4, 2, 1]], dtype=np.int64),
        dense_macs=np.array([[0, 0, 0], [60, 60, 60]], dtype=np.int64),
        n_samples=2,
    )


@pytest.fixture
def tiny_trace() -> Trace:
    return make_tiny_trace()
