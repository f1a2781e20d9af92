"""The main job end to end in its --quick form, in a folder given relative to the working directory."""

import json
import subprocess
import sys


def test_main_job_quick_writes_every_stage(tmp_path):
    r = subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "run", "--quick", "--out", "demo"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "demo"
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["train", "spikes", "energy", "lava", "events"]
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
