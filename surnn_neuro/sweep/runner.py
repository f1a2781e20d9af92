"""``surnn-neuro sweep CONFIG.toml --out DIR``: validate, start (or join) Ray, run Ray Tune, write results.

Order of work: the whole sweep file is validated and every task loaded and every model built once
(:func:`~surnn_neuro.sweep.trials.check_trials`) before Ray starts, so a bad file costs a second, not
a cluster start. Then:

- **local** (default): a private Ray instance (``address="local"``: never an unrelated cluster found
  on the machine) with ``ray.num_cpus`` CPUs (default: all), no dashboard, no usage statistics
  (``RAY_USAGE_STATS_ENABLED=0``), warnings only. Workers get this very package on their
  ``PYTHONPATH`` (an absolute path, whatever the command's working directory).
- **--address ADDR**: join an existing cluster (``ray start --head`` on one machine, ``ray start
  --address HEAD:6379`` on the others). The package is shipped to the workers with Ray's
  ``py_modules``; ``--out`` must be a folder every node can write (a shared file system), because
  trials write their run folders there.

Resuming: ``OUT/sweep.json`` records the sweep; ``--resume`` continues it with Ray Tune's own
``Tuner.restore`` (finished trials are kept, unfinished ones run again, errored ones too with
``--resume errored``). Run folders are keyed by configuration and reused, so a trial that finished
just before the kill, after Ray Tune's last snapshot, is not retrained either. An interrupted trial
restarts from its first epoch.

Interrupts: Ctrl-C or SIGTERM lets Ray Tune save its state and stop the trials, then the partial
table is written and the command exits with status 130. Ray is shut down in every case (also on
errors), so no Ray process outlives the command. Ray Tune's console table is off (``verbose=0``):
the command prints one line per finished trial and a progress bar on a terminal. Trials print
nothing themselves (warnings reach the console through Ray, prefixed with the worker's pid); each
trial's per-epoch lines are in its run folder's ``train.log``.

Worker processes are reused between trials (``reuse_actors``): torch and numba's compiled
simulator stay loaded, which saves seconds per trial; every trial reseeds from its own
configuration, so reuse does not change results. (Ray's ``log_to_file`` is not used: with reused
workers it writes to closed files.)
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path

from surnn_neuro.errors import UserError
from surnn_neuro.preflight import output_dir
from surnn_neuro.fileio import write_json_atomic, write_text_atomic
from surnn_neuro.sweep.config import SweepConfig, load_config
from surnn_neuro.sweep.trials import check_trials

STATE = "sweep.json"
EXPERIMENT = "ray"  # OUT/ray: the Ray Tune experiment
FORMAT = "surnn-neuro-sweep"
RESUME_MODES = ("unfinished", "errored")
#: settings that may change between a sweep and its resumption (where it runs, not what)
MAY_CHANGE = ("resources", "ray")


def _compared(cfg: SweepConfig) -> dict:
    return {k: v for k, v in cfg.normalized().items() if k not in MAY_CHANGE}


def _first_difference(a, b, prefix="") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{prefix}{k}.")
    return prefix.rstrip(".") or "the file"


def check_out(out: Path, cfg: SweepConfig, resume: str | None) -> dict | None:
    """Check ``out`` before anything starts; returns the state of the sweep it holds (or None)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    state_path = out / STATE
    state = None
    if state_path.exists():
        try:
            state = json.loads(state_path.read_text())
        except (OSError, ValueError) as e:
            raise UserError(f"--out {out}: unreadable {STATE} ({e}); choose another folder") from None
        if state.get("format") != FORMAT:
            raise UserError(f"--out {out}: {STATE} is not a surnn-neuro sweep state")
        if resume is None:
            raise UserError(f"--out {out}: holds a sweep already; add --resume to continue it, or "
                            f"choose another folder")
        if state.get("config") != _compared(cfg):
            where = _first_difference(state.get("config") or {}, _compared(cfg))
            raise UserError(f"--resume: {cfg.path} differs from the sweep in {out} ({where}); only "
                            f"[resources] and [ray] may change; start a new --out")
    elif out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out}: not empty and holds no sweep; choose a new or empty folder")
    return state


