"""Shared helpers for the Lava target tests (Lava runs fork ~10 OS processes each: keep them few and short)."""

import numpy as np

from surnn_neuro.ir import COUNT_FIELDS


def assert_same_events(a, b, names):
    """Gate spikes and every count identical (docs/semantics.md §4)."""
    for name in names:
        np.testing.assert_array_equal(a.gate_spikes[name], b.gate_spikes[name], err_msg=f"gate spikes {name}")
    for field in COUNT_FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
