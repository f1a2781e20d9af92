"""Accuracy–energy sweeps on Ray Tune: ``surnn-neuro sweep CONFIG.toml --out DIR``.

Modules: :mod:`~surnn_neuro.sweep.config` (the TOML file, validated before Ray starts),
:mod:`~surnn_neuro.sweep.trials` (a trial's TrainConfig, folder key, reproduction command, checks),
:mod:`~surnn_neuro.sweep.search` (search space, search algorithm, scheduler for Ray Tune),
:mod:`~surnn_neuro.sweep.trainable` (train, convert, simulate, estimate energy in a Ray worker),
:mod:`~surnn_neuro.sweep.pareto` (fronts), :mod:`~surnn_neuro.sweep.results` (table, figures,
report.md), :mod:`~surnn_neuro.sweep.runner` (Ray start/join, resume, shutdown). docs/sweep.md
describes the file and the output folder.

Ray is imported only when a sweep runs (inside the functions of ``search``, ``progress``, ``runner``
and ``trainable``): validating a sweep file, or importing any of these modules, does not import it.
"""

from surnn_neuro.sweep.config import SweepConfig, load_config

__all__ = ["SweepConfig", "load_config", "run_sweep"]


def run_sweep(*args, **kwargs):
    """:func:`surnn_neuro.sweep.runner.run_sweep` (imported when called: Ray is heavy)."""
    from surnn_neuro.sweep.runner import run_sweep as run

    return run(*args, **kwargs)
