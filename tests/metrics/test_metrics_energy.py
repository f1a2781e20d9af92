"""Hand-derived energies of the tiny trace (conftest.make_tiny_trace) for every built-in profile.

Per inference (B = 2): events = (4+3+5 + 4+2+1)/2 = 9.5; Effective_ACs = 72/2 = 36;
Effective_MACs = (114 − 72)/2 = 21; synaptic ops = 57; neuron updates = 7/2 = 3.5;
inactive slots = (12 − 7)/2 = 2.5; state slots = 3·2 = 6; Dense = 180/2 = 90.

event     = 9.5·e_spike + 36·e_ac + 21·e_mac + 3.5·e_active + 2.5·e_inactive
memory    = event + 57·e_weight_fetch
dense     = 90·e_mac + 6·e_active
dense+mem = dense + 90·e_weight_fetch
"""

import math

import pytest

from surnn_neuro.metrics.counts import inference_counts
from surnn_neuro.metrics.energy import EnergyEstimate, estimate, estimate_both, estimate_dense, format_energy
from surnn_neuro.metrics.profiles import PROFILES, EnergyProfile

# loihi1_table2: 9.5·1.7 + 36·23.6 + 21·23.6 + 3.5·81 + 2.5·52 = 16.15 + 849.6 + 495.6 + 283.5 + 130
#                = 1774.85; weight fetch 0 (inside the synop) -> memory = 1774.85
#                dense: 90·23.6 + 6·81 = 2124 + 486 = 2610; memory 2610
# spinnaker2:    0 + 36·450 + 21·450 + 3.5·2190 + 2.5·2190 = 16200 + 9450 + 7665 + 5475 = 38790
#                dense: 90·450 + 6·2190 = 40500 + 13140 = 53640
# cmos45_fp32:   0 + 36·0.9 + 21·4.6 + 3.5·29.4 + 0 = 32.4 + 96.6 + 102.9 = 231.9
#                memory: + 57·5 = 285 -> 516.9;  dense: 90·4.6 + 6·29.4 = 414 + 176.4 = 590.4
#                dense memory: + 90·5 = 450 -> 1040.4
# cmos45_int8:   36·0.03 + 21·0.23 + 3.5·1.44 = 1.08 + 4.83 + 5.04 = 10.95
#                memory: + 57·1.25 = 71.25 -> 82.2;  dense: 90·0.23 + 6·1.44 = 20.7 + 8.64 = 29.34
#                dense memory: + 90·1.25 = 112.5 -> 141.84
EXPECTED = {
    #                event    event+mem  dense    dense+mem
    "loihi1_table2": (1774.85, 1774.85, 2610.0, 2610.0),
    "spinnaker2": (38790.0, 38790.0, 53640.0, 53640.0),
    "cmos45_fp32": (231.9, 516.9, 590.4, 1040.4),
    "cmos45_int8": (10.95, 82.2, 29.34, 141.84),
}


