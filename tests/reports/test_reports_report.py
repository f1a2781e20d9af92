"""report.md links its figures by relative path; the energy report writes every artefact."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from surnn_neuro.reports.report import ReportFigure, Section, render_report, write_energy_report, write_report


def test_write_report_links_relative(tmp_path):
    (tmp_path / "figs").mkdir()
    fig = tmp_path / "figs" / "a.png"
    fig.write_bytes(b"\x89PNG")
    out = write_report(tmp_path, Section("Results", "Accuracy 90.0%.", figures=(ReportFigure(fig, "A plot."),)),
                       Section("More", figures=("figs/a.png",)), title="Run 1")
    assert out == tmp_path / "report.md"
    assert out.read_text() == (
        "# Run 1\n\n## Results\n\nAccuracy 90.0%.\n\n![a](figs/a.png)\n\n*A plot.*\n\n"
        "## More\n\n![a](figs/a.png)\n"
    )


def test_missing_figure_and_bad_section(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        render_report(tmp_path, Section("x", figures=("nope.png",)))
    with pytest.raises(ValueError, match="Section.title"):
        Section("")
    with pytest.raises(ValueError, match="expected Section"):
        render_report(tmp_path, "text")


def test_energy_report(records, tmp_path):
    out = write_energy_report(tmp_path, records, profiles=["cmos45_fp32", "loihi1_table2"])
    text = out.read_text()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["energy_bars.png", "energy_table.json", "energy_table.md", "pareto_cmos45_fp32.png",
                     "pareto_loihi1_table2.png", "report.md", "update_raster.png"]
    for n in names:
        assert (tmp_path / n).stat().st_size > 0
        if n.endswith(".png"):
            assert f"]({n})" in text
    assert "**estimates**" in text and "| sugru (λ=1) | 80.0% | 25.0% | 136 pJ (0.239×)" in text
    assert json.loads((tmp_path / "energy_table.json").read_text())["label"] == "estimate"


def test_reports_package_import_is_light():
    # matplotlib is imported by the plotting functions only (torch: tests/test_architecture.py)
    code = "import sys, surnn_neuro.reports; sys.exit(1 if 'matplotlib' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_energy_report_in_a_relative_folder(records, tmp_path, monkeypatch):
    # the main job passes a run folder relative to the working directory (runs/demo): figure links
    # must not be joined with it twice
    monkeypatch.chdir(tmp_path)
    out = write_energy_report(Path("runs") / "demo", records, profiles=["cmos45_fp32"])
    text = out.read_text()
    assert "](energy_bars.png)" in text and (tmp_path / "runs" / "demo" / "energy_bars.png").is_file()
