"""The sweep file (TOML): parsing and validation, before Ray starts.

Every problem is a :class:`~surnn_neuro.errors.UserError` of one line naming the file, the key and
the problem (``sweep.toml: space.hidden: expected a list of integers or {int = [low, high]}, got
'big'``). Tables and keys (docs/sweep.md has the full reference):

``[sweep]``
    name, search (grid | random | optuna), samples, objective (energy | synaptic_ops), profile,
    profiles, memory, scheduler (fifo | asha), grace_period, reduction_factor, max_concurrent,
    seed, sim_samples, sampler (tpe | nsga2).
``[resources]``
    cpus, gpus: per trial.
``[ray]``
    num_cpus, num_gpus: of the local Ray instance (ignored with ``--address``).
``[train]``
    fixed ``surnn-neuro train`` settings (task, model, hidden, layers, epochs, batch_size, lr,
    budget, seq_len, seed, data_dir, device, threads), ``[train.options]`` fixed gate options.
``[model_options.NAME]``
    options used only when the trial's model is NAME (e.g. sugru's ``duty``).
``[space]``
    what varies: a list of values (every value in a grid; a choice for random/optuna), or a range
    ``{uniform = [lo, hi]}``, ``{loguniform = [lo, hi]}``, ``{int = [lo, hi]}`` (inclusive);
    ``"options.KEY"`` varies a gate option.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from surnn_neuro.errors import UserError

SEARCHES = ("grid", "random", "optuna")
OBJECTIVES = ("energy", "synaptic_ops")
SCHEDULERS = ("fifo", "asha")
SAMPLERS = ("tpe", "nsga2")
RANGES = ("uniform", "loguniform", "int")

#: [train] / [space] keys -> expected type. ``clip`` is left out: ``surnn-neuro train`` has no
#: option for it, so a row that changed it could not be reproduced from the command line.
TRAIN_TYPES = {"task": str, "model": str, "hidden": int, "layers": int, "epochs": int,
               "batch_size": int, "lr": float, "budget": float, "seq_len": int, "seed": int,
               "data_dir": str, "device": str, "threads": int}
#: keys that may vary in [space] (data_dir, device and threads are where a trial runs, not what)
SPACE_KEYS = ("task", "model", "hidden", "layers", "epochs", "batch_size", "lr", "budget",
              "seq_len", "seed")
REQUIRED_TRAIN = ("task", "model")
OPTION_PREFIX = "options."

_SWEEP_KEYS = {"name", "search", "samples", "objective", "profile", "profiles", "memory", "scheduler",
               "grace_period", "reduction_factor", "max_concurrent", "seed", "sim_samples", "sampler"}
_TOP = ("sweep", "resources", "ray", "train", "model_options", "space")


@dataclass(frozen=True)
class Dim:
    """One varied setting: ``values`` (kind "values") or a range [low, high] (uniform, loguniform,
    int; int is inclusive)."""

    key: str
    kind: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None

    def __post_init__(self):
        if self.kind == "values":
            if not self.values:
                raise ValueError(f"Dim {self.key}: no values")
        elif self.kind in RANGES:
            if not (self.low is not None and self.high is not None and self.low < self.high):
                raise ValueError(f"Dim {self.key}: need low < high, got [{self.low}, {self.high}]")
            if self.kind == "loguniform" and not self.low > 0:
                raise ValueError(f"Dim {self.key}: loguniform needs low > 0, got {self.low}")
        else:
            raise ValueError(f"Dim {self.key}: unknown kind {self.kind!r}; known: values, {', '.join(RANGES)}")

    @property
    def is_option(self) -> bool:
        return self.key.startswith(OPTION_PREFIX)

    @property
    def name(self) -> str:
        return self.key[len(OPTION_PREFIX):] if self.is_option else self.key

    def probe_values(self) -> tuple:
        """Values checked before the sweep starts: every listed value, or both ends of a range."""
        return self.values if self.kind == "values" else (self.low, self.high)

    def as_dict(self) -> dict:
        if self.kind == "values":
            return {"values": list(self.values)}
        return {self.kind: [self.low, self.high]}


@dataclass(frozen=True)
class SweepSettings:
    name: str = "sweep"
    search: str = "grid"
    samples: int = 1
    objective: str = "energy"
    profile: str = "loihi1_table2"
    profiles: tuple = ()
    memory: bool = False
    scheduler: str = "fifo"
    grace_period: int = 1
    reduction_factor: int = 2
    max_concurrent: int | None = None
    seed: int = 0
    sim_samples: int | None = None
    sampler: str = "tpe"

    def __post_init__(self):
        for key, known in (("search", SEARCHES), ("objective", OBJECTIVES), ("scheduler", SCHEDULERS),
                           ("sampler", SAMPLERS)):
            if getattr(self, key) not in known:
                raise ValueError(f"sweep.{key}: unknown {getattr(self, key)!r}; known: {', '.join(known)}")
        for key, low in (("samples", 1), ("grace_period", 1), ("reduction_factor", 2)):
            if getattr(self, key) < low:
                raise ValueError(f"sweep.{key}: must be >= {low}, got {getattr(self, key)}")
        for key in ("max_concurrent", "sim_samples"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise ValueError(f"sweep.{key}: must be >= 1, got {getattr(self, key)}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", self.name):
            raise ValueError(f"sweep.name: {self.name!r} must be letters, digits, '.', '_' or '-'")


@dataclass(frozen=True)
class Resources:
    """Per trial: CPUs (also torch's threads unless [train] threads is set) and GPUs (fractions allowed)."""

    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self):
        if not self.cpus > 0:
            raise ValueError(f"resources.cpus: must be > 0, got {self.cpus}")
        if self.gpus < 0:
            raise ValueError(f"resources.gpus: must be >= 0, got {self.gpus}")


