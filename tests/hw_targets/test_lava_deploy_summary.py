"""deploy()'s summary.md says the T the graph was built for and a synapse total that agrees with its
own connection table (issue 13: a T = 64 model said T = 100; 3488 vs 3458 synapses)."""

import pytest

from surnn_neuro.hw_targets.lava._mp import lava_missing_reason

if lava_missing_reason():  # lava-nc 0.10.0 runs on Python 3.10 only
    pytest.skip(lava_missing_reason(), allow_module_level=True)

import numpy as np  # noqa: E402

from surnn_neuro.hw_targets import deploy  # noqa: E402
from surnn_neuro.ir import EventGraph, InputNode, LayerNode, ReadoutNode, ThresholdGate  # noqa: E402


def tiny_weight_graph(metadata):
    """V = 2, H = 4 GRU, threshold gate, O = 3, with three weights too small for an 8-bit mantissa.

    quantize_weights: e = ⌈log2(max|w| / 127)⌉, m = round(w / 2^e):
      W_ih  max 1.0 -> e = ⌈log2(1/127)⌉ = ⌈−6.99⌉ = −6, step 1/64: 0.005·64 = 0.32 -> 0 (dropped),
            0.01·64 = 0.64 -> 1 (kept): 24 non-zero in float, 23 deployed
      W_hh  max 0.5 -> e = ⌈log2(0.5/127)⌉ = ⌈−7.99⌉ = −7, step 1/128: 0.003·128 = 0.384 -> 0:
            48 in float, 47 deployed
      w_self (1, 0, −1, 0.004), max 1 -> step 1/64: 0.004·64 = 0.256 -> 0: 3 in float, 2 deployed
      W_in  5 non-zero, W_o 12 non-zero: unchanged
    totals: float 24 + 48 + 3 + 5 + 12 = 92; deployed 23 + 47 + 2 + 5 + 12 = 89 (3 dropped)
    """
    w_ih = np.ones((12, 2))
    w_ih[0, 0], w_ih[1, 0] = 0.005, 0.01
    w_hh = np.full((12, 4), 0.5)
    w_hh[0, 0] = 0.003
    gate = ThresholdGate("gate1", w_self=[1.0, 0.0, -1.0, 0.004],
                         w_in=[[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, -1.0]], bias=[0.1, -0.2, 0.3, 0.0])
    layer = LayerNode("layer1", cell="gru", w_ih=w_ih, w_hh=w_hh, b_ih=np.full(12, 0.1), b_hh=np.full(12, -0.1))
    ro = ReadoutNode("readout", weight=np.ones((3, 4)), bias=[0.0, 0.1, 0.2])
    return EventGraph.sequential(InputNode("input", size=2), [(layer, gate)], ro, metadata=metadata)


def table_rows(md):
    """(synapses column of every connection row, the total row's value) of summary.md."""
    lines = md.split("## Connections", 1)[1].split("## Bit widths", 1)[0].splitlines()
    rows = [ln.split("|")[1:-1] for ln in lines if ln.startswith("| ") and not ln.startswith("| src")]
    body = [int(r[4]) for r in rows if r[0].strip() != "**total**" and r[4].strip()]
    total = [int(r[4].strip().strip("*")) for r in rows if r[0].strip() == "**total**"]
    return body, total


def test_fixed_point_summary_counts_the_deployed_synapses(tmp_path):
    # the torch converter records T as model_config.options.seq_len (not a top-level seq_len)
    g = tiny_weight_graph({"model_config": {"name": "sugru", "options": {"seq_len": 6}}})
    summary = deploy(g, tmp_path)
    md = (tmp_path / "summary.md").read_text()
    body, total = table_rows(md)
    assert sorted(body) == [2, 5, 12, 23, 47] and total == [89] == [sum(body)]
    assert summary["resources"]["synapses"]["total"] == 89 == summary["resources"]["synapses_total"]
    assert summary["synapses_float_nonzero"] == 92
    assert "synapses (non-zero weights as deployed, = the connection table's total): 89" in md
    assert "The float graph has 92 non-zero weights; 3 of them round to a zero mantissa" in md
    assert "DISAGREES" not in md
    assert summary["n_steps"] == 6 and summary["n_steps_source"] == "graph"
    assert "T = 6 (the sequence length recorded in the graph)" in md


def test_float_summary_and_the_steps_it_states(tmp_path):
    g = tiny_weight_graph({})
    summary = deploy(g, tmp_path / "a", fixed_point=False)
    md = (tmp_path / "a" / "summary.md").read_text()
    body, total = table_rows(md)
    assert total == [92] == [sum(body)] and summary["resources"]["synapses_total"] == 92
    assert "round to a zero mantissa" not in md
    # no recorded length: the default says so
    assert summary["n_steps"] == 100 and "T = 100 (a default: the graph records no sequence length" in md
    summary = deploy(g, tmp_path / "b", fixed_point=False, n_steps=7)
    assert summary["n_steps"] == 7 and "T = 7 (given: n_steps / --steps)" in (tmp_path / "b" / "summary.md").read_text()