def write_state(out: Path, cfg: SweepConfig, state: dict | None) -> None:
    """Record the sweep in ``out`` (once Ray is up: a failed start leaves no half-made sweep)."""
    sessions = (state or {}).get("sessions", [])
    sessions.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "resumed": state is not None})
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / STATE, {"format": FORMAT, "version": 1, "config": _compared(cfg),
                                   "config_file": str(Path(cfg.path).resolve()), "sessions": sessions})
    if state is None:
        write_text_atomic(out / "config.toml", Path(cfg.path).read_text())


def _package_dir() -> Path:
    import surnn_neuro

    return Path(surnn_neuro.__file__).resolve().parent


def init_ray(cfg: SweepConfig, address: str | None) -> str:
    """Start the local Ray instance or join ``address``; returns a description for the report."""
    import ray

    env = {"RAY_USAGE_STATS_ENABLED": "0"}
    kw = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
    if address:
        runtime_env = {"env_vars": env, "py_modules": [str(_package_dir())],
                       "excludes": ["__pycache__", "*.pyc"]}
        try:
            ray.init(address=address, runtime_env=runtime_env, **kw)
        except (ConnectionError, ValueError, RuntimeError) as e:
            first = str(e).splitlines()[0][:200]
            raise UserError(f"--address {address}: cannot join a Ray cluster ({first})") from None
        where = f"the Ray cluster at {address}"
    else:
        extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        path = os.pathsep.join([str(_package_dir().parent)] + extra)
        env["PYTHONPATH"] = path
        num_cpus = local_cpus(cfg)
        ray.init(address="local", num_cpus=num_cpus, num_gpus=cfg.ray.num_gpus,
                 runtime_env={"env_vars": env}, **kw)
        where = f"a local Ray instance ({num_cpus} CPUs)"
    logging.getLogger("ray.tune").setLevel(logging.WARNING)
    if not address:  # a cluster may grow (autoscaler): there Ray Tune itself reports what is missing
        have = ray.cluster_resources().get("GPU", 0)
        if cfg.resources.gpus > have:
            raise UserError(f"{cfg.path}: resources.gpus: {cfg.resources.gpus:g} per trial but the local "
                            f"Ray instance has {have:g} GPU(s)")
    return where


def local_cpus(cfg: SweepConfig) -> int:
    """CPUs of the local Ray instance; UserError (before Ray starts) if a trial needs more."""
    n = cfg.ray.num_cpus or os.cpu_count() or 1
    if cfg.resources.cpus > n:
        raise UserError(f"{cfg.path}: resources.cpus: {cfg.resources.cpus:g} per trial but the local Ray "
                        f"instance has {n} CPUs (ray.num_cpus)")
    return n


