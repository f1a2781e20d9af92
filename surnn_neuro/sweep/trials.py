"""One trial: its training configuration, its folder, the command that reproduces it, and the checks
run on every setting before the sweep starts.

A trial's folder is ``OUT/runs/<key>`` with ``key = <task>-<model>-h<H>-lam<λ>-s<seed>-<hash>``: the
hash (SHA-1, 10 hex digits) covers the whole :class:`~surnn_neuro.training.loop.TrainConfig`, so the
same configuration always lands in the same folder. That makes folders stable links (report.md) and
makes a finished folder a cache: a resumed sweep that meets a configuration again reuses it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import asdict, fields

from surnn_neuro.errors import UserError
from surnn_neuro.sweep.config import OPTION_PREFIX, SweepConfig
from surnn_neuro.training.loop import TrainConfig


def _models():
    from surnn_neuro.models import MODELS

    return MODELS


def _tuple(v):
    """Option values as the models take them: lists as tuples, numpy scalars as Python numbers."""
    if isinstance(v, (list, tuple)):
        return tuple(_tuple(x) for x in v)
    return v.item() if hasattr(v, "item") else v


def trial_train_config(trial: Mapping, model_options: Mapping) -> TrainConfig:
    """The TrainConfig of a trial from its Ray config (fixed and sampled settings, ``options``
    nested). Options of ``[train.options]`` and ``[space]`` go to the models that take them (a
    conditional space: ``options.duty`` varies sugru's duty cycle and leaves a gru alone, whose
    trials then share one configuration and one folder); ``[model_options.<model>]`` is merged last.
    """
    from surnn_neuro.models import model_options as accepted_options

    known = {f.name for f in fields(TrainConfig)}
    kw = {k: v for k, v in trial.items() if k in known and k != "options"}
    takes = set(accepted_options(kw["model"])) if kw.get("model") in _models() else set()
    options = {k: _tuple(v) for k, v in dict(trial.get("options") or {}).items() if k in takes}
    options.update({k: _tuple(v) for k, v in dict(model_options.get(kw.get("model"), {})).items()})
    # sampled values come back as numpy scalars from some searchers: store plain Python numbers
    for k, v in list(kw.items()):
        if hasattr(v, "item"):
            kw[k] = v.item()
    if "lr" in kw:
        kw["lr"] = float(kw["lr"])
    if "budget" in kw:
        kw["budget"] = float(kw["budget"])
    return TrainConfig(**kw, options=options)


def trial_key(cfg: TrainConfig) -> str:
    """Folder name of a trial: readable settings plus a hash of the whole configuration.

    >>> stem, digest = trial_key(TrainConfig(task="digits", model="sugru", hidden=16, budget=0.01,
    ...                                      seed=2)).rsplit("-", 1)
    >>> stem, len(digest)
    ('digits-sugru-h16-lam0.01-s2', 10)
    """
    blob = json.dumps(asdict(cfg), sort_keys=True, default=str)
    digest = hashlib.sha1(blob.encode()).hexdigest()[:10]
    stem = f"{cfg.task}-{cfg.model}-h{cfg.hidden}-lam{cfg.budget:g}-s{cfg.seed}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem) + "-" + digest


def reproduce_command(cfg: TrainConfig, out: str = "runs/repro") -> str:
    """The ``surnn-neuro train`` command that retrains a trial outside the sweep (same metrics)."""
    parts = ["surnn-neuro", "train", "--task", cfg.task, "--model", cfg.model, "--hidden", str(cfg.hidden),
             "--layers", str(cfg.layers), "--epochs", str(cfg.epochs), "--batch-size", str(cfg.batch_size),
             "--lr", repr(float(cfg.lr)), "--budget", repr(float(cfg.budget)), "--seed", str(cfg.seed)]
    if cfg.seq_len is not None:
        parts += ["--seq-len", str(cfg.seq_len)]
    for k, v in cfg.options.items():
        parts += ["--option", f"{k}={v!r}"]
    if cfg.data_dir is not None:
        parts += ["--data-dir", cfg.data_dir]
    parts += ["--device", cfg.device, "--threads", str(cfg.threads), "--out", out]
    return " ".join(shlex.quote(p) for p in parts)


def _where(cfg: SweepConfig, key: str) -> str:
    return f"space.{key}" if any(d.key == key for d in cfg.space) else f"train.{key}"


def _reword(msg: str) -> str:
    """Drop the leading '--option:' of messages written for the command line."""
    return re.sub(r"^--[\w-]+:\s*", "", str(msg))


def _first(cfg: SweepConfig, key: str, default=None):
    vals = cfg.values_of(key)
    return vals[0] if vals else default


def check_trials(cfg: SweepConfig) -> str:
    """Check what every trial will use before Ray starts: each task loads, each listed value (and
    both ends of each range) passes TrainConfig's checks, and each model builds with every option
    value. Returns the task metric ("accuracy" or "mse"); every task of a sweep must share it."""
    from surnn_neuro.models import MODELS
    from surnn_neuro.training.loop import build_for_task
    from surnn_neuro.training.tasks import load_task

    src = cfg.path
    for model in cfg.model_options:
        if model not in MODELS:
            raise UserError(f"{src}: model_options.{model}: unknown model; known: {', '.join(MODELS)}")
    base = {k: _first(cfg, k) for k in ("task", "model", "hidden", "layers", "epochs", "batch_size", "lr",
                                        "budget", "seq_len", "seed") if cfg.values_of(k)}
    base.update({k: cfg.train[k] for k in ("data_dir", "device", "threads") if k in cfg.train})
    for key in ("model", "hidden", "layers", "epochs", "batch_size", "lr", "budget", "seed"):
        for v in cfg.values_of(key):
            try:
                TrainConfig(**{**base, key: v})
            except UserError as e:
                raise UserError(f"{src}: {_where(cfg, key)} = {v!r}: {_reword(e)}") from None
    tasks, metrics = {}, {}
    for name in cfg.values_of("task"):
        if not isinstance(name, str):
            raise UserError(f"{src}: {_where(cfg, 'task')}: expected task names, got {name!r}")
        for seq_len in cfg.values_of("seq_len") or (None,):
            try:
                task = load_task(name, seq_len=seq_len, data_dir=cfg.train.get("data_dir"),
                                 seed=_first(cfg, "seed", 0))
            except UserError as e:
                about_len = "--seq-len" in str(e)
                where = _where(cfg, "seq_len" if about_len else "task")
                raise UserError(f"{src}: {where} = {seq_len if about_len else name!r}: {_reword(e)}") from None
            tasks.setdefault(name, task)
            metrics.setdefault(task.metric, name)
    if len(metrics) > 1:
        pairs = ", ".join(f"{t} ({m})" for m, t in metrics.items())
        raise UserError(f"{src}: {_where(cfg, 'task')}: tasks with different metrics ({pairs}) cannot "
                        f"share one Pareto front; sweep them separately")
    from surnn_neuro.models import model_options as accepted_options

    models = cfg.values_of("model")
    option_dims = [d for d in cfg.space if d.is_option]
    for key, where in [(k, f"train.options.{k}") for k in cfg.options] + [(d.name, f"space.{d.key}")
                                                                           for d in option_dims]:
        if not any(key in accepted_options(m) for m in models):
            takes = "; ".join(f"{m} takes {', '.join(accepted_options(m))}" for m in models)
            raise UserError(f"{src}: {where}: no model of this sweep takes option {key!r} ({takes})")
    for model, opts in cfg.model_options.items():
        for key in opts:
            if key not in accepted_options(model):
                raise UserError(f"{src}: model_options.{model}.{key}: model {model!r} has no option "
                                f"{key!r}; it takes {', '.join(accepted_options(model))}")
    probes = [{}]  # option sets to build: every value of one option, the others at their first value
    for d in option_dims:
        for v in d.probe_values():
            probes.append({d.name: v})
    first_opts = {d.name: d.probe_values()[0] for d in option_dims}
    hidden = min(cfg.values_of("hidden") or (8,))
    task = next(iter(tasks.values()))
    for model in models:
        takes = set(accepted_options(model))
        for probe in probes:
            if probe and not set(probe) <= takes:
                continue
            opts = {k: v for k, v in {**cfg.options, **first_opts, **probe}.items() if k in takes}
            opts.update(cfg.model_options.get(model, {}))
            try:
                build_for_task(TrainConfig(**{**base, "model": model, "hidden": int(hidden), "options": opts}), task)
            except UserError as e:
                key = next(iter(probe), None)
                where = (f"space.{OPTION_PREFIX}{key} = {probe[key]!r}" if key else
                         f"model_options.{model}" if cfg.model_options.get(model) else "train.options")
                raise UserError(f"{src}: {where}: model {model!r}: {_reword(e)}") from None
    return next(iter(metrics))