@dataclass(frozen=True)
class RayOptions:
    num_cpus: int | None = None
    num_gpus: int | None = None

    def __post_init__(self):
        for key in ("num_cpus", "num_gpus"):
            v = getattr(self, key)
            if v is not None and v < (1 if key == "num_cpus" else 0):
                raise ValueError(f"ray.{key}: must be >= {1 if key == 'num_cpus' else 0}, got {v}")


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep file. ``train``: fixed TrainConfig values (device and threads resolved);
    ``options``: fixed gate options; ``model_options``: {model: options}; ``space``: the Dims."""

    path: str
    settings: SweepSettings
    resources: Resources
    ray: RayOptions
    train: dict
    options: dict = field(default_factory=dict)
    model_options: dict = field(default_factory=dict)
    space: tuple = ()

    def values_of(self, key: str) -> tuple:
        """Every value ``key`` takes (fixed or listed); ranges give their two ends."""
        for d in self.space:
            if d.key == key:
                return d.probe_values()
        if key.startswith(OPTION_PREFIX):
            return (self.options[key[len(OPTION_PREFIX):]],) if key[len(OPTION_PREFIX):] in self.options else ()
        return (self.train[key],) if key in self.train else ()

    @property
    def n_trials(self) -> int:
        """Trials the sweep runs: every grid combination, or ``samples``."""
        if self.settings.search != "grid":
            return self.settings.samples
        return math.prod(len(d.values) for d in self.space) if self.space else 1

    @property
    def max_epochs(self) -> int:
        return int(max(self.values_of("epochs")))

    @property
    def cost_key(self) -> str:
        """Result key of the second objective."""
        if self.settings.objective == "synaptic_ops":
            return "synaptic_ops"
        return f"energy_pJ_{self.settings.profile}"

    def normalized(self) -> dict:
        """Plain-data form (JSON), used to recognise the same sweep on --resume."""
        return {
            "sweep": {f.name: (list(v) if isinstance(v := getattr(self.settings, f.name), tuple) else v)
                      for f in fields(self.settings)},
            "resources": {"cpus": self.resources.cpus, "gpus": self.resources.gpus},
            "ray": {"num_cpus": self.ray.num_cpus, "num_gpus": self.ray.num_gpus},
            "train": _plain(self.train),
            "options": _plain(self.options),
            "model_options": _plain(self.model_options),
            "space": {d.key: d.as_dict() for d in self.space},
        }


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


# --- parsing --------------------------------------------------------------------------------------

def _read_toml(path: Path) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    if not path.is_file():
        raise UserError(f"{path}: sweep file not found")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: not valid TOML ({e})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read ({e})") from None


def _type_name(t) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[t]


_PLURAL = {int: "integers", float: "numbers", str: "strings"}


def _scalar_ok(value, t) -> bool:
    if t is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, t)


def _option_value(value, where: str):
    """A gate option value: number, string, bool, or a list of those (a tuple for the model)."""
    if isinstance(value, list):
        if not all(isinstance(v, (int, float, str, bool)) for v in value):
            raise UserError(f"{where}: option lists may hold numbers, strings and booleans only")
        return tuple(value)
    if isinstance(value, dict):
        raise UserError(f"{where}: an option value cannot be a table")
    return value


def _table(raw: dict, key: str, src: str) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise UserError(f"{src}: {key}: expected a table [{key}], got {type(value).__name__}")
    return value


def _settings(table: dict, src: str, stem: str) -> SweepSettings:
    unknown = sorted(set(table) - _SWEEP_KEYS)
    if unknown:
        raise UserError(f"{src}: sweep.{unknown[0]}: unknown key; known: {', '.join(sorted(_SWEEP_KEYS))}")
    types = {"name": str, "search": str, "samples": int, "objective": str, "profile": str,
             "memory": bool, "scheduler": str, "grace_period": int, "reduction_factor": int,
             "max_concurrent": int, "seed": int, "sim_samples": int, "sampler": str}
    kw = {}
    for key, value in table.items():
        if key == "profiles":
            if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                raise UserError(f"{src}: sweep.profiles: expected a non-empty list of profile names")
            if len(set(value)) != len(value):
                raise UserError(f"{src}: sweep.profiles: lists a profile twice")
            kw[key] = tuple(value)
            continue
        if not _scalar_ok(value, types[key]):
            raise UserError(f"{src}: sweep.{key}: expected {_type_name(types[key])}, got {value!r}")
        kw[key] = value
    kw.setdefault("name", re.sub(r"[^A-Za-z0-9_.\-]", "_", stem) or "sweep")
    try:
        s = SweepSettings(**kw)
    except ValueError as e:
        raise UserError(f"{src}: {e}") from None
    from surnn_neuro.metrics.profiles import PROFILES

    profiles = s.profiles or tuple(PROFILES)
    for p in profiles + ((s.profile,) if s.objective == "energy" else ()):
        if p not in PROFILES:
            where = "sweep.profile" if p == s.profile and p not in profiles else "sweep.profiles"
            raise UserError(f"{src}: {where}: unknown profile {p!r}; known: {', '.join(PROFILES)}")
    if s.objective == "energy" and s.profile not in profiles:
        raise UserError(f"{src}: sweep.profile: {s.profile!r} is not among sweep.profiles")
    if s.search == "grid" and s.samples != 1:
        raise UserError(f"{src}: sweep.samples: a grid runs every combination once (training is "
                        f"deterministic per seed); vary 'seed' in [space] for repeats")
    from dataclasses import replace

    return replace(s, profiles=profiles)


def _dim(key: str, value, search: str, src: str) -> Dim:
    where = f"{src}: space.{key}"
    is_option = key.startswith(OPTION_PREFIX)
    if not is_option and key not in SPACE_KEYS:
        hint = " (it says where a trial runs: set it in [train])" if key in TRAIN_TYPES else ""
        raise UserError(f"{where}: cannot vary{hint}; known: {', '.join(SPACE_KEYS)}, options.KEY")
    if is_option and not key[len(OPTION_PREFIX):]:
        raise UserError(f"{where}: name the option, e.g. \"options.duty\"")
    t = None if is_option else TRAIN_TYPES[key]
    if isinstance(value, list):
        if not value:
            raise UserError(f"{where}: empty list")
        vals = []
        for v in value:
            if t is not None and not _scalar_ok(v, t):
                raise UserError(f"{where}: expected a list of {_PLURAL[t]}, got {v!r}")
            vals.append(float(v) if t is float else (_option_value(v, where) if is_option else v))
        if len(set(map(repr, vals))) != len(vals):
            raise UserError(f"{where}: lists a value twice")
        if search == "optuna" and any(isinstance(v, tuple) for v in vals):
            raise UserError(f"{where}: Optuna chooses among numbers, strings and booleans only; "
                            f"use search = 'grid' or 'random' for list-valued options")
        return Dim(key, "values", tuple(vals))
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in RANGES:
            raise UserError(f"{where}: a range is one of {{uniform = [lo, hi]}}, {{loguniform = [lo, hi]}}, "
                            f"{{int = [lo, hi]}}; got keys {', '.join(value) or 'none'}")
        kind, bounds = next(iter(value.items()))
        if search == "grid":
            raise UserError(f"{where}: a range needs search = 'random' or 'optuna' (a grid takes a list)")
        if t is str:
            raise UserError(f"{where}: a text setting takes a list of values, not a range")
        if t is int and kind != "int":
            raise UserError(f"{where}: an integer setting takes {{int = [lo, hi]}}, not {kind}")
        if t is float and kind == "int":
            raise UserError(f"{where}: a real-valued setting takes uniform or loguniform, not int")
        ok = (isinstance(bounds, list) and len(bounds) == 2
              and all(_scalar_ok(b, int if kind == "int" else float) for b in bounds))
        if not ok:
            raise UserError(f"{where}: {kind} needs two {'integers' if kind == 'int' else 'numbers'} "
                            f"[low, high], got {bounds!r}")
        try:
            return Dim(key, kind, low=bounds[0], high=bounds[1])
        except ValueError as e:
            raise UserError(f"{where}: {str(e).split(': ', 1)[1]}") from None
    raise UserError(f"{where}: expected a list of values or a range table, got {value!r}")


def _train(table: dict, src: str) -> tuple[dict, dict]:
    train, options = {}, {}
    for key, value in table.items():
        if key == "options":
            if not isinstance(value, dict):
                raise UserError(f"{src}: train.options: expected a table of gate options")
            options = {k: _option_value(v, f"{src}: train.options.{k}") for k, v in value.items()}
            continue
        if key not in TRAIN_TYPES:
            raise UserError(f"{src}: train.{key}: unknown key; known: {', '.join(TRAIN_TYPES)}, options")
        t = TRAIN_TYPES[key]
        if not _scalar_ok(value, t):
            raise UserError(f"{src}: train.{key}: expected {_type_name(t)}, got {value!r}")
        train[key] = float(value) if t is float else value
    return train, options


def load_config(path) -> SweepConfig:
    """Parse and validate a sweep file (syntax, keys, types, ranges, profiles; no task is loaded)."""
    path = Path(path)
    src = str(path)
    raw = _read_toml(path)
    unknown = sorted(set(raw) - set(_TOP))
    if unknown:
        raise UserError(f"{src}: {unknown[0]}: unknown table; known: {', '.join(_TOP)}")
    settings = _settings(_table(raw, "sweep", src), src, path.stem)
    res_t, ray_t = _table(raw, "resources", src), _table(raw, "ray", src)
    for name, t, known in (("resources", res_t, ("cpus", "gpus")), ("ray", ray_t, ("num_cpus", "num_gpus"))):
        for k, v in t.items():
            if k not in known:
                raise UserError(f"{src}: {name}.{k}: unknown key; known: {', '.join(known)}")
            want = float if name == "resources" else int
            if not _scalar_ok(v, want):
                raise UserError(f"{src}: {name}.{k}: expected {_type_name(want)}, got {v!r}")
    try:
        resources = Resources(**{k: float(v) for k, v in res_t.items()})
        ray = RayOptions(**ray_t)
    except ValueError as e:
        raise UserError(f"{src}: {e}") from None
    train, options = _train(_table(raw, "train", src), src)
    model_options = {}
    for model, opts in _table(raw, "model_options", src).items():
        if not isinstance(opts, dict):
            raise UserError(f"{src}: model_options.{model}: expected a table of gate options")
        model_options[model] = {k: _option_value(v, f"{src}: model_options.{model}.{k}") for k, v in opts.items()}
    space = tuple(_dim(k, v, settings.search, src) for k, v in _table(raw, "space", src).items())
    varied = {d.key for d in space}
    for key in train:
        if key in varied:
            raise UserError(f"{src}: space.{key}: also fixed in [train]; keep one")
    for key in options:
        if OPTION_PREFIX + key in varied:
            raise UserError(f"{src}: space.options.{key}: also fixed in [train.options]; keep one")
    for model, opts in model_options.items():
        for key in opts:
            if OPTION_PREFIX + key in varied:
                raise UserError(f"{src}: space.options.{key}: also fixed in [model_options.{model}]; keep one")
    for key in REQUIRED_TRAIN:
        if key not in train and key not in varied:
            raise UserError(f"{src}: train.{key}: missing; set it in [train] or vary it in [space]")
    if settings.search != "grid" and not space:
        raise UserError(f"{src}: space: search = {settings.search!r} needs at least one setting to vary")
    train = _resolve_where(train, resources, src)
    return SweepConfig(src, settings, resources, ray, train, options, model_options, space)


def _resolve_where(train: dict, resources: Resources, src: str) -> dict:
    """Device and threads of every trial: a trial sees only the GPUs Ray reserved for it."""
    train = dict(train)
    device = train.get("device", "auto")
    if device not in ("auto", "cpu", "cuda"):
        raise UserError(f"{src}: train.device: unknown device {device!r}; known: auto, cpu, cuda")
    if device == "auto":
        device = "cuda" if resources.gpus > 0 else "cpu"
    if device == "cuda" and resources.gpus <= 0:
        raise UserError(f"{src}: train.device: 'cuda' needs resources.gpus > 0 (Ray gives a trial "
                        f"only the GPUs it reserves)")
    if device == "cpu" and resources.gpus > 0:
        raise UserError(f"{src}: resources.gpus: {resources.gpus:g} GPU(s) reserved per trial but "
                        f"train.device = 'cpu'")
    train["device"] = device
    train.setdefault("threads", max(1, int(resources.cpus)))
    if train["threads"] < 1:
        raise UserError(f"{src}: train.threads: must be >= 1, got {train['threads']}")
    if "data_dir" in train:  # relative to where the command runs, like --data-dir
        train["data_dir"] = os.path.abspath(train["data_dir"])
    return train
