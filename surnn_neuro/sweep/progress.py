"""Console progress of a sweep: a Ray Tune callback printing one line per finished trial and, on a
terminal, a tqdm bar over the trials.

Ray Tune pickles its callbacks with the experiment (``tuner.pkl``) and uses the pickled ones when a
sweep is resumed, so the callback holds plain settings only and opens its bar in ``setup``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tqdm.auto import tqdm


class _ConsoleProgress:
    """The callback's behaviour; :func:`_console_progress` mixes it into Ray Tune's Callback."""

    def __init__(self, out: str, total: int, metric: str, cost_key: str, model_options: dict,
                 enabled: bool = True):
        self.out, self.total, self.metric, self.cost_key = out, total, metric, cost_key
        self.model_options, self.enabled = model_options, enabled
        self._bar = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_bar"] = None
        return state

    def setup(self, **info):
        done = sum(1 for _ in Path(self.out, "runs").glob("*/result.json"))
        # disable=None: tqdm draws only on a terminal; the lines below are printed in any case
        self._bar = tqdm(total=self.total, initial=min(done, self.total), desc="sweep", unit="trial",
                         disable=None if self.enabled else True, leave=False, dynamic_ncols=True)

    def _write(self, msg: str) -> None:
        if self._bar is not None and not self._bar.disable:
            self._bar.write(msg)
        else:
            print(msg, flush=True)

    def _key(self, trial) -> str:
        from surnn_neuro.sweep.search import trial_settings
        from surnn_neuro.sweep.trials import trial_key, trial_train_config

        r = trial.last_result or {}
        if "key" in r:
            return r["key"]
        try:
            return trial_key(trial_train_config(trial_settings(trial.config), self.model_options))
        except (ValueError, KeyError, TypeError):
            return str(trial.trial_id)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self._bar is not None:
            running = sum(t.status == "RUNNING" for t in trials)
            self._bar.set_postfix_str(f"{running} running")

    def on_trial_complete(self, iteration, trials, trial, **info):
        from surnn_neuro.metrics.energy import format_energy

        r = trial.last_result or {}
        if self.metric in r:
            v = r[self.metric]
            score = f"{100 * v:.2f} %" if self.metric == "accuracy" else f"{v:.4g}"
            c = r.get(self.cost_key)
            cost = (f"{c:.4g} synaptic ops" if self.cost_key == "synaptic_ops" else format_energy(c)) \
                if isinstance(c, (int, float)) else "?"
            how = "reused" if r.get("cached") else f"{r.get('trial_seconds', 0):.0f} s"
            self._write(f"done    {self._key(trial)}: {self.metric} {score}, {cost}, "
                        f"update rate {r.get('update_rate', float('nan')):.3f} ({how})")
        else:
            self._write(f"stopped {self._key(trial)} after epoch {r.get('training_iteration', 0)} "
                        f"(scheduler)")
        if self._bar is not None:
            self._bar.update(1)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._write(f"failed  {self._key(trial)}: see {trial.path}/error.txt")
        if self._bar is not None:
            self._bar.update(1)

    def on_experiment_end(self, trials, **info):
        if self._bar is not None:
            self._bar.close()


@functools.lru_cache(maxsize=None)
def _console_progress():
    from ray.tune import Callback

    cls = type("ConsoleProgress", (_ConsoleProgress, Callback), {"__doc__": __doc__.split("\n\n")[0]})
    cls.__module__, cls.__qualname__ = __name__, "ConsoleProgress"
    return cls


def __getattr__(name):
    """``ConsoleProgress`` is created on first use: importing this module does not import Ray, and
    the pickled callback of a sweep (tuner.pkl) still finds its class here by name."""
    if name == "ConsoleProgress":
        return _console_progress()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
