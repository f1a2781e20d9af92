"""Lava backends ("lava": floating_pt models, "lava-fixed": bit-accurate Loihi-2-style fixed point).

``run(graph, x)`` builds the Lava process graph of ``graph`` for the whole batch
(:func:`surnn_neuro.hw_targets.lava.network.build_network`), runs it under
``Loihi2SimCfg(select_tag="floating_pt" | "fixed_pt")`` and returns the same
:class:`~surnn_neuro.ir.trace.Trace` as the other backends. The samples of a batch run back to back in
one Lava run (each process resets itself at the first step of a sample), so the start-up of Lava's
OS processes (about a second) is paid once per call, not per sample.

Latency: each feed-forward Dense delays by one step; layer ``l`` runs ``l`` steps behind the input
and the readout ``L + 1``, the run lasts ``B·T + L + 1`` steps and every process aligns its gate
schedule and its count/record slots to its depth (``surnn_neuro.hw_targets.lava.timing``). The
outputs are read at the readout's depth; no tolerance absorbs the latency.

Fixed point (``run_fixed``): outputs are de-quantised to float64; inputs are quantised with
``FixedPointConfig.input_range`` (default max|x| of the batch), see docs/lava.md.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import Trace


def _lava():
    try:
        from surnn_neuro.hw_targets.lava import network, runner
    except ImportError as e:  # pragma: no cover - lava-nc is a dependency on Python 3.10
        raise UserError(f"the Lava backend needs lava-nc 0.10.0 on Python 3.10 ({e}); "
                        "install it with: pip install 'lava-nc==0.10.0' (Python >=3.10,<3.11, numpy<2)") from e
    return network, runner


def run(graph: EventGraph, x: np.ndarray, fixed_point: bool = False, config=None, progress: bool = False,
        timeout: float | None = None) -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)`` as a Lava process graph; Trace backend "lava" or
    "lava-fixed". ``config``: :class:`~surnn_neuro.hw_targets.lava.fixed_point.FixedPointConfig`
    (fixed point only); ``progress``: tqdm bar over Lava steps; ``timeout`` (s): abort a stalled run.
    """
    if graph.spiking:  # LIF / CubaLIF layers imported from NIR: Lava's own LIF processes
        if fixed_point:
            raise UserError("backend lava-fixed: spiking (LIF/CubaLIF) layers have no fixed-point "
                            "mapping yet; use --backend lava")
        from surnn_neuro.hw_targets.lava.spiking import run_spiking_lava

        return run_spiking_lava(graph, x)
    network, runner = _lava()
    x = graph.check_input(x)
    with runner.quiet_lava_logging():
        net = network.build_network(graph, x, fixed_point=fixed_point, config=config)
    records = runner.execute(net, progress=progress, timeout=timeout)
    return runner.assemble_trace(net, records)


def run_fixed(graph: EventGraph, x: np.ndarray, config=None, progress: bool = False,
              timeout: float | None = None) -> Trace:
    """:func:`run` with the bit-accurate ``fixed_pt`` models (Trace backend "lava-fixed")."""
    return run(graph, x, fixed_point=True, config=config, progress=progress, timeout=timeout)


__all__ = ["run", "run_fixed"]
