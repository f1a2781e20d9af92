"""The ``surnn-neuro`` command.

Subcommands are registered in one table (:data:`COMMANDS`); each has ``--help``. Heavy modules are
imported inside the handlers, so ``--help`` stays fast.

Errors (README, "When something goes wrong"): every option and path is checked before any work
starts, its type and bounds from one table (:data:`surnn_neuro.preflight.OPTIONS`). Bad input
(a :class:`~surnn_neuro.errors.UserError`, or a value the parser refuses) prints one line
``surnn-neuro: error: ...`` and exits with status 2. :func:`main` is the one error boundary:
anything else that escapes a command prints one line naming what the command was doing (exit
status 1); ``--debug`` or ``SURNN_NEURO_DEBUG=1`` prints the traceback instead. A closed output
pipe (``energy --json | head``) ends the command quietly with status 141, as a signal would.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from surnn_neuro.errors import DEBUG_ENV, UserError, debug_enabled, doing, unexpected_message
from surnn_neuro.preflight import (OPTIONS, argtype, distinct_outputs, input_dir, input_file, input_path,
                                   output_file)

PROG = "surnn-neuro"


def _opt(p: argparse.ArgumentParser, flag: str, help: str, default=None, **kw):
    """An option whose type and bounds come from the table (surnn_neuro.preflight.OPTIONS)."""
    shown = f"; default {default}" if default is not None else ""
    p.add_argument(flag, type=argtype(flag), default=default,
                   help=f"{help} ({OPTIONS[flag].accepts()}{shown})".replace("%", "%%"), **kw)


def _check_task(name: str) -> None:
    from surnn_neuro.datasets import known_tasks

    if name not in known_tasks():
        raise UserError(f"--task: unknown task {name!r}; known: {', '.join(known_tasks())}")


def _parse_options(model: str, pairs) -> dict:
    """``--option KEY=VALUE`` pairs as the model's typed, checked options (models/options.py)."""
    from surnn_neuro.models import MODELS, parse_options

    if model not in MODELS:
        raise UserError(f"--model: unknown model {model!r}; known: {', '.join(MODELS)}")
    try:
        return parse_options(model, pairs)
    except ValueError as e:
        raise UserError(f"--{e}" if str(e).startswith("option ") else f"--option {e}") from None


def _add_train_args(p: argparse.ArgumentParser, task_required=True):
    from surnn_neuro.models import MODELS

    p.add_argument("--task", required=task_required, help="task name (see 'surnn-neuro tasks')")
    p.add_argument("--model", required=task_required, help=f"model name: {', '.join(MODELS)}")
    _opt(p, "--hidden", "hidden size H per layer", 64)
    _opt(p, "--layers", "stacked layers", 1)
    _opt(p, "--epochs", "training epochs", 10)
    _opt(p, "--batch-size", "batch size", 32)
    _opt(p, "--lr", "Adam learning rate", 3e-3)
    _opt(p, "--budget", "update-budget weight λ of λ·Σ_t u_t (SA-RNN eq. 9)", 0.0)
    _opt(p, "--seq-len", "sequence length for synthetic tasks, time bins of event data")
    _opt(p, "--seed", "random seed (same seed, same metrics)", 0)
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="model/gate option, repeatable (e.g. harmonics=4, duty=0.2, readout=mean)")
    p.add_argument("--data-dir", default=None, help="folder with local dataset files")
    p.add_argument("--data", default=None, metavar="FILE",
                   help="--task arrays: .npz or HDF5 file with x_train, y_train, x_test, y_test")
    _opt(p, "--device", "where torch runs", "auto")
    _opt(p, "--threads", "CPU threads for torch (1: recurrent steps are too small to split)", 1)


