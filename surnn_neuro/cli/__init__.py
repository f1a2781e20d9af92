"""The ``surnn-neuro`` command: the parsers, the table of subcommands and the error boundary.

Subcommands are registered in one table (:data:`COMMANDS`); each has ``--help``. Their handlers are
in :mod:`surnn_neuro.cli.handlers`, which imports heavy modules inside each handler, so ``--help``
stays fast.

Errors (README, "When something goes wrong"): every option and path is checked before any work
starts, its type and bounds from one table (:data:`surnn_neuro.preflight.OPTIONS`). Bad input
(a :class:`~surnn_neuro.errors.UserError`, or a value the parser refuses) prints one line
``surnn-neuro: error: ...`` and exits with status 2. :func:`main` is the one error boundary:
anything else that escapes a command prints one line naming what the command was doing (exit
status 1); ``--debug`` or ``SURNN_NEURO_DEBUG=1`` prints the traceback instead. A closed output
pipe (``energy --json | head``) ends the command quietly with status 141, as a signal would.
Ctrl-C ends it with status 130 and SIGTERM with 143, both after the cleanup (staging folders
removed, Lava's processes stopped; :func:`surnn_neuro.errors.terminate_as_interrupt`).
"""

from __future__ import annotations

import argparse
import os
import sys

from surnn_neuro.cli.handlers import (PROG, _parse_options, cmd_convert, cmd_data_check, cmd_deploy,  # noqa: F401
                                      cmd_energy, cmd_evaluate, cmd_run, cmd_simulate, cmd_sweep, cmd_tasks,
                                      cmd_train)
from surnn_neuro.errors import (DEBUG_ENV, Terminated, UserError, debug_enabled, terminate_as_interrupt,
                                unexpected_message)
from surnn_neuro.preflight import OPTIONS, argtype


def _opt(p: argparse.ArgumentParser, flag: str, help: str, default=None, **kw):
    """An option whose type and bounds come from the table (surnn_neuro.preflight.OPTIONS)."""
    shown = f"; default {default}" if default is not None else ""
    p.add_argument(flag, type=argtype(flag), default=default,
                   help=f"{help} ({OPTIONS[flag].accepts()}{shown})".replace("%", "%%"), **kw)


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
    """Run the command line ``argv``; returns the exit status (0, 1, 2, 130, 141 or 143)."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a refused option (one line already printed)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    debug = bool(getattr(args, "debug", False)) or debug_enabled()
    command = _command(args)
    try:
        with terminate_as_interrupt():
            args.func(args)
        sys.stdout.flush()  # inside the boundary: a closed pipe shows up here, not at exit
    except UserError as e:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return 143
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
