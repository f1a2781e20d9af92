"""The handlers of the ``surnn-neuro`` subcommands: one ``cmd_*`` function per subcommand.

Each takes the parsed arguments; heavy modules are imported inside, so ``--help`` stays fast. Bad
input raises :class:`~surnn_neuro.errors.UserError` (one line, status 2, :func:`surnn_neuro.cli.main`).
"""

from __future__ import annotations

import json
import os
import sys

from surnn_neuro.errors import UserError, doing
from surnn_neuro.preflight import distinct_outputs, input_dir, input_file, input_path, output_file

PROG = "surnn-neuro"


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
