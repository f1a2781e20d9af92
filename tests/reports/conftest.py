"""Small hand-built traces and records for the report tests."""

import numpy as np
import pytest

from surnn_neuro.ir.trace import Trace


def make_trace(rate_pattern, T=4, H=2, V=1, B=1) -> Trace:
    """One GRU layer (G = 3), nodes ("in", "l1"); gates open where ``rate_pattern`` (T, H) is 1.

    Counts per step: one binary input event (fan-out 3H, ACs); delta events = gate spikes
    (fan-out 3H, MACs); dense MACs 3H(V + H).
    """
    g = np.asarray(rate_pattern, dtype=bool).reshape(1, T, H).repeat(B, axis=0)
    spikes = g.sum(axis=(0, 2))
    inp = np.full(T, B * V)
    return Trace(
        backend="reference", node_names=("in", "l1"), layer_names=("l1",), outputs=np.zeros((B, 1)),
        gate_spikes={"l1": g},
        events=np.stack([inp, spikes]),
        synaptic_ops=np.stack([0 * inp, inp * 3 * H + spikes * 3 * H]),
        ac_ops=np.stack([0 * inp, inp * 3 * H]),
        neuron_updates=np.stack([0 * inp, spikes]),
        dense_macs=np.stack([0 * inp, np.full(T, B * 3 * H * (V + H))]),
        n_samples=B,
    )


@pytest.fixture
def records():
    """gru (all open) and sugru at two λ. T = 4, H = 2, V = 1 -> per inference:

    gru:        events 4 + 8 = 12, ACs 4·6 = 24, MACs 8·6 = 48, updates 8, inactive 0, Dense 4·18 = 72
    sugru λ=.1: 4 spikes -> events 8, ACs 24, MACs 24, updates 4, inactive 4
    sugru λ=1:  2 spikes -> events 6, ACs 24, MACs 12, updates 2, inactive 6
    """
    full = np.ones((4, 2))
    half = np.array([[1, 1], [0, 0], [1, 1], [0, 0]])
    quarter = np.array([[1, 0], [0, 0], [0, 1], [0, 0]])
    return [
        {"model": "gru", "trace": make_trace(full), "accuracy": 0.9},
        {"model": "sugru", "lambda": 0.1, "trace": make_trace(half), "accuracy": 0.88},
        {"model": "sugru", "lambda": 1.0, "trace": make_trace(quarter), "accuracy": 0.8},
    ]