class Interrupts:
    """Ctrl-C and SIGTERM during a sweep. The first one asks a running Ray Tune to stop gracefully
    (through the SIGUSR1 handler Ray Tune installs while it runs: it stops the trials and saves the
    experiment state, then ``fit`` returns); outside Ray Tune, or the second time, it raises
    KeyboardInterrupt. Ray Tune's own SIGINT handler is switched off
    (``TUNE_DISABLE_SIGINT_HANDLER=1``) so that the command knows it was interrupted."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)

    def __init__(self):
        self.count = 0
        self._old = {}

    def __enter__(self):
        self._old = {s: signal.getsignal(s) for s in self.SIGNALS}
        self.arm()
        return self

    def arm(self):
        """(Re)install the handlers: ``ray.init`` puts its own fatal-signal handler on SIGTERM."""
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum, frame):
        self.count += 1
        tune_handler = signal.getsignal(signal.SIGUSR1)
        if self.count == 1 and callable(tune_handler) and tune_handler is not self._old[signal.SIGUSR1]:
            print("stopping: Ray Tune saves its state (press Ctrl-C again to abort)", flush=True)
            tune_handler(signal.SIGUSR1, frame)
        else:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
        return False


def run_sweep(config_path, out, address: str | None = None, resume: str | None = None,
              progress: bool = True) -> dict:
    """Run (or continue) a sweep into ``out``; returns the summary of :func:`write_results`."""
    if resume is not None and resume not in RESUME_MODES:
        raise UserError(f"--resume: unknown mode {resume!r}; known: {', '.join(RESUME_MODES)}")
    cfg = load_config(config_path)
    metric = check_trials(cfg)
    # the folder is checked before Ray starts (a path under a file, read-only, a name too long...);
    # it keeps its content (a resumed sweep's trials)
    out = output_dir(out, "--out").resolve()
    if not address:
        local_cpus(cfg)
    state = check_out(out, cfg, resume)
    resuming = state is not None
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # before Ray is imported: no usage-statistics prompt
    # the per-epoch reports carry the scheduler's metric (task_loss); the two objectives exist only
    # in a trial's final report, which Ray Tune's strict check would reject on the first epoch
    os.environ["TUNE_DISABLE_STRICT_METRIC_CHECKING"] = "1"
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # see Interrupts
    import ray
    from ray import tune

    from surnn_neuro.sweep.progress import ConsoleProgress
    from surnn_neuro.sweep.results import collect_rows, write_results
    from surnn_neuro.sweep.search import TrialDirname, n_trials, param_space, scheduler, search_algorithm
    from surnn_neuro.sweep.trainable import run_trial

    total = n_trials(cfg)
    print(f"sweep {cfg.settings.name}: {total} trials ({cfg.settings.search}), "
          f"{cfg.resources.cpus:g} CPU / {cfg.resources.gpus:g} GPU per trial -> {out}", flush=True)
    settings = {"out": str(out), "model_options": cfg.model_options, "sim_samples": cfg.settings.sim_samples,
                "profiles": list(cfg.settings.profiles), "memory": cfg.settings.memory}
    t0 = time.perf_counter()
    interrupts = Interrupts().__enter__()
    try:
        where = init_ray(cfg, address)
        interrupts.arm()
        write_state(out, cfg, state)
        trainable = tune.with_resources(tune.with_parameters(run_trial, settings=settings),
                                        {"cpu": cfg.resources.cpus, "gpu": cfg.resources.gpus})
        exp = out / EXPERIMENT
        if resuming and tune.Tuner.can_restore(str(exp)):
            print(f"resuming: Ray Tune state in {exp}", flush=True)
            tuner = tune.Tuner.restore(str(exp), trainable, resume_unfinished=True,
                                       restart_errored=resume == "errored")
        else:
            if exp.exists():  # a session killed before Ray Tune's first snapshot: run folders stay
                import shutil

                shutil.rmtree(exp)
            tuner = tune.Tuner(
                trainable, param_space=param_space(cfg),
                tune_config=tune.TuneConfig(
                    search_alg=search_algorithm(cfg, metric), scheduler=scheduler(cfg),
                    num_samples=1 if cfg.settings.search == "grid" else cfg.settings.samples,
                    max_concurrent_trials=cfg.settings.max_concurrent if cfg.settings.search == "optuna" else None,
                    reuse_actors=True,
                    trial_dirname_creator=TrialDirname(cfg.model_options)),
                run_config=tune.RunConfig(
                    name=EXPERIMENT, storage_path=str(out), verbose=0,
                    failure_config=tune.FailureConfig(max_failures=0),
                    callbacks=[ConsoleProgress(str(out), total, metric, cfg.cost_key, cfg.model_options,
                                               enabled=progress)]))
        grid = tuner.fit()
        entries = [(r.config, r.metrics or {}, r.error) for r in grid]
    finally:
        try:
            if ray.is_initialized():
                ray.shutdown()
        finally:
            interrupts.__exit__(None, None, None)
    interrupted = interrupts.count > 0
    info = {"seconds": time.perf_counter() - t0, "where": where, "trials": total, "interrupted": interrupted}
    summary = write_results(out, cfg, collect_rows(entries, cfg, out, interrupted), metric, info)
    c = summary["counts"]
    unfinished = f"{c['unfinished']} unfinished, " if interrupted else ""
    print(f"{c['done']} done, {c['stopped']} stopped early, " + unfinished
          + f"{c['error']} failed; report: {summary['report']}", flush=True)
    if interrupted:
        print(f"sweep interrupted: {c['done'] + c['error']} of {total} trials finished; continue with: "
              f"surnn-neuro sweep {cfg.path} --out {out} --resume", flush=True)
        raise KeyboardInterrupt
    return summary
