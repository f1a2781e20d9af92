"""The data layer: every dataset and task as numpy arrays; numpy + h5py only, no torch.

Event datasets (the :data:`DATASETS` registry; docs/datasets.md has formats, defaults and training
recipes):

================  =====================================  ===============  ========  ======  =====
name              data                                   splits           classes   sensor  V
================  =====================================  ===============  ========  ======  =====
``shd``           ``shd_train.h5``, ``shd_test.h5``      train, test,     20        700     140
                                                         holdout-train,
                                                         holdout-valid
``ssc``           ``ssc_{train,valid,test}.h5``          train/valid/test 35        700     140
``dvs-gesture``   AEDAT 3.1 release or tonic's npy tree  train, test      11        128²×2  2048
``nmnist``        ``Train/<d>/*.bin``, ``Test/<d>/*.bin`` train, test      10        34²×2   578
``event-digits``  built in (scikit-learn digits)         train, test      10        12²×2   288
================  =====================================  ===============  ========  ======  =====

Array tasks (the :data:`TASKS` registry): ``adding``, ``copy``, ``selective-copy``
(:mod:`~surnn_neuro.datasets.synthetic`), ``digits``, ``pdigits``
(:mod:`~surnn_neuro.datasets.digits`), ``smnist``, ``psmnist`` (:mod:`~surnn_neuro.datasets.mnist`),
``arrays``: one's own inputs and labels from an .npz or HDF5 file (:mod:`~surnn_neuro.datasets.arrays`).
A tonic dataset object becomes a task with :func:`from_tonic` (:mod:`~surnn_neuro.datasets.tonic_data`).

Modules: one per dataset or task family (``shd``, ``dvs_gesture``, ``nmnist``, ``event_digits``,
``synthetic``, ``digits``, ``mnist``, ``arrays``), each declaring its own spec; ``registry`` collects the specs;
``loading`` reads by name (:func:`open_split`, :func:`load_split` binned and cached,
:func:`task_data`, :func:`load_task_arrays`); ``summary`` is ``data check`` (:func:`check`);
``task`` defines :class:`TaskData`, what every loader returns (numpy here; the torch view is
:func:`surnn_neuro.training.tasks.load_task`); ``events``, ``transforms``, ``cache``, ``base``
hold the event dtype, binning, the cache and the reader contract. Every problem with the user's
files raises :class:`~surnn_neuro.errors.UserError` naming the file, the sample and the problem.
"""

from __future__ import annotations

from surnn_neuro.datasets.arrays import load_arrays, save_arrays
from surnn_neuro.datasets.base import DatasetSpec, EventSplit, Sample
from surnn_neuro.datasets.events import EVENT_DTYPE, as_events, make_events, validate_events
from surnn_neuro.datasets.loading import load_split, load_task_arrays, open_split, task_data
from surnn_neuro.datasets.registry import DATASETS, EVENT_TASKS, TASKS, get_spec, known_tasks
from surnn_neuro.datasets.summary import check, detect
from surnn_neuro.datasets.task import TaskData, TaskSpec
from surnn_neuro.datasets.tonic_data import from_tonic
from surnn_neuro.datasets.transforms import BinningConfig, bin_events, denoise, output_size

__all__ = ["DATASETS", "TASKS", "EVENT_TASKS", "DatasetSpec", "TaskSpec", "TaskData",
           "BinningConfig", "EVENT_DTYPE", "EventSplit", "Sample", "load_split", "open_split",
           "task_data", "load_task_arrays", "known_tasks", "check", "detect", "get_spec",
           "bin_events", "denoise", "make_events", "validate_events", "as_events", "output_size",
           "from_tonic", "load_arrays", "save_arrays"]
