"""energy_report on a real trace file (skipped until surnn_neuro.ir.io provides write_trace)."""

import json

import pytest

from surnn_neuro.errors import UserError
from surnn_neuro.metrics.cli import energy_report

io = pytest.importorskip("surnn_neuro.ir.io")


def test_round_trip_through_hdf5(tiny_trace, tmp_path):
    if not hasattr(io, "write_trace"):
        pytest.skip("surnn_neuro.ir.io.write_trace not available yet")
    path = tmp_path / "trace.h5"
    io.write_trace(tiny_trace, path)
    out = json.loads(energy_report(path, profiles=["cmos45_fp32"], as_json=True))
    # 36·0.9 + 21·4.6 + 3.5·29.4 = 231.9 (test_metrics_energy.py)
    assert out["estimates"][0]["event"]["total_pJ"] == pytest.approx(231.9)
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    with pytest.raises(UserError, match="bad.h5"):
        energy_report(bad)