def _data_location(args):
    """--data FILE (task arrays, stored as an absolute path so that evaluate finds it) or
    --data-dir DIR; one of them at most."""
    if args.data is None:
        if args.task == "arrays" and args.data_dir is not None:
            raise UserError("--task arrays reads one file: pass --data FILE, not --data-dir")
        if args.data_dir is not None:
            input_dir(args.data_dir, "--data-dir", "data folder")
        return args.data_dir
    if args.data_dir is not None:
        raise UserError("give --data FILE or --data-dir DIR, not both")
    if args.task != "arrays":
        raise UserError(f"--data: only --task arrays reads a file; task {args.task} takes "
                        f"--data-dir")
    return str(input_file(args.data, "--data").resolve())


# -- handlers -------------------------------------------------------------------------------------

def cmd_train(args):
    from surnn_neuro.training.loop import TrainConfig
    from surnn_neuro.training.runs import train_run

    _check_task(args.task)
    cfg = TrainConfig(task=args.task, model=args.model, hidden=args.hidden, layers=args.layers,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, budget=args.budget,
                      seq_len=args.seq_len, seed=args.seed, options=_parse_options(args.model, args.option),
                      data_dir=_data_location(args), device=args.device,
                      threads=args.threads)
    metrics = train_run(cfg, args.out, progress=not args.quiet, distributed=args.distributed)
    if metrics is None:  # a non-zero rank of a --distributed run: rank 0 reports and writes
        return
    _print_metrics(metrics)
    print(f"wrote {args.out}/checkpoint.pt and {args.out}/metrics.json (timings.json: wall-clock seconds)")


def _print_metrics(m: dict):
    print(f"{m['task']} / {m['model']}: {m['metric']} = {m['value']:.4f}"
          + (f" (solved: {'yes' if m['solved'] else 'no'})" if "solved" in m else ""))
    print(f"update rate {m['update_rate']:.4f}  skip {m['skip_percent']:.1f} %  "
          f"FLOPs/sequence {m['flops_per_sequence']:.4g}  params {m['params']}")


def cmd_evaluate(args):
    from surnn_neuro.training.runs import evaluate_run

    input_path(args.run_dir, "", "run folder or checkpoint")
    metrics = evaluate_run(args.run_dir, device=args.device)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        _print_metrics(metrics)


def cmd_tasks(args):
    from surnn_neuro.models import MODELS
    from surnn_neuro.training.tasks import EVENT_TASKS, TASKS

    print("tasks:")
    for name, (_, desc) in TASKS.items():
        print(f"  {name:15s} {desc}")
    for name in EVENT_TASKS:
        print(f"  {name:15s} event dataset (--data-dir; see docs/datasets.md)")
    print("models:")
    for name, spec in MODELS.items():
        print(f"  {name:15s} {spec.description}")


def cmd_convert(args):
    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.fileio import staged_files
    from surnn_neuro.ir.io import write_graph
    from surnn_neuro.training.checkpoint import load_checkpoint

    if not args.out and not args.nir:
        raise UserError("convert: give --out GRAPH.h5 and/or --nir FILE.nir")
    is_nir = str(args.run_dir).endswith(".nir")
    src = (input_file(args.run_dir, "", "NIR file") if is_nir else
           input_path(args.run_dir, "", "run folder or checkpoint"))
    outs = [(flag, output_file(path, flag)) for flag, path in (("--out", args.out), ("--nir", args.nir)) if path]
    distinct_outputs(("", src), *outs)
    if is_nir:  # a NIR graph trained elsewhere -> event graph
        graph = _import_nir(args)
    else:
        if args.producer or args.reset or args.reset_delay is not None:
            raise UserError("--producer, --reset, --reset-delay: only for a NIR file (FILE.nir) to import")
        model, _ = load_checkpoint(args.run_dir)
        with doing(f"converting {args.run_dir} to an event graph"):
            graph = to_graph(model, input_encoding=args.input_encoding)
    if args.nir:  # checked before anything is written
        from surnn_neuro.converters.nir_io import check_nir_exportable

        try:
            check_nir_exportable(graph, args.nir_surnn_only, opt_in="--nir-surnn-only")
        except UserError as e:
            raise UserError(f"--nir: {e}") from None
    # both files or neither: written into staging folders, renamed together at the end
    with doing(f"writing {', '.join(str(p) for _, p in outs)}"), staged_files([p for _, p in outs]) as staged:
        written = dict(zip((f for f, _ in outs), staged))
        if "--out" in written:
            write_graph(graph, written["--out"])
        if "--nir" in written:
            from surnn_neuro.converters.nir_io import write_nir

            write_nir(graph, written["--nir"], allow_surnn_only=args.nir_surnn_only)
    if args.out:
        kinds = ("spiking " + ", ".join(ly.neuron + ("" if ly.reset == "value" else f" (reset {ly.reset})")
                                        for ly in graph.layers) if graph.spiking else
                 "gates " + ", ".join(graph.gate_of(ly.name).kind for ly in graph.layers))
        print(f"wrote {args.out}: {len(graph.layers)} layer(s), {kinds}, input {graph.input.encoding}")
    if args.nir:
        import nir

        what = ("standard NIR" if graph.spiking and all(ly.reset == "value" for ly in graph.layers) else
                "gates and selective updates in node metadata: only surnn-neuro reads it back exactly")
        print(f"wrote {args.nir} (NIR {nir.__version__}; {what})")


