"""``deploy(graph, out_dir)``: the Lava process graph in Lava's own save format plus a summary.

Writes the three files below into a staging folder beside ``out_dir`` that replaces ``out_dir`` in
one step once all are written (:func:`surnn_neuro.fileio.staged_dir`): a failed deployment leaves
no folder, or the previous deployment whole, never a network.pickle without its summary.

- ``network.pickle``: ``lava.utils.serialization.save`` of every process (Lava's format is a Python
  pickle; load it with ``lava.utils.serialization.load`` in an environment with surnn-neuro and
  lava-nc 0.10.0 installed, since the custom processes are referenced by module path);
- ``summary.json`` / ``summary.md``: processes (class, ports, depth), connections (shape, synapses,
  bit widths, exponents), fixed-point formats, latency, and the Loihi 2 resource estimate.

T, the steps per sample the graph is built for, is ``n_steps``, else the sequence length the graph
records (``metadata["seq_len"]``, or ``metadata["model_config"]["options"]["seq_len"]`` as the torch
converter writes it), else 100; the summary says which (``n_steps_source``).

Synapses are the non-zero weights **as deployed**: in fixed point a weight whose 8-bit mantissa
rounds to zero is no synapse, so the resource estimate is taken on ``fx.quantized_graph`` and equals
the sum of the connection table's rows; ``synapses_float_nonzero`` keeps the float graph's count
(the difference is the number of weights quantised to zero). A threshold gate's ``w_self`` is a
diagonal Dense: H entries, its non-zero diagonal counted once on both sides.

The saved ring buffer holds ``n_steps`` zero columns for one sample: replace its ``data`` (or connect
another source to the first Dense) to feed real input.
"""

from __future__ import annotations

import json
from pathlib import Path

from surnn_neuro.fileio import atomic_path, staged_dir, write_json_atomic, write_text_atomic
from surnn_neuro.hw_targets.lava import fixed_point as fx
from surnn_neuro.preflight import check_fits, check_value, output_dir
from surnn_neuro.hw_targets.lava.resources import loihi2_estimate
from surnn_neuro.ir.graph import EventGraph

NETWORK_FILE = "network.pickle"
#: the files of a deployment folder (a folder holding anything else is not replaced)
DEPLOY_FILES = (NETWORK_FILE, "summary.json", "summary.md")


def _ports(proc) -> list:
    out = []
    for kind, coll in (("in", proc.in_ports), ("out", proc.out_ports)):
        for p in coll:
            out.append({"name": p.name, "direction": kind, "shape": list(p.shape)})
    return out


def describe(net) -> dict:
    """JSON-ready description of a built :class:`~surnn_neuro.hw_targets.lava.network.LavaNetwork`."""
    procs = []
    for name, p in net.processes.items():
        procs.append({"name": name, "class": f"{type(p).__module__}.{type(p).__qualname__}",
                      "depth": net.depth.get(name), "ports": _ports(p)})
    widths = {
        "graded_payload_bits": 24,
        "gate_spike_bits": 1,
    }
    if net.fixed_point:
        widths.update(weight_mantissa_bits=fx.WEIGHT_BITS, state_bits=fx.STATE_BITS, sigma_bits=fx.STATE_BITS,
                      state_frac_bits=fx.F_H, lut_index_frac_bits=fx.F_L,
                      sigmoid_lut_entries=int(fx.SIGMOID_LUT.size), tanh_lut_entries=int(fx.TANH_LUT.size),
                      sigmoid_error_bound=fx.SIGMOID_ERROR_BOUND, tanh_error_bound=fx.TANH_ERROR_BOUND)
    else:
        widths.update(weights="float64", states="float64")
    return {
        "select_tag": net.select_tag,
        "n_steps": net.n_steps,
        "n_samples": net.n_samples,
        "lava_steps": net.n_lava_steps,
        "latency_steps": len(net.graph.layers) + 1,
        "processes": procs,
        "connections": net.connections,
        "bit_widths": widths,
        "fixed_point": net.plan.summary() if net.plan is not None else None,
    }


#: where T came from -> how the summary says it
_T_SOURCES = {
    "argument": "given: n_steps / --steps",
    "graph": "the sequence length recorded in the graph",
    "default": "a default: the graph records no sequence length; rebuild with --steps T for your input",
}


