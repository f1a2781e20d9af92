"""NeuroBench-style counts of the tiny hand-built trace (conftest.make_tiny_trace)."""

import numpy as np
import pytest

from surnn_neuro.ir.trace import Trace
from surnn_neuro.metrics.counts import COUNT_DOCS, flatten_counts, inference_counts, per_node_counts


def test_inference_counts(tiny_trace):
    c = inference_counts(tiny_trace, n_params=40)
    # ACs 72/2, MACs (114 − 72)/2, Dense 180/2
    assert c["SynapticOperations"] == {"Effective_MACs": 21.0, "Effective_ACs": 36.0, "Dense": 90.0}
    # 7 of 12 gate slots spiked -> sparsity 5/12
    assert c["ActivationSparsity"] == pytest.approx(5 / 12, rel=1e-15)
    assert c["update_rate"] == pytest.approx(7 / 12, rel=1e-15)
    assert c["Footprint"] == 160.0  # 40 parameters · 4 bytes (fp32)
    assert c["synaptic_ops"] == 57.0
    assert c["gate_spikes"] == 3.5        # 7 / 2
    assert c["delta_events"] == 3.5       # 4 + 2 + 1 over 2 samples
    assert c["input_events"] == 6.0       # 4 + 3 + 5 over 2 samples
    assert c["events"] == 9.5
    assert c["neuron_updates"] == 3.5
    assert c["inactive_updates"] == 2.5   # (12 − 7) / 2
    assert c["state_slots"] == 6.0        # T·H = 3·2
    assert c["weight_fetches"] == 57.0    # one per synaptic op
    assert c["dense_weight_fetches"] == 90.0
    assert c["n_steps"] == 3
    assert set(flatten_counts(c)) <= set(COUNT_DOCS)  # every name documented


def test_footprint_only_with_params(tiny_trace):
    assert "Footprint" not in inference_counts(tiny_trace)
    assert inference_counts(tiny_trace, n_params=40, bytes_per_param=1)["Footprint"] == 40.0
    with pytest.raises(ValueError, match="n_params"):
        inference_counts(tiny_trace, n_params=-1)


def test_per_node_counts(tiny_trace):
    rows = per_node_counts(tiny_trace)
    assert list(rows) == ["in", "l1"]
    assert rows["in"] == {
        "events": 6.0, "synaptic_ops": 0.0, "Effective_ACs": 0.0, "Effective_MACs": 0.0, "Dense": 0.0,
        "neuron_updates": 0.0, "inactive_updates": 0.0, "state_slots": 0.0, "update_rate": None,
    }
    assert rows["l1"]["events"] == 3.5
    assert rows["l1"]["Effective_ACs"] == 36.0 and rows["l1"]["Effective_MACs"] == 21.0
    assert rows["l1"]["update_rate"] == pytest.approx(7 / 12)


def _trace(**kw):
    base = dict(
        backend="reference", node_names=("input", "a", "b", "readout"), layer_names=("a", "b"),
        outputs=np.zeros((1, 2)),
        gate_spikes={"a": np.ones((1, 2, 3), bool), "b": np.zeros((1, 2, 1), bool)},
        events=np.array([[1, 1], [3, 3], [0, 0], [0, 0]]),
        synaptic_ops=np.array([[0, 0], [2, 2], [6, 6], [0, 0]]),
        ac_ops=np.zeros((4, 2), int),
        neuron_updates=np.array([[0, 0], [3, 3], [0, 0], [0, 0]]),
        dense_macs=np.array([[0, 0], [9, 9], [12, 12], [1, 1]]),
        n_samples=1,
    )
    base.update(kw)
    return Trace(**base)


def test_two_layers_and_readout():
    # layer a: 3 neurons always open (6 spikes of 6 slots); b: 1 neuron never open (0 of 2)
    c = inference_counts(_trace())
    assert c["update_rate"] == 6 / 8 and c["ActivationSparsity"] == 0.25
    assert c["input_events"] == 2.0 and c["delta_events"] == 6.0
    assert c["inactive_updates"] == 2.0   # b's 2 slots
    assert c["SynapticOperations"] == {"Effective_MACs": 16.0, "Effective_ACs": 0.0, "Dense": 44.0}
    assert per_node_counts(_trace())["readout"]["Dense"] == 2.0


def test_inconsistent_trace_is_rejected():
    with pytest.raises(ValueError, match="more neuron updates than state slots"):
        inference_counts(_trace(neuron_updates=np.array([[0, 0], [4, 3], [0, 0], [0, 0]])))
    with pytest.raises(ValueError, match="layer 'a' is not among node_names"):
        inference_counts(_trace(node_names=("input", "x", "b", "readout")))
