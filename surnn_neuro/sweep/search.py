"""The sweep as Ray Tune sees it: search space, search algorithm, scheduler, trial folder names.

- ``search = "grid"``: the combinations are enumerated here, turned into TrainConfigs and
  de-duplicated (an option a model does not take makes two combinations the same run), then handed
  to Ray Tune's grid search as one list: every distinct configuration runs once, in file order.
- ``search = "random"``: Ray Tune's random search (``BasicVariantGenerator``, seeded): lists are
  uniform choices, ranges are sampled uniformly (log-uniformly for ``loguniform``).
- ``search = "optuna"``: Optuna's multi-objective samplers through Ray Tune's ``OptunaSearch``
  (TPE by default, NSGA-II with ``sampler = "nsga2"``, seeded) on two objectives: the task metric
  (maximise accuracy, minimise MSE) and the cost (energy per inference on ``sweep.profile``, or
  synaptic operations per inference), both read from each trial's final report.

``scheduler = "asha"`` stops trials early with Ray Tune's ASHA on the per-epoch **task loss** of
training (the loss without the budget term λ·Σ u, so that trials with a large λ, the energy-frugal
ones, are not stopped for paying their budget). ASHA ranks one number only: a trial that would have
been slow to learn but very cheap can be cut. Use ``fifo`` (no early stopping) when the cheap end of
the front matters more than the time saved.
"""

from __future__ import annotations

import functools
import itertools

from surnn_neuro.errors import UserError
from surnn_neuro.sweep.config import SweepConfig
from surnn_neuro.sweep.trials import trial_key, trial_train_config

#: key of the enumerated grid in a trial's Ray config
GRID_KEY = "run"


def trial_settings(config: dict) -> dict:
    """The training settings in a trial's Ray config (grid trials nest them under ``run``)."""
    return config[GRID_KEY] if GRID_KEY in config else config


def grid_trials(cfg: SweepConfig) -> list:
    """Every distinct configuration of a grid sweep, in the order of the file (later dims vary fastest)."""
    base = dict(cfg.train)
    base["options"] = dict(cfg.options)
    dims = list(cfg.space)
    seen, out = set(), []
    for combo in itertools.product(*(d.values for d in dims)):
        trial = {**base, "options": dict(base["options"])}
        for d, v in zip(dims, combo):
            if d.is_option:
                trial["options"][d.name] = v
            else:
                trial[d.key] = v
        key = trial_key(trial_train_config(trial, cfg.model_options))
        if key not in seen:
            seen.add(key)
            out.append(trial)
    return out


def _domain(d, search: str):
    from ray import tune

    if d.kind == "values":
        return tune.choice(list(d.values))
    if d.kind == "uniform":
        return tune.uniform(d.low, d.high)
    if d.kind == "loguniform":
        return tune.loguniform(d.low, d.high)
    return tune.randint(int(d.low), int(d.high) + 1)  # inclusive upper end


def param_space(cfg: SweepConfig) -> dict:
    """Ray Tune's ``param_space``: fixed settings plus one domain per varied setting."""
    from ray import tune

    if cfg.settings.search == "grid":
        return {GRID_KEY: tune.grid_search(grid_trials(cfg))}
    space = dict(cfg.train)
    space["options"] = dict(cfg.options)
    for d in cfg.space:
        if d.is_option:
            space["options"][d.name] = _domain(d, cfg.settings.search)
        else:
            space[d.key] = _domain(d, cfg.settings.search)
    return space


def n_trials(cfg: SweepConfig) -> int:
    return len(grid_trials(cfg)) if cfg.settings.search == "grid" else cfg.settings.samples


@functools.lru_cache(maxsize=None)
def _multi_objective_optuna():
    from ray.tune.search.optuna import OptunaSearch

    class MultiObjectiveOptuna(OptunaSearch):
        """Ray Tune's OptunaSearch; a trial that ended without its objectives (stopped early by the
        scheduler) is told to Optuna as pruned rather than as a completed trial without values."""

        def on_trial_complete(self, trial_id, result=None, error=False):
            if (result is not None and isinstance(self.metric, list)
                    and any(result.get(m) is None for m in self.metric)):
                result = None
            super().on_trial_complete(trial_id, result=result, error=error)

    MultiObjectiveOptuna.__module__, MultiObjectiveOptuna.__qualname__ = __name__, "MultiObjectiveOptuna"
    return MultiObjectiveOptuna


def __getattr__(name):
    """Classes built on Ray's, created on first use (importing this module does not import Ray,
    and pickles of them still find them here by name)."""
    if name == "MultiObjectiveOptuna":
        return _multi_objective_optuna()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def objectives(cfg: SweepConfig, metric: str) -> tuple[list, list]:
    """(metric names, modes) of the two objectives."""
    return [metric, cfg.cost_key], ["max" if metric == "accuracy" else "min", "min"]


def search_algorithm(cfg: SweepConfig, metric: str):
    s = cfg.settings
    if s.search in ("grid", "random"):  # limits its own concurrency (Tune's limiter wraps Searchers only)
        from ray.tune.search import BasicVariantGenerator

        return BasicVariantGenerator(random_state=s.seed, max_concurrent=s.max_concurrent or 0)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line on the console
    # Optuna's defaults (10 random start-up trials for TPE, generations of 50 for NSGA-II) suit
    # hundreds of trials; a 10-trial sweep would be random search throughout
    if s.sampler == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=s.seed, population_size=min(50, max(4, s.samples // 4)))
    else:
        sampler = optuna.samplers.TPESampler(seed=s.seed, n_startup_trials=min(10, max(2, s.samples // 4)))
    names, modes = objectives(cfg, metric)
    return _multi_objective_optuna()(metric=names, mode=modes, sampler=sampler)


def scheduler(cfg: SweepConfig):
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    if cfg.settings.scheduler == "fifo":
        return FIFOScheduler()
    max_t = cfg.max_epochs
    return ASHAScheduler(time_attr="training_iteration", metric="task_loss", mode="min", max_t=max_t,
                         grace_period=min(cfg.settings.grace_period, max_t),
                         reduction_factor=cfg.settings.reduction_factor)


class TrialDirname:
    """Ray's folder for a trial: the run key and Ray's trial id (two trials may share a key)."""

    def __init__(self, model_options: dict):
        self.model_options = model_options

    def __call__(self, trial) -> str:
        try:
            key = trial_key(trial_train_config(trial_settings(trial.config), self.model_options))
        except (UserError, ValueError, KeyError, TypeError):  # the trial itself will report why
            key = "trial"
        return f"{key}-{trial.trial_id}"
