"""Energy tables against hand-derived values (records in conftest.py)."""

import json

import pytest

from surnn_neuro.metrics.counts import inference_counts
from surnn_neuro.reports.tables import energy_table, format_ratio, markdown_table, write_energy_table

# cmos45_fp32 (AC 0.9, MAC 4.6, active 29.4, inactive 0, spike 0):
#   gru event:   24·0.9 + 48·4.6 + 8·29.4 = 21.6 + 220.8 + 235.2 = 477.6
#   gru dense:   72·4.6 + 8·29.4 = 331.2 + 235.2 = 566.4   (the reference)
#   sugru λ=0.1: 21.6 + 24·4.6 + 4·29.4 = 21.6 + 110.4 + 117.6 = 249.6 -> ratio 249.6/566.4 = 0.44068
#   sugru λ=1:   21.6 + 12·4.6 + 2·29.4 = 21.6 + 55.2 + 58.8 = 135.6   -> ratio 0.23941
# loihi1_table2 (synop 23.6, 81/52, spike 1.7):
#   sugru λ=1:   6·1.7 + 36·23.6 + 2·81 + 6·52 = 10.2 + 849.6 + 162 + 312 = 1333.8
#   gru dense:   72·23.6 + 8·81 = 1699.2 + 648 = 2347.2 -> ratio 0.56825


def test_energy_table_values(records):
    t = energy_table(records, profiles=["cmos45_fp32", "loihi1_table2"])
    assert t["label"] == "estimate" and t["units"] == "pJ per inference"
    rows = {r["label"]: r for r in t["rows"]}
    assert list(rows) == ["gru", "sugru (λ=0.1)", "sugru (λ=1)"]
    assert rows["gru"]["energy_pJ"]["cmos45_fp32"] == pytest.approx(477.6)
    assert rows["sugru (λ=0.1)"]["energy_pJ"]["cmos45_fp32"] == pytest.approx(249.6)
    assert rows["sugru (λ=1)"]["energy_pJ"]["cmos45_fp32"] == pytest.approx(135.6)
    assert rows["sugru (λ=1)"]["energy_pJ"]["loihi1_table2"] == pytest.approx(1333.8)
    assert t["reference"]["energy_pJ"] == pytest.approx({"cmos45_fp32": 566.4, "loihi1_table2": 2347.2})
    assert rows["sugru (λ=0.1)"]["ratio_to_reference"]["cmos45_fp32"] == pytest.approx(249.6 / 566.4)
    assert rows["sugru (λ=1)"]["update_rate"] == 0.25
    json.dumps(t)  # JSON-ready


def test_markdown_table_formatting(records):
    md = markdown_table(energy_table(records, profiles=["cmos45_fp32", "loihi1_table2"]))
    lines = md.splitlines()
    assert lines[0].startswith("**Estimated energy per inference (estimates; event-driven execution)")
    assert lines[2] == ("| model | accuracy | update rate | 45 nm CMOS, fp32 (Horowitz) | "
                        "Loihi 1 (Table 2; Loihi 2 proxy)† |")
    assert lines[3] == "|---|---:|---:|---:|---:|"
    # gru on fp32: 477.6 pJ -> "478 pJ", ratio 477.6/566.4 = 0.84322; gru event on loihi:
    # 12·1.7 + 72·23.6 + 8·81 = 20.4 + 1699.2 + 648 = 2367.6 -> "2.37 nJ", ratio 1.00869 -> "1.01×"
    assert lines[4] == "| gru | 90.0% | 100.0% | 478 pJ (0.843×) | 2.37 nJ (1.01×) |"
    # sugru λ=0.1 on loihi: 8·1.7 + 48·23.6 + 4·81 + 4·52 = 13.6 + 1132.8 + 324 + 208 = 1678.4
    #   -> "1.68 nJ", ratio 1678.4 / 2347.2 = 0.71507 -> "0.715×"
    assert lines[5] == "| sugru (λ=0.1) | 88.0% | 50.0% | 250 pJ (0.441×) | 1.68 nJ (0.715×) |"
    assert lines[6] == "| sugru (λ=1) | 80.0% | 25.0% | 136 pJ (0.239×) | 1.33 nJ (0.568×) |"
    assert lines[7] == "| gru (dense execution) | 90.0% | 100.0% | 566 pJ (1.00×) | 2.35 nJ (1.00×) |"
    assert "† proxy" in md and "Davies" in md and "Horowitz" in md


def test_counts_records_and_no_reference(records):
    recs = [{"model": r["model"], "lambda": r.get("lambda"), "counts": inference_counts(r["trace"])}
            for r in records]
    t = energy_table(recs, profiles=["cmos45_int8"], reference=None)
    assert t["reference"] is None and t["rows"][0]["ratio_to_reference"] is None
    # int8: gru event 24·0.03 + 48·0.23 + 8·1.44 = 0.72 + 11.04 + 11.52 = 23.28
    assert t["rows"][0]["energy_pJ"]["cmos45_int8"] == pytest.approx(23.28)
    md = markdown_table(t)
    assert "| gru | – | 100.0% | 23.3 pJ |" in md and "‡ constants not confirmed" in md


def test_memory_variant(records):
    t = energy_table(records, profiles=["cmos45_fp32"], memory=True)
    # gru event + 72 synaptic ops · 5 pJ = 477.6 + 360 = 837.6; dense + 72·5 = 566.4 + 360 = 926.4
    assert t["rows"][0]["energy_pJ"]["cmos45_fp32"] == pytest.approx(837.6)
    assert t["reference"]["energy_pJ"]["cmos45_fp32"] == pytest.approx(926.4)
    assert "with one weight fetch per synaptic op" in markdown_table(t)


def test_errors(records):
    with pytest.raises(ValueError, match="exactly one record with model 'gru'.*found 0; models: sugru"):
        energy_table(records[1:])
    with pytest.raises(ValueError, match="accuracy is a fraction"):
        energy_table([{**records[0], "accuracy": 90.0}])
    with pytest.raises(ValueError, match="duplicate row labels"):
        energy_table(records + [records[1]])
    with pytest.raises(ValueError, match="unknown keys"):
        energy_table([{**records[0], "acc": 1}])
    with pytest.raises(ValueError, match="needs a 'trace' or 'counts'"):
        energy_table([{"model": "gru"}])


def test_write_energy_table(records, tmp_path):
    t = energy_table(records, profiles=["spinnaker2"])
    md, js = write_energy_table(t, tmp_path / "e.md", tmp_path / "e.json")
    assert md.read_text().startswith("**Estimated energy")
    assert json.loads(js.read_text())["rows"][0]["label"] == "gru"


def test_format_ratio():
    assert [format_ratio(x) for x in (0.0948, 0.44068, 1.0, 1.00869, 25.0, 123.4)] == [
        "0.0948×", "0.441×", "1.00×", "1.01×", "25.0×", "123×"]