def _import_nir(args):
    """``convert FILE.nir``: the producer's conventions from the flags; each NIRConventionWarning
    (what the file cannot carry) printed as one line."""
    import warnings

    from surnn_neuro.converters.nir_io import NIRConventionWarning, NIRProducer, read_nir

    try:
        producer = NIRProducer(args.producer or "nir", reset=args.reset, reset_delay=args.reset_delay)
    except ValueError as e:
        raise UserError("--" + str(e).replace("reset_delay", "reset-delay", 1)) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NIRConventionWarning)
        graph = read_nir(args.run_dir, dt=args.dt, producer=producer)
    for w in caught:
        if issubclass(w.category, NIRConventionWarning):
            print(f"{PROG}: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return graph


def cmd_simulate(args):
    from surnn_neuro.fileio import staged_files
    from surnn_neuro.ir.io import read_graph, write_trace
    from surnn_neuro.simulate_task import simulate_on_task
    from surnn_neuro.simulators import BACKENDS

    if args.backend not in BACKENDS:
        raise UserError(f"--backend: unknown backend {args.backend!r}; known: {', '.join(sorted(BACKENDS))}")
    if (args.task is None) == (args.input is None):
        raise UserError("simulate: give exactly one of --task TASK or --input X.npy")
    src = input_file(args.graph, "", "event graph file")
    if args.input is not None:
        input_file(args.input, "--input")
    else:
        _check_task(args.task)
    out = output_file(args.out, "--out") if args.out else None
    distinct_outputs(("", src), ("--out", out))
    data = _data_location(args) if args.task is not None else None
    graph = read_graph(args.graph)
    with doing(f"simulating {args.graph} on the {args.backend} backend"):
        if args.task is not None:
            trace, result = simulate_on_task(graph, args.task, backend=args.backend, limit=args.limit,
                                             data_dir=data, seq_len=args.seq_len, split=args.split)
        else:
            from surnn_neuro.simulate_task import simulate_on_array

            trace, result = simulate_on_array(graph, args.input, backend=args.backend, limit=args.limit)
    if args.task is not None:
        print(f"{args.backend} on {args.task} ({result['n']} samples, T={trace.n_steps}): "
              f"{result['metric']} = {result['value']:.4f}")
    else:
        print(f"{args.backend} on {args.input} ({result['n']} samples, T={trace.n_steps})")
    print(f"update rate {trace.update_rate():.4f}  gate spikes/inference {result['gate_spikes']:.1f}  "
          f"events/inference {result['events']:.1f}  synaptic ops/inference {result['synaptic_ops']:.1f}  "
          f"(dense MACs {result['dense_macs']:.1f})")
    if out is not None:
        with doing(f"writing {out}"), staged_files([out]) as (staged,):
            write_trace(trace, staged)
        print(f"wrote {args.out}")


def cmd_energy(args):
    from surnn_neuro.metrics.cli import energy_report, resolve_profiles

    input_file(args.trace, "", "trace file")
    for path in args.profile_file or ():
        input_file(path, "--profile-file", "energy profile file")
    resolve_profiles(args.profile, args.profile_file or ())  # every name and file, before the trace
    print(energy_report(args.trace, profiles=args.profile, profile_files=args.profile_file or (),
                        memory=args.memory, as_json=args.json))


def cmd_deploy(args):
    from surnn_neuro.ir.io import read_graph
    from surnn_neuro.preflight import output_dir

    if args.target != "lava":
        raise UserError(f"--target: unknown target {args.target!r}; known: lava")
    input_file(args.graph, "", "event graph file")
    try:
        from surnn_neuro.hw_targets.lava import deploy
        from surnn_neuro.hw_targets.lava.deployment import DEPLOY_FILES
    except ImportError as e:
        raise UserError(f"--target lava needs lava-nc 0.10.0 on Python 3.10 ({e})") from None
    output_dir(args.out, "--out", owned=DEPLOY_FILES)
    graph = read_graph(args.graph)
    with doing(f"deploying {args.graph} to a Lava process graph in {args.out}"):
        summary = deploy(graph, args.out, fixed_point=not args.float, n_steps=args.steps)
    res = summary.get("resources", {})
    print(f"wrote {args.out}: Lava process graph ({'floating_pt' if args.float else 'fixed_pt'}), "
          f"summary.md, summary.json")
    if res:
        print("Loihi 2 resource estimate: " + ", ".join(
            f"{k} {v}" for k, v in res.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool))[:400])


