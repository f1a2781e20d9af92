"""Norse simulator: the event graph as a Norse-style network (:mod:`surnn_neuro.converters.to_norse`).

Gate spikes come from Norse's threshold functions (``norse.torch.functional.threshold``) inside the
network's gate step functions; outputs from its sigma-accumulated readout; counts from
:func:`surnn_neuro.ir.counting.count_trace_fields`. Runs on any torch device.

Spiking (LIF / CubaLIF) graphs run on Norse's ``li_box_feed_forward_step`` and
``lif_box_feed_forward_step``, the step functions Norse runs NIR's CubaLIF and LIF with
(``NorseSpikingLayer``).
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import Trace
from surnn_neuro.simulators.snntorch_backend import run_network


def run(graph: EventGraph, x: np.ndarray, dtype=np.float64, device="cpu") -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)`` with Norse; Trace with backend ``"norse"``.

    ``dtype``: float64 (default; agrees with the reference simulator to rounding) or float32.
    Outputs ``(B, O)`` (readout ``last``/``mean``) or ``(B, T, O)`` (``all``), float64.
    """
    from surnn_neuro.converters.to_norse import to_norse

    return run_network(graph, x, to_norse, "norse", dtype, device)
