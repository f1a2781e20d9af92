"""What makes a report trustworthy (issue 13, deliverable 6): subsets named, settings listed,
smoke runs marked, energy against the event-driven reference first, a readable Pareto plot."""

import itertools
import json

import pytest
from matplotlib.text import Text

from surnn_neuro.reports.plots import _snap_log_limits, pareto_figure
from surnn_neuro.reports.report import energy_sections, write_report
from surnn_neuro.reports.run import header_sections, settings_table, smoke_notice, subset_label
from surnn_neuro.reports.tables import energy_headline, energy_table, markdown_table

# cmos45_fp32 on the conftest records (test_reports_tables.py derives them):
#   gru event 477.6 pJ, gru dense 566.4 pJ, sugru λ=0.1 249.6 pJ, sugru λ=1 135.6 pJ
#   sugru λ=0.1 / event gru = 249.6 / 477.6 = 0.52261 -> "0.523×"; / dense = 0.44068 -> "0.441×"
#   sugru λ=1   / event gru = 135.6 / 477.6 = 0.28392 -> "0.284×"; / dense = 0.23941 -> "0.239×"
#   dense gru / event gru = 566.4 / 477.6 = 1.18593 -> "1.19×"


def test_event_ratio_in_table_and_markdown(records):
    t = energy_table(records, profiles=["cmos45_fp32"], accuracy_label="first 3 of 9 test samples")
    rows = {r["label"]: r for r in t["rows"]}
    assert rows["sugru (λ=0.1)"]["ratio_to_event_reference"]["cmos45_fp32"] == pytest.approx(249.6 / 477.6)
    assert rows["gru"]["ratio_to_event_reference"]["cmos45_fp32"] == pytest.approx(1.0)
    assert t["event_reference"]["energy_pJ"]["cmos45_fp32"] == pytest.approx(477.6)
    md = markdown_table(t, event_ratio=True).splitlines()
    assert "ratio to gru (event-driven), then to gru (dense execution)" in md[0]
    assert md[2] == "| model | accuracy (first 3 of 9 test samples) | update rate | 45 nm CMOS, fp32 (Horowitz) |"
    assert md[5] == "| sugru (λ=0.1) | 88.0% | 50.0% | 250 pJ (0.523× event; 0.441× dense) |"
    assert md[6] == "| sugru (λ=1) | 80.0% | 25.0% | 136 pJ (0.284× event; 0.239× dense) |"
    assert md[7] == "| gru (dense execution) | 90.0% | 100.0% | 566 pJ (1.19× event; 1.00× dense) |"
    json.dumps(t)


def _counts(macs, acs, updates, inactive, dense, rate):
    return {"SynapticOperations": {"Effective_MACs": macs, "Effective_ACs": acs, "Dense": dense},
            "events": 0.0, "neuron_updates": updates, "inactive_updates": inactive, "state_slots": 8.0,
            "synaptic_ops": macs + acs, "weight_fetches": macs + acs, "dense_weight_fetches": dense,
            "update_rate": rate}


def test_headline_event_first_and_what_the_dense_ratio_measures(records):
    # dense-ish input (conftest): the event-driven gru costs 477.6 / 566.4 = 0.843× its dense run
    t = energy_table(records, profiles=["cmos45_fp32"], accuracy_label="all 9 test samples")
    h = energy_headline(t, input_density=1.0)
    assert h.index("0.523× the energy of gru (event-driven)") < h.index("gru (dense execution) it is 0.441×")
    assert "part of that second ratio is input sparsity" in h and "costs 0.843× its dense execution" in h
    assert "(all 9 test samples)" in h and "100 % of the input slots" in h
    # sparse event input: 10 input ACs against 1000 dense MACs. cmos45_fp32 (AC 0.9, MAC 4.6, update 29.4):
    #   gru event  10·0.9 + 100·4.6 + 8·29.4 = 9 + 460 + 235.2 = 704.2;  dense 1000·4.6 + 8·29.4 = 4835.2
    #   sugru      10·0.9 +  25·4.6 + 2·29.4 = 9 + 115 +  58.8 = 182.8
    #   -> 182.8 / 704.2 = 0.25959 ("0.260×") first; 182.8 / 4835.2 = 0.037806 ("0.0378×") second;
    #      the gru alone 704.2 / 4835.2 = 0.14564 ("0.146×") of its dense run: mostly input sparsity
    recs = [{"model": "gru", "counts": _counts(100.0, 10.0, 8.0, 0.0, 1000.0, 1.0), "accuracy": 0.6},
            {"model": "sugru", "counts": _counts(25.0, 10.0, 2.0, 6.0, 1000.0, 0.25), "accuracy": 0.65}]
    h = energy_headline(energy_table(recs, profiles=["cmos45_fp32"]), input_density=0.0125)
    assert h.index("**0.260× the energy of gru (event-driven)**") < h.index("0.0378×")
    assert "mostly measures input sparsity, not the gate" in h and "costs 0.146× its dense execution" in h
    assert "1.25 % of the input slots" in h
    with pytest.raises(ValueError, match="unknown row 'x'"):
        energy_headline(energy_table(recs, profiles=["cmos45_fp32"]), row="x")
    with pytest.raises(ValueError, match="no reference"):
        energy_headline(energy_table(recs, profiles=["cmos45_fp32"], reference=None))