def cmd_data_check(args):
    from surnn_neuro.datasets import check
    from surnn_neuro.datasets.summary import check_complete

    if args.path != "event-digits" or os.path.exists(args.path):
        input_path(args.path, "", "dataset file or folder")
        check_complete(args.path)
    print(check(args.path, limit=args.limit, progress=True))


def cmd_run(args):
    from surnn_neuro.pipeline import RunOptions, run_pipeline

    run_pipeline(RunOptions(out=args.out, epochs=args.epochs, hidden=args.hidden, seed=args.seed,
                            quick=args.quick, device=args.device, stages=args.stages,
                            lava_limit=args.lava_limit))


def cmd_sweep(args):
    from surnn_neuro.sweep import run_sweep

    summary = run_sweep(args.config, args.out, address=args.address, resume=args.resume,
                        progress=not args.quiet)
    if summary["counts"]["done"] == 0:
        raise SystemExit(1)  # every trial failed or stopped: nothing to compare


# -- parser ---------------------------------------------------------------------------------------

def _p_train(sub):
    p = sub.add_parser("train", help="train a model on a task", description=(
        "Train a model and write RUN_DIR/checkpoint.pt, metrics.json, history.json and timings.json "
        "(all of them or, if anything fails, none)."))
    _add_train_args(p)
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder to write")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--distributed", action="store_true", help=(
        "data-parallel training under torchrun (gloo on CPU, NCCL on CUDA): each global batch of "
        "--batch-size samples is split across the ranks; rank 0 writes RUN_DIR"))
    p.set_defaults(func=cmd_train)


