"""Figures are written atomically as non-empty PNGs of the stated pixel size."""

import struct

import numpy as np
import pytest

from surnn_neuro.reports.plots import (
    DPI, FIGSIZE, pareto_front, plot_energy_bars, plot_learning_curves, plot_pareto, plot_update_raster,
    raster_figsize,
)


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_energy_bars(tmp_path):
    e = {"Loihi 1": {"sugru": 2e6, "gru (dense)": 2e7}, "45 nm fp32": {"sugru": 2e5, "gru (dense)": 5e6}}
    out = plot_energy_bars(e, tmp_path / "sub" / "bars.png", reference="gru (dense)")
    assert out == tmp_path / "sub" / "bars.png" and out.stat().st_size > 10_000
    assert png_size(out) == (FIGSIZE[0] * DPI, FIGSIZE[1] * DPI) == (1200, 750)
    assert [p.name for p in out.parent.iterdir()] == ["bars.png"]  # no temporary file left
    with pytest.raises(ValueError, match="must be > 0 for a log axis"):
        plot_energy_bars({"p": {"m": 0.0}}, tmp_path / "x.png")


def test_pareto(tmp_path):
    pts = [{"lambda": lam, "energy_pJ": e, "accuracy": a, "model": "sugru"}
           for lam, e, a in [(0.01, 2e6, 0.9), (0.1, 8e5, 0.88), (1, 3e5, 0.8), (3, 4e5, 0.78)]]
    out = plot_pareto(pts, tmp_path / "pareto.png",
                      reference={"label": "gru (dense)", "energy_pJ": 4e6, "accuracy": 0.91}, profile_label="x")
    assert png_size(out) == (1200, 750) and out.stat().st_size > 10_000
    with pytest.raises(ValueError, match="lacks 'accuracy'"):
        plot_pareto([{"lambda": 1, "energy_pJ": 1}], tmp_path / "y.png")


def test_pareto_front():
    # energies 3e5 (0.8), 4e5 (0.78, dominated), 8e5 (0.88), 2e6 (0.9)
    pts = [{"energy_pJ": 2e6, "accuracy": 0.9}, {"energy_pJ": 8e5, "accuracy": 0.88},
           {"energy_pJ": 3e5, "accuracy": 0.8}, {"energy_pJ": 4e5, "accuracy": 0.78}]
    assert pareto_front(pts) == [2, 1, 0]
    # equal energy: only the more accurate one
    assert pareto_front([{"energy_pJ": 1, "accuracy": 0.5}, {"energy_pJ": 1, "accuracy": 0.6}]) == [1]


def test_update_raster(tmp_path):
    rng = np.random.default_rng(1)
    g = {"l1": rng.random((2, 30, 8)) < 0.3, "l2": rng.random((30, 4)) < 0.5}
    out = plot_update_raster(g, tmp_path / "raster.png", sample=1)
    w, h = raster_figsize(2)
    assert png_size(out) == (round(w * DPI), round(h * DPI)) == (1200, 960)
    one = plot_update_raster(g, tmp_path / "r1.png", layers=["l1"])
    assert png_size(one) == (1200, 570)
    with pytest.raises(ValueError, match="unknown layer 'l3'; known: l1, l2"):
        plot_update_raster(g, tmp_path / "r2.png", layers=["l3"])
    with pytest.raises(ValueError, match="sample 5 out of range"):
        plot_update_raster(g, tmp_path / "r3.png", sample=5)


def test_learning_curves(tmp_path):
    curves = {"sugru": [{"epoch": e, "value": 0.17 / (1 + e), "update_rate": 0.1} for e in range(5)],
              "gru": [{"epoch": e, "value": 0.17 * 0.5 ** e, "update_rate": 1.0} for e in range(3)]}
    out = plot_learning_curves(curves, tmp_path / "curves.png", threshold=0.01, baseline=0.1667)
    # 8 in wide; 7 in tall plus 0.22 in per legend row: 4 entries (2 curves, threshold, baseline)
    # in two columns are 2 rows → 7.44 in; at 150 dpi: 1200 × 1116 px
    assert png_size(out) == (1200, 1116) and out.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]
    with pytest.raises(ValueError, match="curve 'x' is empty"):
        plot_learning_curves({"x": []}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="'x' has value 0.0; must be > 0"):
        plot_learning_curves({"x": [{"epoch": 0, "value": 0.0, "update_rate": 1.0}]}, tmp_path / "z.png")
    with pytest.raises(ValueError, match="lacks 'update_rate'"):
        plot_learning_curves({"x": [{"epoch": 0, "value": 1.0}]}, tmp_path / "u.png")
    assert not (tmp_path / "e.png").exists() and not (tmp_path / "z.png").exists()
