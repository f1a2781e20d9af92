"""surnn-neuro: selective-update recurrent networks from training to spiking hardware.

The package is split by stage (DESIGN.md §4): ``models`` and ``training`` (torch), ``datasets``,
``ir`` (the portable event graph, numpy + h5py only), ``converters`` (the only place torch meets the
IR), ``simulators``, ``metrics`` (numpy only), ``hw_targets.lava`` and ``reports``. Execution
semantics shared by every backend: docs/semantics.md.
"""

__version__ = "0.1.0"

from surnn_neuro.errors import UserError  # noqa: E402

__all__ = ["UserError", "__version__"]
