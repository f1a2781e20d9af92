"""deploy(): Lava's save format (loadable and runnable), summary.md/json, Loihi 2 resource estimate."""

import pytest

from surnn_neuro.hw_targets.lava._mp import lava_missing_reason

if lava_missing_reason():  # lava-nc 0.10.0 runs on Python 3.10 only
    pytest.skip(lava_missing_reason(), allow_module_level=True)

import json

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.utils.serialization import load

from surnn_neuro.hw_targets import deploy, loihi2_estimate
from surnn_neuro.hw_targets.lava.resources import NEURONS_PER_CORE, SYNAPSES_PER_CORE
from surnn_neuro.ir import EventGraph, InputNode, LayerNode, ReadoutNode, ThresholdGate
from surnn_neuro.ir.examples import random_graph


def hand_graph():
    # V = 2, H = 4 GRU (G·H = 12 rows), threshold gate, O = 3; exact zeros placed by hand
    w_ih = np.ones((12, 2))
    w_ih[0, 0] = w_ih[5, 1] = 0.0  # 22 synapses
    w_hh = np.full((12, 4), 0.5)
    w_hh[:, 3] = 0.0  # 36 synapses
    gate = ThresholdGate("gate1", w_self=[1.0, 0.0, -1.0, 2.0], w_in=[[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, -1.0]],
                         bias=[0.1, -0.2, 0.3, 0.0])  # w_self 3, W_in 5 synapses
    layer = LayerNode("layer1", cell="gru", w_ih=w_ih, w_hh=w_hh, b_ih=np.full(12, 0.1), b_hh=np.full(12, -0.1))
    ro = ReadoutNode("readout", weight=[[1.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]],
                     bias=[0.0, 0.1, 0.2])  # 6 synapses
    return EventGraph.sequential(InputNode("input", size=2), [(layer, gate)], ro, metadata={"seq_len": 5})


def test_resource_estimate_by_hand():
    est = loihi2_estimate(hand_graph())
    # neurons: 4 layer + 4 threshold-gate + 3 readout = 11
    assert est["neurons"]["total"] == 11
    # synapses: 22 (W_ih) + 36 (W_hh) + 5 (W_in) + 3 (w_self) + 6 (W_o) = 72, one byte each
    assert est["synapses"]["total"] == 72 and est["synaptic_memory_bytes"]["nonzero_8bit"] == 72
    # dense entries: 24 + 48 + 8 + 4 (diagonal) + 12 = 96
    assert est["synaptic_memory_bytes"]["dense_8bit"] == 96
    assert est["cores"]["needed"] == 1 and est["cores"]["chips"] == 1
    assert est["limits"]["chip"]["neuron_cores"] == 128 and est["limits"]["chip"]["max_synapses"] == 120_000_000
    assert NEURONS_PER_CORE == 7812 and SYNAPSES_PER_CORE == 937_500 and est["assumed"]


def test_resource_estimate_scales_to_cores():
    # H = 1024 GRU, V = 1: 3·1024·1024 recurrent synapses → ceil(3 146 752 / 937 500) = 4 cores by synapses
    rng = np.random.default_rng(0)
    h = 1024
    layer = LayerNode("l", cell="gru", w_ih=rng.normal(size=(3 * h, 1)), w_hh=rng.normal(size=(3 * h, h)),
                      b_ih=np.zeros(3 * h), b_hh=np.zeros(3 * h))
    from surnn_neuro.ir import AlwaysGate
    g = EventGraph.sequential(InputNode("i", size=1), [(layer, AlwaysGate("g", size=h))],
                              ReadoutNode("r", weight=rng.normal(size=(10, h)), bias=np.zeros(10)))
    est = loihi2_estimate(g)
    assert est["synapses"]["total"] == 3 * h + 3 * h * h + 10 * h
    assert est["cores"]["by_synapses"] == 4 and est["cores"]["by_neurons"] == 1 and est["cores"]["needed"] == 4


def test_deploy_writes_lava_save_file_and_summary(tmp_path):
    g = hand_graph()
    summary = deploy(g, tmp_path / "out")
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"network.pickle", "summary.json", "summary.md"}
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["resources"]["neurons"]["total"] == 11 == summary["resources"]["neurons"]["total"]
    assert on_disk["select_tag"] == "fixed_pt" and on_disk["n_steps"] == 5 and on_disk["latency_steps"] == 2
    names = [p["name"] for p in on_disk["processes"]]
    for n in ("input", "input/event_counter", "layer1", "gate1", "readout", "readout/monitor",
              "dense:input->layer1", "dense:layer1->layer1", "dense:input->gate1", "dense:layer1->gate1",
              "dense:layer1->readout"):
        assert n in names
    dense = [c for c in on_disk["connections"] if c["dst"] == "layer1.a_in"][0]
    assert dense["num_message_bits"] == 24 and dense["weight_bits"] == 8 and dense["nnz"] == 22
    md = (out / "summary.md").read_text()
    assert "Loihi 2 resource estimate" in md and "open-neuromorphic.org" in md and "network.pickle" in md

    # Lava's own loader gives back the processes, and they run (fixed_pt, zero input, 5 + 2 steps)
    procs, exe = load(str(out / "network.pickle"))
    assert exe is None and sorted(p.name for p in procs) == sorted(names)
    by_name = {p.name: p for p in procs}
    from surnn_neuro.hw_targets.lava.network import LavaNetwork
    from surnn_neuro.hw_targets.lava.runner import run_config, shutdown

    net = LavaNetwork(graph=g, fixed_point=True, n_steps=5, n_samples=1, n_lava_steps=7, processes=by_name,
                      connections=[], depth={}, source=by_name["input"], counter=by_name["input/event_counter"],
                      layers={"layer1": by_name["layer1"]}, gates={}, readout=by_name["readout"],
                      monitor=by_name["readout/monitor"])
    try:
        net.readout.run(condition=RunSteps(num_steps=7), run_cfg=run_config(net))
        counts = by_name["layer1"].counts.get()
    finally:
        shutdown(net)
    # zero input: the gate fires where bias_i > 0 at t = 0 (h_{-1} = 0, W_in·0 = 0): neurons 0 and 2
    assert counts[0, 0] == 2


def test_deploy_float_network(tmp_path):
    summary = deploy(random_graph(cells=("lstm",), gate="global", hidden=(4,), seed=1), tmp_path, fixed_point=False,
                     n_steps=8)
    assert summary["select_tag"] == "floating_pt" and summary["fixed_point"] is None
    assert summary["bit_widths"]["weights"] == "float64"


def test_unsupported_layer_kind_fails_loudly():
    # e.g. a spiking (LIF) layer imported from NIR: no Lava process for it here, say so
    import types

    import pytest

    from surnn_neuro.errors import UserError
    from surnn_neuro.hw_targets.lava.resources import check_supported

    class OtherLayer:
        kind = "spiking"
        name = "lif1"

    with pytest.raises(UserError, match="layer 'lif1' is of kind 'spiking'.*supported: selective-update"):
        check_supported(types.SimpleNamespace(layers=(OtherLayer(),)))