def test_energy_sections_with_headline_and_subset(records, tmp_path):
    secs = energy_sections(tmp_path, records, profiles=["cmos45_fp32"], headline=True,
                           accuracy_label="first 3 of 9 test samples", input_density=0.5)
    text = write_report(tmp_path, *secs).read_text()
    body = secs[0].body
    assert body.startswith("**Headline (45 nm CMOS, fp32 (Horowitz), estimate):** sugru (λ=0.1) needs **0.523×")
    assert "| accuracy (first 3 of 9 test samples) |" in text and "(0.523× event; 0.441× dense)" in text
    assert "(0.523× event; 0.441× dense)" in (tmp_path / "energy_table.md").read_text()
    assert json.loads((tmp_path / "energy_table.json").read_text())["accuracy_label"] == "first 3 of 9 test samples"


def test_subset_and_settings_text():
    assert subset_label(64, 360) == "first 64 of 360 test samples" and subset_label(5, 5) == "all 5 test samples"
    with pytest.raises(ValueError, match="0 < n <= total"):
        subset_label(0, 3)
    run = {"run": "runs/x", "stage": "energy", "task": "digits", "model": "sugru", "hidden": 16, "layers": 1,
           "epochs": 2, "batch_size": 32, "lr": 5e-3, "budget": 0.01, "seed": 3, "seq_len": 64, "n_train": 256,
           "n_train_total": 1437, "options": {"duty": 0.2, "readout": "mean"}}
    lines = settings_table([run]).splitlines()
    assert lines[0] == ("| run | stage | task | model | options | H | layers | epochs | batch | lr | λ | seed | T "
                        "| training samples |")
    assert lines[2] == ("| runs/x | energy | digits | sugru | duty=0.2, readout=mean | 16 | 1 | 2 | 32 | 0.005 | "
                        "0.01 | 3 | 64 | 256 of 1437 |")
    with pytest.raises(ValueError, match="lacks lr"):
        settings_table([{k: v for k, v in run.items() if k != "lr"}])
    note = smoke_notice([run], {"energy": (64, 360), "lava": (16, 360)}).body
    assert note.startswith("**This is a smoke run** (`surnn-neuro run --quick`): H = 16, 2 epochs, 256 of 1437 "
                           "training samples (digits), accuracies on as few as 16 test samples")
    secs = header_sections([run], {"energy": (64, 360)}, quick=True, stages=["energy"],
                           all_stages=["train", "energy"])
    assert [s.title for s in secs] == ["Smoke run (--quick): not a result", "Settings"]
    assert "- energy: first 64 of 360 test samples" in secs[1].body
    assert "Stages in this report: energy (of train, energy)." in secs[1].body
    assert [s.title for s in header_sections([run], {}, quick=False, stages=["train"], all_stages=["train"])] == [
        "Settings"]
    assert header_sections([], {}, quick=True, stages=[], all_stages=[]) == []


def test_snap_log_limits_end_on_ticks():
    # data 4.54e5 .. 1.32e6 with a 4 % pad -> 4.37e5 .. 1.37e6: the ticks at or beyond are 4e5 and 2e6
    assert _snap_log_limits(4.54e5, 1.32e6, tuple(range(1, 10))) == (400000.0, 2000000.0)
    # on the 1-2-5 grid: 2e5 .. 2e6; exactly on a tick after the pad: 1e3 / 1.04 -> 900
    assert _snap_log_limits(4.54e5, 1.32e6, (1.0, 2.0, 5.0)) == (200000.0, 2000000.0)
    assert _snap_log_limits(1000.0, 1000.0, tuple(range(1, 10))) == (900.0, 2000.0)


def test_pareto_labels_reference_and_ticks():
    # the quick main job's numbers: three λ points within 2 % in energy at one accuracy (the labels
    # overprinted before), the dense gru star past the last tick, an unlabelled reference line
    pts = [{"model": "sugru", "lambda": lam, "energy_pJ": e, "accuracy": 0.125}
           for lam, e in ((0.0, 5.133e5), (0.01, 4.60e5), (0.03, 4.54e5))]
    refs = [{"label": "gru (dense execution)", "energy_pJ": 1.3192e6, "accuracy": 0.1875},
            {"label": "gru (event-driven)", "energy_pJ": 1.5237e6, "accuracy": 0.1875}]
    fig = pareto_figure(pts, reference=refs, profile_label="Loihi", accuracy_label="first 64 of 360 test samples")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text().startswith("λ=")]
    assert sorted(t.get_text() for t in labels) == ["λ=0", "λ=0.01", "λ=0.03"]
    boxes = [Text.get_window_extent(t, renderer) for t in labels]
    axbox = ax.get_window_extent(renderer)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    for b in boxes:
        assert axbox.x0 <= b.x0 and b.x1 <= axbox.x1 and axbox.y0 <= b.y0 and b.y1 <= axbox.y1
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "gru accuracy (18.8 %)" in legend  # the dotted line says what it is
    assert "gru (dense execution)" in legend and "gru (event-driven)" in legend
    # every marker between two labelled ticks, inside the axes
    lo, hi = ax.get_xlim()
    labelled = [v for v, t in zip(ax.get_xticks(), ax.get_xticklabels()) if t.get_text() and lo <= v <= hi]
    energies = [p["energy_pJ"] for p in pts] + [r["energy_pJ"] for r in refs]
    assert lo <= min(labelled) <= min(energies) and max(energies) <= max(labelled) <= hi
    assert "first 64 of 360 test samples" in ax.get_ylabel()
    # visible tick labels do not collide
    tick_boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    for a, b in itertools.combinations(tick_boxes, 2):
        assert not a.overlaps(b)
