"""energy_report on a hand-built trace; the trace reader is replaced by a stub module."""

import json
import sys
import types

import pytest

from surnn_neuro.errors import UserError
from surnn_neuro.metrics.cli import energy_report, resolve_profiles


@pytest.fixture
def fake_reader(monkeypatch, tiny_trace):
    seen = []

    def read_trace(path):
        seen.append(str(path))
        if str(path).endswith("bad.h5"):
            raise UserError(f"{path}: not a trace file")
        return tiny_trace

    mod = types.ModuleType("surnn_neuro.ir.io")
    mod.read_trace = read_trace
    monkeypatch.setitem(sys.modules, "surnn_neuro.ir.io", mod)
    return seen


def test_text_report(fake_reader):
    text = energy_report("run/trace.h5")
    assert fake_reader == ["run/trace.h5"]
    assert "ESTIMATES, not measurements" in text
    assert "SynapticOperations.Effective_ACs" in text and "ActivationSparsity" in text
    # loihi event 1774.85 pJ, dense 2610 pJ; cmos45_fp32 event 231.9 pJ (test_metrics_energy.py)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("loihi1_table2") and "nJ" in ln)
    assert "1.77 nJ" in line and "2.61 nJ" in line and "proxy" in line
    assert "232 pJ" in text
    assert "Davies" in text and "Horowitz" in text


def test_json_report_with_memory(fake_reader, tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"name": "mine", "citation": "mine", "e_ac": 1, "e_mac": 1,
                             "e_neuron_update_active": 1, "e_neuron_update_inactive": 1, "e_spike": 1}))
    out = json.loads(energy_report("t.h5", profiles=["cmos45_fp32"], profile_files=[f], memory=True, as_json=True))
    assert out["label"] == "estimate"
    assert [e["profile"] for e in out["estimates"]] == ["cmos45_fp32", "mine"]
    fp = out["estimates"][0]
    assert fp["event"]["total_pJ"] == pytest.approx(231.9)
    assert fp["event_memory"]["total_pJ"] == pytest.approx(516.9)
    assert fp["dense_memory"]["total_pJ"] == pytest.approx(1040.4)
    assert all(fp[k]["label"] == "estimate" for k in ("event", "dense", "event_memory", "dense_memory"))
    # mine: 9.5 + 36 + 21 + 3.5 + 2.5 = 72.5
    assert out["estimates"][1]["event"]["total_pJ"] == 72.5
    assert out["counts_per_inference"]["SynapticOperations"]["Dense"] == 90.0


def test_errors(fake_reader, tmp_path):
    with pytest.raises(UserError, match="unknown energy profile 'tpu'; known:"):
        energy_report("t.h5", profiles=["tpu"])
    with pytest.raises(UserError, match="bad.h5: not a trace file"):
        energy_report("bad.h5")
    with pytest.raises(UserError, match="given twice"):
        resolve_profiles(["cmos45_fp32", "cmos45_fp32"])
    assert [p.name for p in resolve_profiles("spinnaker2")] == ["spinnaker2"]