def _p_evaluate(sub):
    p = sub.add_parser("evaluate", help="reload a run and re-score it on the test split",
                       description="Reload RUN_DIR/checkpoint.pt (no pickled code is executed) and score it.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    _opt(p, "--device", "where torch runs", "auto")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=cmd_evaluate)


def _p_tasks(sub):
    p = sub.add_parser("tasks", help="list tasks and models", description="List tasks and models.")
    p.set_defaults(func=cmd_tasks)


def _p_run(sub):
    p = sub.add_parser("run", help="the main job: train, compare, convert, simulate, report", description=(
        "Train sugru and the dense gru on digits and compare them; later stages convert, simulate, "
        "estimate energy and deploy to Lava. Writes everything into --out."))
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    _opt(p, "--epochs", "override the training epochs")
    _opt(p, "--hidden", "hidden size", 64)
    _opt(p, "--seed", "random seed", 0)
    p.add_argument("--quick", action="store_true", help="tiny settings for a smoke run")
    _opt(p, "--device", "where torch runs", "auto")
    p.add_argument("--stages", default=None, help="comma-separated subset of stages to run")
    _opt(p, "--lava-limit", "digits test samples run on Lava (default 120 of 360; 360 for all)")
    p.set_defaults(func=cmd_run)


def _p_convert(sub):
    p = sub.add_parser("convert", help="trained model -> event graph (HDF5) and/or NIR", description=(
        "Recast a trained model as an event-driven spiking network: gate spikes plus graded delta "
        "events, stored as a portable event graph (HDF5)."))
    p.add_argument("run_dir", metavar="RUN_DIR|FILE.nir",
                   help="a training run, or a NIR graph (LIF/CubaLIF/Affine, recurrent) to import")
    p.add_argument("--out", metavar="GRAPH.h5", help="event graph file to write")
    _opt(p, "--dt", "time step of an imported NIR graph in s (default: the producer's, else its metadata, else 1e-4)")
    p.add_argument("--producer", choices=("nir", "snntorch", "norse"), default=None,
                   help="who wrote the NIR file: its conventions the file cannot carry are applied "
                        "(snnTorch: dt 1e-4 and its reset; Norse: tau written as tau*dt, dt 1e-3); docs/nir.md")
    p.add_argument("--reset", choices=("subtract", "zero"), default=None,
                   help="snnTorch's reset_mechanism of the exported network (default snnTorch's: subtract)")
    p.add_argument("--reset-delay", action=argparse.BooleanOptionalAction, default=None,
                   help="snnTorch's reset_delay of the exported network (default snnTorch's: on)")
    p.add_argument("--nir", metavar="FILE.nir", help="also export to NIR")
    p.add_argument("--nir-surnn-only", action="store_true",
                   help="write --nir although the graph has gated layers (or resets) that NIR cannot express: "
                        "only surnn-neuro reads the file back exactly, other tools misread it")
    p.add_argument("--input-encoding", default="dense", choices=("dense", "delta", "spikes"),
                   help="how the input is sent: dense values, delta events or binary spikes")
    p.set_defaults(func=cmd_convert)


def _p_simulate(sub):
    from surnn_neuro.simulators import BACKENDS

    p = sub.add_parser("simulate", help="run an event graph on a task's test split", description=(
        "Simulate an event graph on a task's data and count every event and synaptic operation."))
    p.add_argument("graph", metavar="GRAPH.h5")
    p.add_argument("--backend", default="reference", help=f"one of: {', '.join(sorted(BACKENDS))}")
    p.add_argument("--task", help="task whose test split is simulated")
    p.add_argument("--input", metavar="X.npy", help="or: inputs as a (B, T, V) numpy array file")
    _opt(p, "--limit", "simulate only the first N samples")
    p.add_argument("--split", default="test", choices=("test", "train"))
    _opt(p, "--seq-len", "sequence length for synthetic tasks, time bins of event data")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--data", default=None, metavar="FILE", help="--task arrays: .npz or HDF5 file")
    p.add_argument("--out", metavar="TRACE.h5", help="trace file to write")
    p.set_defaults(func=cmd_simulate)


def _p_energy(sub):
    p = sub.add_parser("energy", help="energy estimates of a trace per hardware profile", description=(
        "Estimate the energy per inference of a simulated trace on published hardware cost models. "
        "Every number is an estimate."))
    p.add_argument("trace", metavar="TRACE.h5")
    p.add_argument("--profile", action="append", help="built-in profile (repeatable; default: all)")
    p.add_argument("--profile-file", action="append", help="user profile, TOML or JSON (repeatable)")
    p.add_argument("--memory", action="store_true", help="add one weight fetch per synaptic op")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_energy)


def _p_deploy(sub):
    p = sub.add_parser("deploy", help="event graph -> Lava process graph for Loihi-style targets",
                       description=("Emit a Lava process graph (Lava's own save format) with a "
                                    "human-readable summary and a Loihi 2 resource estimate."))
    p.add_argument("graph", metavar="GRAPH.h5")
    p.add_argument("--target", default="lava", help="deployment target (lava)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--float", action="store_true", help="floating_pt models instead of Loihi 2 fixed_pt")
    _opt(p, "--steps", "time steps the saved graph is built for")
    p.set_defaults(func=cmd_deploy)


