"""The main job end to end in its --quick form, in a folder given relative to the working directory."""

import json
import os
import re
import subprocess
import sys

import pytest

from surnn_neuro.hw_targets.lava._mp import lava_missing_reason


def check_report_can_be_trusted(out, summary):
    """The report says it is a smoke run, lists every run's settings and names every accuracy's subset."""
    report = (out / "report.md").read_text()
    assert report.startswith("# surnn-neuro main job: sugru vs dense gru on digits (smoke run, --quick)")
    assert "## Smoke run (--quick): not a result" in report and "**This is a smoke run**" in report
    # quick: H = 16, 2 epochs, 256 training samples of the 1437 digits train split (1797 − 360 test)
    assert "H = 16, 2 epochs, 256 of 1437 training samples (digits)" in report
    assert ("| run | stage | task | model | options | H | layers | epochs | batch | lr | λ | seed | T "
            "| training samples |") in report
    for run, stage, lam in (("runs/digits-sugru", "train", "0"), ("runs/digits-gru", "train", "0"),
                            ("runs/digits-sugru-lambda0.01", "energy", "0.01"),
                            ("runs/digits-sugru-lambda0.03", "energy", "0.03")):
        assert re.search(rf"\| {re.escape(run)} \| {stage} \| digits \| \w+ \| – \| 16 \| 1 \| 2 \| 32 \| 0.005 "
                         rf"\| {re.escape(lam)} \| 0 \| 64 \| 256 of 1437 \|", report), run
    # every table column of accuracies names its subset: the train table scores all 360 test
    # samples, the simulator stages the first 64 (--quick), event-digits its first 64
    heads = [ln for ln in report.splitlines() if ln.startswith("| ") and "accuracy" in ln]
    assert heads and all(re.search(r"accuracy[ %]*\((all \d+|first \d+ of \d+) test samples\)", h) for h in heads)
    assert "accuracy % (all 360 test samples)" in report and "accuracy % (first 64 of 360 test samples)" in report
    assert summary["train"]["accuracy_subset"] == "all 360 test samples"
    assert (summary["spikes"]["accuracy_subset"] == summary["energy"]["accuracy_subset"]
            == "first 64 of 360 test samples")
    # energy headlines: the event-driven gru first, the dense ratio second
    for text in (report, (out / "events" / "report.md").read_text()):
        line = next(ln for ln in text.splitlines() if ln.startswith("**Headline"))
        assert line.index("the energy of gru (event-driven)") < line.index("Against gru (dense execution)")
    # event-digits input is sparse: the event-driven gru alone is far below its dense execution
    assert "mostly measures input sparsity" in summary["events"]["headline"]
    events = (out / "events" / "report.md").read_text()
    assert "**This is a smoke run**" in events and "| events/runs/sugru | events | event-digits | sugru |" in events
    return report


def run_quick(tmp_path):
    """``run --quick --out demo`` in ``tmp_path``: the completed process, its folder and its summary."""
    r = subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "run", "--quick", "--out", "demo"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "demo"
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["train", "spikes", "energy", "lava", "events"]
    return r, out, summary


@pytest.mark.lava
def test_main_job_quick_writes_every_stage(tmp_path):
    r, out, summary = run_quick(tmp_path)
    # every backend saw the same gates and counts as the torch model / the reference
    assert summary["spikes"]["all_agree"] is True
    assert summary["lava"]["backends"]["lava"]["gates_match_reference"] is True
    assert summary["lava"]["backends"]["lava"]["max_abs_output_diff"] < 1e-9
    assert all(m["backends_agree"] for m in summary["events"]["models"].values())
    for rel in ("report.md", "update_raster.png", "energy_bars.png", "train_table.md",
                "graphs/digits-sugru.h5", "traces/digits-gru-reference.h5",
                "lava/digits-sugru/network.pickle", "lava/digits-sugru/summary.md", "events/report.md"):
        assert (out / rel).is_file() and (out / rel).stat().st_size > 0, rel
    report = (out / "report.md").read_text()
    assert "](energy_bars.png)" in report and "estimate" in report
    assert "agreement check: PASS" in r.stdout
    check_report_can_be_trusted(out, summary)
    # Lava: the subset it ran on, and a deploy summary consistent with itself (T, synapses)
    assert summary["lava"]["accuracy_subset"] == "first 16 of 360 test samples"
    assert "accuracy % (first 16 of 360 test samples)" in report
    dep = json.loads((out / "lava/digits-sugru/summary.json").read_text())
    md = (out / "lava/digits-sugru/summary.md").read_text()
    nnz = [c["nnz"] for c in dep["connections"] if "(into Dense)" not in c["kind"] and c.get("nnz") is not None]
    assert dep["n_steps"] == 64 and "T = 64" in md
    assert f"| **total** | | | | **{sum(nnz)}** | | |" in md and dep["resources"]["synapses_total"] == sum(nnz)


@pytest.mark.skipif(lava_missing_reason() is None, reason="Lava is installed: the full run is tested instead")
def test_main_job_quick_without_lava_skips_that_stage(tmp_path):
    r, out, summary = run_quick(tmp_path)
    assert "lava-nc 0.10.0" in summary["lava"]["skipped"] and "Python 3.10" in summary["lava"]["skipped"]
    assert summary["spikes"]["all_agree"] is True
    report = check_report_can_be_trusted(out, summary)
    assert "## Lava: skipped" in report and not (out / "lava").exists()


def test_lava_stage_asked_for_without_lava_is_one_line(tmp_path):
    # SURNN_NEURO_NO_LAVA makes Lava count as absent (as on Python 3.12): asking for the stage
    # fails before any work, in one line naming what it needs
    env = dict(os.environ, SURNN_NEURO_NO_LAVA="1")
    r = subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "run", "--stages", "lava", "--out", "demo"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--stages lava" in r.stderr and "lava-nc 0.10.0" in r.stderr and "Python 3.10" in r.stderr
    assert not (tmp_path / "demo").exists()