def steps_of(graph: EventGraph, n_steps: int | None = None) -> tuple:
    """(T, source): ``n_steps`` if given, else the graph's recorded sequence length, else 100.

    >>> from surnn_neuro.ir.examples import random_graph
    >>> g = random_graph(hidden=(4,), seed=0)
    >>> steps_of(g, 7), steps_of(g)
    ((7, 'argument'), (100, 'default'))
    """
    if n_steps is not None:
        return check_value("--steps", n_steps), "argument"
    meta = graph.metadata or {}
    opts = (meta.get("model_config") or {}).get("options") or {}
    for v in (meta.get("seq_len"), opts.get("seq_len")):
        if v:
            return int(v), "graph"
    return 100, "default"


def synapse_rows(summary: dict) -> list:
    """The connection-table rows that hold synapses: (src, dst, kind, non-zero weights)."""
    return [(c["src"], c["dst"], c["kind"], int(c["nnz"])) for c in summary["connections"]
            if "(into Dense)" not in c["kind"] and c.get("nnz") is not None]


def _markdown(summary: dict) -> str:
    r = summary["resources"]
    fixed = summary["bit_widths"].get("weight_mantissa_bits") is not None
    rows = synapse_rows(summary)
    table_total = sum(n for *_, n in rows)
    lines = [
        f"# Lava deployment: {summary['graph']['name']}",
        "",
        f"- models: `{summary['select_tag']}` (Loihi2SimCfg), lava-nc {summary['lava_version']}",
        f"- network file: `{NETWORK_FILE}` (lava.utils.serialization.save, a Python pickle)",
        f"- steps per sample T = {summary['n_steps']} ({_T_SOURCES[summary.get('n_steps_source', 'argument')]}); "
        f"output latency {summary['latency_steps']} steps "
        "(one per feed-forward Dense); a run of B samples takes B·T + latency steps",
        "",
        "## Processes",
        "",
        "| name | class | depth | ports |",
        "|---|---|---|---|",
    ]
    for p in summary["processes"]:
        ports = ", ".join(f"{q['direction']} {q['name']}{tuple(q['shape'])}" for q in p["ports"])
        depth = "–" if p["depth"] is None else p["depth"]  # a Dense sits between two depths (+1 step)
        lines.append(f"| {p['name']} | `{p['class'].rsplit('.', 1)[-1]}` | {depth} | {ports} |")
    lines += ["", "## Connections", "", "| src | dst | kind | shape | synapses | bits | weight_exp |",
              "|---|---|---|---|---|---|---|"]
    for c in summary["connections"]:
        if "(into Dense)" in c["kind"]:
            continue
        bits = c.get("weight_bits", "")
        bits = f"w {bits}, msg {c.get('num_message_bits', '')}" if bits else f"msg {c.get('num_message_bits', '-')}"
        lines.append(f"| {c['src']} | {c['dst']} | {c['kind']} | {c.get('shape', '')} | {c.get('nnz', '')} | {bits} "
                     f"| {c.get('weight_exp', '')} |")
    lines.append(f"| **total** | | | | **{table_total}** | | |")
    lines += ["", "Synapses: the non-zero weights as deployed"
              + (" (8-bit mantissa ≠ 0)" if fixed else "") + "."]
    float_nz = summary.get("synapses_float_nonzero")
    if fixed and float_nz is not None:
        zeroed = float_nz - table_total
        lines[-1] += (f" The float graph has {float_nz} non-zero weights; {zeroed} of them round to a zero "
                      "mantissa in fixed point and are not deployed." if zeroed else
                      f" No weight rounds to a zero mantissa (the float graph has {float_nz} non-zero weights too).")
    lines += ["", "## Bit widths", ""]
    lines += [f"- {k}: {v}" for k, v in summary["bit_widths"].items()]
    lines += ["", "## Loihi 2 resource estimate", "",
              f"- neurons: {r['neurons']['total']} "
              f"({', '.join(f'{k} {v}' for k, v in r['neurons']['per_node'].items())})",
              f"- synapses (non-zero weights as deployed, = the connection table's total): {r['synapses']['total']} "
              f"(dense entries {r['synapses']['dense_entries']})"
              + ("" if r['synapses']['total'] == table_total else
                 f" — DISAGREES with the connection table's {table_total}: please report this"),
              f"- synaptic memory at 8-bit weights: {r['synaptic_memory_bytes']['nonzero_8bit']} B non-zero, "
              f"{r['synaptic_memory_bytes']['dense_8bit']} B dense",
              f"- cores needed: {r['cores']['needed']} of {r['limits']['chip']['neuron_cores']} per chip "
              f"(by neurons {r['cores']['by_neurons']}, by synapses {r['cores']['by_synapses']}); "
              f"chips: {r['cores']['chips']}",
              f"- published limits: {r['limits']['chip']['max_neurons']} neurons, "
              f"{r['limits']['chip']['max_synapses']} "
              f"synapses, {r['limits']['chip']['neuron_cores']} cores per chip ({r['limits']['chip']['source']})",
              "", "Assumed:", ""]
    lines += [f"- {a}" for a in r["assumed"]]
    return "\n".join(lines) + "\n"