def _p_data(sub):
    p = sub.add_parser("data", help="event dataset tools", description="Event dataset tools.")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    dsub.required = True
    c = dsub.add_parser("check", help="validate a dataset folder or file and summarise it", description=(
        "Validate a dataset folder or file (SHD, SSC, DVS128 Gesture, N-MNIST, 'event-digits', or an "
        ".npz/HDF5 file of task arrays) and print samples per split, classes, duration and "
        "event-rate statistics."))
    c.add_argument("path", metavar="PATH")
    _opt(c, "--limit", "check only the first N samples per split")
    c.set_defaults(func=cmd_data_check)


def _p_sweep(sub):
    p = sub.add_parser("sweep", help="accuracy-energy sweep on Ray Tune (local Ray or a cluster)", description=(
        "Train, convert, simulate and estimate energy for every trial of CONFIG.toml on Ray Tune; "
        "write a results table (CSV, JSON) with the Pareto fronts marked, one Pareto figure per "
        "profile and report.md into --out. The file format is in docs/sweep.md."))
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder (new, or with --resume)")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="join this Ray cluster (e.g. HEAD:6379, or 'auto'); default: a local Ray instance")
    p.add_argument("--resume", nargs="?", const="unfinished", default=None, choices=("unfinished", "errored"),
                   help="continue the sweep in --out (or start it): finished trials are kept; "
                        "'--resume errored' also re-runs failed trials")
    p.add_argument("--quiet", action="store_true", help="no progress bar (one line per trial stays)")
    p.set_defaults(func=cmd_sweep)


#: subcommand name -> parser builder (one table)
COMMANDS = {"train": _p_train, "evaluate": _p_evaluate, "convert": _p_convert, "simulate": _p_simulate,
            "energy": _p_energy, "deploy": _p_deploy, "data": _p_data, "run": _p_run, "tasks": _p_tasks,
            "sweep": _p_sweep}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``surnn-neuro train: error: --epochs: ...`` and a pointer to
    ``--help`` instead of the usage block (status 2, as for every other bad input)."""

    def error(self, message):
        if message.startswith("argument "):
            message = message[len("argument "):]
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


def _add_debug(p: argparse.ArgumentParser, top: bool = False) -> None:
    p.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                   help=f"on an unexpected error print the traceback (also: {DEBUG_ENV}=1)")


def make_parser() -> argparse.ArgumentParser:
    from surnn_neuro import __version__

    parser = _Parser(prog=PROG, description=(
        "Selective-update recurrent networks from training to spiking hardware."))
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_debug(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for build in COMMANDS.values():
        build(sub)
    todo = list(sub.choices.values())
    while todo:  # every subcommand (and data check) takes --debug too
        p = todo.pop()
        _add_debug(p)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += list(action.choices.values())
    return parser


def _command(args) -> str:
    return " ".join(c for c in (getattr(args, "command", None), getattr(args, "data_command", None)) if c)


def _quiet_stdout() -> None:
    """After a closed pipe: send what is left of stdout nowhere, so that the interpreter's final
    flush does not print a second BrokenPipeError."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv=None) -> int:
    """Run the command line ``argv``; returns the exit status (0, 1, 2, 130 or 141)."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a refused option (one line already printed)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    debug = bool(getattr(args, "debug", False)) or debug_enabled()
    command = _command(args)
    try:
        args.func(args)
        sys.stdout.flush()  # inside the boundary: a closed pipe shows up here, not at exit
    except UserError as e:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (energy --json | head): not an error of ours
        _quiet_stdout()
        return 141
    except Exception as e:  # noqa: BLE001 - the one boundary: one line, traceback on request
        if debug:
            import traceback

            traceback.print_exc()
        where = f"running '{PROG} {command}'"
        print(f"{PROG}: error: {unexpected_message(e, where)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
