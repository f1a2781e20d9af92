"""Lava target: event graph → Lava process graph, run under Loihi2SimCfg, deploy (docs/lava.md).

Public API:

- :func:`deploy` ``(graph, out_dir) -> summary dict``: Lava save file + summary.md/json + Loihi 2
  resource estimate;
- :func:`build_network` ``(graph, x, fixed_point=False) -> LavaNetwork`` (imports Lava);
- :func:`loihi2_estimate` ``(graph) -> dict`` (no Lava needed);
- simulation: :func:`surnn_neuro.simulators.lava_backend.run` / ``run_fixed`` (backends "lava",
  "lava-fixed" of :func:`surnn_neuro.simulators.simulate`).

Processes (``surnn_neuro.hw_targets.lava.processes``): ``InputEventCounter``,
``SelectiveUpdateNeurons``, ``SpikeScheduleGate``, ``ThresholdGateNeuron``, ``GlobalGateNeuron``,
``ReadoutNeurons``; Lava's ``RingBuffer`` (input), ``Dense`` (every data connection) and
``Extractor`` (output monitor).

Importing this package does not import Lava or torch; Lava is imported by the functions that need it.
"""

from surnn_neuro.hw_targets.lava.fixed_point import FixedPointConfig
from surnn_neuro.hw_targets.lava.resources import LOIHI2_CHIP, loihi2_estimate


def deploy(graph, out_dir, fixed_point: bool = True, n_steps: int | None = None, input_range: float = 1.0) -> dict:
    """Write ``graph``'s Lava process graph (Lava's save format) and its summary to ``out_dir``.

    See :func:`surnn_neuro.hw_targets.lava.deployment.deploy` (the module has another name than
    the function, so that ``from surnn_neuro.hw_targets.lava import deploy`` is always this function).
    """
    from surnn_neuro.hw_targets.lava.deployment import deploy as _deploy

    return _deploy(graph, out_dir, fixed_point=fixed_point, n_steps=n_steps, input_range=input_range)


def build_network(graph, x=None, **kw):
    """See :func:`surnn_neuro.hw_targets.lava.network.build_network` (imports Lava)."""
    from surnn_neuro.hw_targets.lava.network import build_network as _build

    return _build(graph, x, **kw)


__all__ = ["FixedPointConfig", "LOIHI2_CHIP", "build_network", "deploy", "loihi2_estimate"]