def test_every_builtin_profile_has_a_hand_derivation():
    assert set(EXPECTED) == set(PROFILES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_and_dense_estimates_match_hand_derivation(tiny_trace, name):
    ev, ev_mem, de, de_mem = EXPECTED[name]
    rel = 1e-12  # float rounding of the products only
    assert estimate(tiny_trace, name).total_pJ == pytest.approx(ev, rel=rel, abs=0)
    assert estimate(tiny_trace, name, memory=True).total_pJ == pytest.approx(ev_mem, rel=rel, abs=0)
    assert estimate_dense(tiny_trace, name).total_pJ == pytest.approx(de, rel=rel, abs=0)
    assert estimate(tiny_trace, name, memory=True, execution="dense").total_pJ == pytest.approx(
        de_mem, rel=rel, abs=0
    )
    # printed to 6 significant digits, the hand value comes out exactly
    assert f"{estimate(tiny_trace, name).total_pJ:.6g}" == f"{ev:.6g}"


def test_breakdown_loihi(tiny_trace):
    e = estimate(tiny_trace, "loihi1_table2")
    assert e.label == "estimate" and e.units == "pJ per inference"
    assert e.execution == "event" and e.memory is False and e.is_proxy is True
    expected = {
        "spikes": 16.15,                  # 9.5 · 1.7
        "synaptic_ACs": 849.6,            # 36 · 23.6
        "synaptic_MACs": 495.6,           # 21 · 23.6
        "neuron_updates_active": 283.5,   # 3.5 · 81
        "neuron_updates_inactive": 130.0,  # 2.5 · 52
    }
    assert e.breakdown.keys() == expected.keys()
    for k, v in expected.items():
        assert e.breakdown[k] == pytest.approx(v, rel=1e-12)
    assert "Davies" in e.citation and "Table 2" in e.citation


def test_per_node_energy_sums_to_total(tiny_trace):
    # input node sends 12/2 = 6 events: 6·1.7 = 10.2; the layer carries the rest: 1774.85 − 10.2
    e = estimate(tiny_trace, "loihi1_table2")
    assert e.per_node["in"] == pytest.approx(10.2, rel=1e-12)
    assert e.per_node["l1"] == pytest.approx(1764.65, rel=1e-12)
    for name in PROFILES:
        for mem in (False, True):
            for ex in ("event", "dense"):
                est = estimate(tiny_trace, name, memory=mem, execution=ex)
                assert sum(est.per_node.values()) == pytest.approx(est.total_pJ, rel=1e-12)


def test_memory_adds_weight_fetch_component(tiny_trace):
    e = estimate(tiny_trace, "cmos45_fp32", memory=True)
    assert e.breakdown["weight_fetches"] == pytest.approx(285.0)  # 57 synaptic ops · 5 pJ
    assert "weight_fetches" not in estimate(tiny_trace, "cmos45_fp32").breakdown
    d = estimate_dense(tiny_trace, "cmos45_fp32", memory=True)
    assert d.breakdown == pytest.approx({"dense_MACs": 414.0, "neuron_updates_active": 176.4, "weight_fetches": 450.0})


def test_estimate_from_counts_equals_estimate_from_trace(tiny_trace):
    counts = inference_counts(tiny_trace)
    for name in PROFILES:
        a, b = estimate_both(tiny_trace, name, memory=True)
        c, d = estimate_both(counts, name, memory=True)
        assert (a.total_pJ, b.total_pJ) == (c.total_pJ, d.total_pJ)
        assert c.per_node is None


def test_custom_profile_object(tiny_trace):
    p = EnergyProfile("unit", "Unit costs", "made up for the test", 1, 10, 100, 1000, 0.5, 2)
    # 9.5·0.5 + 36·1 + 21·10 + 3.5·100 + 2.5·1000 = 4.75 + 36 + 210 + 350 + 2500 = 3100.75
    assert estimate(tiny_trace, p).total_pJ == 3100.75
    # + 57·2 = 114
    assert estimate(tiny_trace, p, memory=True).total_pJ == 3214.75


def test_to_dict_is_labelled_estimate(tiny_trace):
    d = estimate(tiny_trace, "cmos45_int8").to_dict()
    assert d["label"] == "estimate" and d["unconfirmed"] is True
    assert d["units"] == "pJ per inference"
    assert d["counts_used"]["Effective_ACs"] == 36.0


def test_errors(tiny_trace):
    with pytest.raises(ValueError, match="unknown execution 'sparse'; known: event, dense"):
        estimate(tiny_trace, "cmos45_fp32", execution="sparse")
    with pytest.raises(ValueError, match="unknown energy profile 'loihi2'; known: cmos45_fp32"):
        estimate(tiny_trace, "loihi2")
    with pytest.raises(ValueError, match="count 'state_slots' missing"):
        estimate({"SynapticOperations": {"Dense": 1.0}}, "cmos45_fp32", execution="dense")
    with pytest.raises(ValueError, match="label"):
        EnergyEstimate("p", "P", "c", "event", False, 1.0, {"x": 1.0}, label="measured")
    with pytest.raises(ValueError, match="sums to"):
        EnergyEstimate("p", "P", "c", "event", False, 2.0, {"x": 1.0})


def test_format_energy():
    assert format_energy(231.9) == "232 pJ"
    assert format_energy(1774.85) == "1.77 nJ"
    assert format_energy(38790.0) == "38.8 nJ"
    assert format_energy(10.96) == "11.0 pJ"
    assert format_energy(999.99) == "1.00 nJ"
    assert math.isclose(float(format_energy(4.6).split()[0]), 4.6)