def deploy(graph: EventGraph, out_dir, fixed_point: bool = True, n_steps: int | None = None,
           input_range: float = 1.0) -> dict:
    """Emit ``graph`` as a Lava process graph into ``out_dir``; returns the summary dict.

    ``fixed_point``: the bit-accurate Loihi-2-style network (default) or the float one;
    ``n_steps``: T of one sample (default: the graph's recorded sequence length, else 100; see
    :func:`steps_of`); ``input_range``: the largest |x| the input payloads represent (fixed point).
    The folder and ``n_steps`` are checked first (:mod:`surnn_neuro.preflight`); UserError naming the
    option otherwise.
    """
    target = output_dir(out_dir, "--out", owned=DEPLOY_FILES)
    t, t_source = steps_of(graph, n_steps)
    # what grows with T: the input ring buffer (8 B per input), each layer's count and packed spike
    # records and its gate's spike train; about three copies exist while the graph is pickled
    per_step = 8 * graph.input.size + 24 + sum(24 + 8 * -(-ly.hidden_size // 8) + ly.hidden_size for ly in graph.layers)
    check_fits(3 * per_step * t, f"--steps {t}", "deploy fewer time steps")
    with staged_dir(target) as stage:
        return _deploy_into(graph, stage, t, t_source, fixed_point, input_range)


def _deploy_into(graph: EventGraph, out: Path, t: int, t_source: str, fixed_point: bool, input_range: float) -> dict:
    """The work of :func:`deploy`, writing into the staging folder ``out``."""
    from surnn_neuro.hw_targets.lava._mp import prepare as _prepare_mp
    _prepare_mp()  # before the first Lava import (see _mp.py)
    import lava
    from lava.utils.serialization import save

    from surnn_neuro.hw_targets.lava.network import build_network
    from surnn_neuro.hw_targets.lava.runner import quiet_lava_logging, release

    with quiet_lava_logging():
        net = build_network(graph, n_steps=t, fixed_point=fixed_point, config=fx.FixedPointConfig(input_range))
    try:
        with atomic_path(out / NETWORK_FILE) as tmp:
            save(list(net.processes.values()), str(tmp))
        summary = describe(net)
        plan = net.plan
    finally:
        release(net)
    # synapses as deployed: the fixed-point network holds the quantised weights (module doc)
    deployed = fx.quantized_graph(graph, plan) if plan is not None else graph
    summary.update(
        graph={"name": graph.metadata.get("name") or "event graph", "nodes": list(graph.node_names),
               "layers": [{"name": ly.name, "cell": ly.cell, "hidden": ly.hidden_size,
                           "gate": type(graph.gate_of(ly.name)).kind} for ly in graph.layers]},
        lava_version=getattr(lava, "__version__", "0.10.0"),
        network_file=NETWORK_FILE,
        n_steps_source=t_source,
        resources=loihi2_estimate(deployed),
        synapses_float_nonzero=loihi2_estimate(graph)["synapses_total"],
    )
    write_json_atomic(out / "summary.json", json.loads(json.dumps(summary, default=str)))
    write_text_atomic(out / "summary.md", _markdown(summary))
    return summary
