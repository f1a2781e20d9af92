"""The registry: every dataset module's declarations collected in one place.

* :data:`DATASETS`: event datasets by name, the :class:`~surnn_neuro.datasets.base.DatasetSpec`
  that each reader module declares (``shd.SPECS``, ``dvs_gesture.SPECS``, ...).
* :data:`TASKS`: array tasks by name, the :class:`~surnn_neuro.datasets.task.TaskSpec` that each
  loader module declares (``synthetic.TASKS``, ``digits.TASKS``, ``mnist.TASKS``,
  ``arrays.TASKS``: one's own .npz / HDF5 file).

Adding a dataset = one module that declares its spec, plus its name in the tuple below. Lookups
fail loudly with the list of known names.
"""

from __future__ import annotations

from surnn_neuro.datasets import (arrays, digits, dvs_gesture, event_digits, mnist, nmnist, shd,
                                  synthetic)
from surnn_neuro.datasets.base import DatasetSpec
from surnn_neuro.datasets.task import TaskSpec
from surnn_neuro.errors import UserError

_EVENT_MODULES = (shd, dvs_gesture, nmnist, event_digits)
_TASK_MODULES = (synthetic, digits, mnist, arrays)

DATASETS: dict[str, DatasetSpec] = {s.name: s for m in _EVENT_MODULES for s in m.SPECS}
TASKS: dict[str, TaskSpec] = {s.name: s for m in _TASK_MODULES for s in m.TASKS}
#: event datasets double as tasks (binned to (T, V) frames; --seq-len sets the number of bins)
EVENT_TASKS: tuple[str, ...] = tuple(DATASETS)


def known_tasks() -> tuple[str, ...]:
    return tuple(TASKS) + EVENT_TASKS


def get_spec(name: str) -> DatasetSpec:
    """The :data:`DATASETS` entry; UserError listing the known names otherwise."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise UserError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None
