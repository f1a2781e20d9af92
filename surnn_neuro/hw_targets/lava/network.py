"""Event graph → Lava process graph (docs/lava.md §1).

::

    RingBuffer(input payloads) ──┬──────────────► InputEventCounter
                                 ├─ Dense W_ih ─► SelectiveUpdateNeurons(layer1) ◄─ g ── gate1
                                 └─ Dense W_in ─► ThresholdGateNeuron(gate1)        (threshold only)
             layer1.s_out ──┬─ Dense W_hh ────► layer1.r_in                       (recurrent, 1 step)
                            ├─ Dense w_self ──► gate1.self_in                     (threshold gate)
                            ├─ Dense w ───────► gate1.a_in                        (skip gate)
                            └─ Dense W_ih(2) ─► layer2 …  ──► Dense W_o ─► ReadoutNeurons ─► Extractor (monitor)

Every data connection is a ``lava.proc.dense.process.Dense`` with ``num_message_bits=24`` (graded
delta events). Gate spikes go straight to the layer (same step). The float network gives Dense the
float weights; the fixed-point one gives it ``2·m`` (8-bit mantissas, MIXED sign mode), the
per-connection ``weight_exp`` and ``num_weight_bits=8`` (``fixed_point.plan_fixed_point``).

Depths (the latency compensation, ``timing.py``): the counter 0, layer ``l`` and its gate ``l``, the
readout ``L + 1``; the ring buffer holds ``B·T`` input columns followed by ``L + 1`` zero columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from surnn_neuro.hw_targets.lava._mp import prepare as _prepare_mp
_prepare_mp()  # before the first Lava import (see _mp.py)
from lava.proc.dense.process import Dense
from lava.proc.io.extractor import Extractor
from lava.proc.io.source import RingBuffer
from lava.utils.weightutils import SignMode

from surnn_neuro.hw_targets.lava import fixed_point as fx
from surnn_neuro.hw_targets.lava.processes.gates import GlobalGateNeuron, SpikeScheduleGate, ThresholdGateNeuron
from surnn_neuro.hw_targets.lava.processes.io import InputEventCounter, ReadoutNeurons
from surnn_neuro.hw_targets.lava.processes.layer import SelectiveUpdateNeurons
from surnn_neuro.hw_targets.lava.resources import check_supported
from surnn_neuro.hw_targets.lava.timing import lava_steps
from surnn_neuro.ir.counting import fanout, layer_fanouts
from surnn_neuro.ir.graph import EventGraph

#: Graded payload width of every Dense (Loihi 2 graded spikes, reference/neuromorphic_facts.md §2.7).
MESSAGE_BITS = 24
#: Host-side buffer of the output monitor (messages); the runner drains it while Lava runs.
MONITOR_BUFFER = 1024


@dataclass(eq=False)
class LavaNetwork:
    """A built process graph and what the runner needs to read it back.

    ``processes``: name → Lava process, in creation order; ``connections``: one dict per port
    connection (src, dst, kind, shape, nnz, bit widths); ``depth``: process name → Dense hops from
    the input; ``plan``: the fixed-point formats (None for float).
    """

    graph: EventGraph
    fixed_point: bool
    n_steps: int
    n_samples: int
    n_lava_steps: int
    processes: dict
    connections: list
    depth: dict
    source: object
    counter: object
    layers: dict
    gates: dict
    readout: object
    monitor: object
    plan: object = None
    select_tag: str = field(init=False)

    def __post_init__(self):
        self.select_tag = "fixed_pt" if self.fixed_point else "floating_pt"


def input_payloads(graph: EventGraph, x: np.ndarray, plan=None) -> np.ndarray:
    """``x: (B, T, V)`` → ring-buffer data ``(V, B·T + L + 1)``: per encoding the values (dense,
    spikes) or the deltas ``x_t − x_{t−1}`` (``x_{−1} = 0`` per sample), then ``L + 1`` zero columns.
    Fixed point: payloads ``round(x·2^F_X)`` saturated to ±input_range, deltas of the rounded values
    (their running sum is exactly the rounded input)."""
    n_b, n_t, v = x.shape
    n_l = len(graph.layers)
    if plan is not None:
        r = plan.input_range
        vals = fx.quantize_value(np.clip(x, -r, r), plan.input_frac)
        dtype = np.int32
    else:
        vals = x.astype(np.float64)
        dtype = np.float64
    if graph.input.encoding == "delta":
        vals = np.diff(vals, axis=1, prepend=0)
    data = np.zeros((v, lava_steps(n_t, n_b, n_l)), dtype=dtype)
    data[:, : n_b * n_t] = vals.reshape(n_b * n_t, v).T
    return data


def _threshold_process(gate, layer, mode, depth, frac, tag_kw):
    return ThresholdGateNeuron(bias=gate.bias, input_mode=mode, depth=depth, sigma_frac_bits=frac, name=gate.name,
                               **tag_kw)


def _global_process(gate, layer, mode, depth, frac, tag_kw):
    return GlobalGateNeuron(hidden=layer.hidden_size, bias=gate.bias, init_prob=gate.init_prob, depth=depth,
                            sigma_frac_bits=frac, name=gate.name, **tag_kw)


def _schedule_process(gate, layer, mode, depth, frac, tag_kw):
    return SpikeScheduleGate(spike_train=gate.spike_train(tag_kw["n_steps"]), depth=depth,
                             n_samples=tag_kw["n_samples"], name=gate.name)


#: gate kind -> its Lava process (input-independent kinds: the precomputed spike train)
GATE_PROCESSES = {"oscillator": _schedule_process, "schedule": _schedule_process, "always": _schedule_process,
                  "threshold": _threshold_process, "global": _global_process}


def _gate_process(gate, layer, mode, depth, frac, tag_kw):
    try:
        make = GATE_PROCESSES[type(gate).kind]
    except KeyError:
        raise ValueError(f"Lava target: no process for gate kind {type(gate).kind!r}; "
                         f"known: {', '.join(GATE_PROCESSES)}") from None
    return make(gate, layer, mode, depth, frac, tag_kw)


def build_network(graph: EventGraph, x: np.ndarray | None = None, *, n_steps: int | None = None,
                  fixed_point: bool = False, config: fx.FixedPointConfig | None = None) -> LavaNetwork:
    """Emit the Lava process graph of ``graph`` for the batch ``x: (B, T, V)``.

    Without ``x`` (deployment) the ring buffer holds ``n_steps`` zero columns for one sample.
    ``config.input_range`` (fixed point) defaults to max|x| of the batch (1.0 without ``x``).
    """
    check_supported(graph)
    if x is None:
        if n_steps is None or n_steps < 1:
            raise ValueError("build_network: give the input x or n_steps >= 1")
        x = np.zeros((1, int(n_steps), graph.input.size))
    x = graph.check_input(x)
    n_b, n_t, _ = x.shape
    n_l = len(graph.layers)
    config = config or fx.FixedPointConfig()
    plan = None
    if fixed_point:
        rng = config.input_range
        if rng is None:
            rng = float(np.max(np.abs(x))) or 1.0
        plan = fx.plan_fixed_point(graph, rng)
    tag_kw = dict(n_steps=n_t, n_samples=n_b)
    procs, conns, depth = {}, [], {}

    def add(proc, d=None):
        procs[proc.name] = proc
        if d is not None:
            depth[proc.name] = d
        return proc

    def connect(src_proc, src_port, dst_proc, dst_port, kind, dense=None):
        getattr(src_proc, src_port).connect(getattr(dst_proc, dst_port))
        conns.append({"src": f"{src_proc.name}.{src_port}", "dst": f"{dst_proc.name}.{dst_port}", "kind": kind,
                      **(dense or {})})

    def dense(name, w, consumer, role, src_proc, dst_proc, dst_port, kind):
        """A graded Dense from ``src_proc.s_out`` to ``dst_proc.dst_port``."""
        w = np.asarray(w, dtype=np.float64)
        info = {"shape": list(w.shape), "nnz": int(np.count_nonzero(w)), "num_message_bits": MESSAGE_BITS}
        if plan is not None:
            info["nnz"] = int(np.count_nonzero(plan.weights[(consumer, role)].mantissa))
        if plan is None:
            proc = Dense(weights=w, num_message_bits=MESSAGE_BITS, name=name)
            info.update(weight_bits="float64")
        else:
            f = plan.weights[(consumer, role)]
            proc = Dense(weights=f.register_weights, weight_exp=f.weight_exp, num_weight_bits=fx.WEIGHT_BITS,
                         sign_mode=SignMode.MIXED, num_message_bits=MESSAGE_BITS, name=name)
            info.update(weight_bits=fx.WEIGHT_BITS, weight_exponent=f.exponent, weight_exp=f.weight_exp,
                        payload_frac_bits=f.payload_frac, sigma_frac_bits=f.sigma_frac)
        add(proc)
        connect(src_proc, "s_out", proc, "s_in", kind + " (into Dense)")
        connect(proc, "a_out", dst_proc, dst_port, kind, info)
        return proc

    sig = (lambda n: plan.sigma_frac[n]) if plan is not None else (lambda n: None)

    src = RingBuffer(data=input_payloads(graph, x, plan))
    src.name = graph.input.name  # RingBuffer takes no name argument
    add(src, 0)
    # synapses are the non-zero weights actually deployed: in fixed point a weight that rounds to a
    # zero mantissa is no synapse (counts then equal the reference run on fx.quantized_graph)
    fan_graph = fx.quantized_graph(graph, plan) if plan is not None else graph
    fan_in1, _ = layer_fanouts(fan_graph, graph.layers[0].name)
    counter = add(InputEventCounter(fan_in=fan_in1, input_frac_bits=plan.input_frac if plan else None,
                                    name=f"{graph.input.name}/event_counter", **tag_kw), 0)
    connect(src, "s_out", counter, "a_in", "input events (monitor)")

    layers, gates = {}, {}
    prev = src
    first_set = graph.input.encoding in ("dense", "spikes")
    names = graph.layer_names
    for li, layer in enumerate(graph.layers, start=1):
        gate = graph.gate_of(layer.name)
        mode = "set" if (li == 1 and first_set) else "accumulate"
        _, fan_rec = layer_fanouts(fan_graph, layer.name)
        if li < n_l:
            fan_next, _ = layer_fanouts(fan_graph, names[li])
        else:
            fan_next = fanout(fan_graph.readout.weight)
        lp = add(SelectiveUpdateNeurons(cell=layer.cell, b_ih=layer.b_ih, b_hh=layer.b_hh, input_mode=mode, depth=li,
                                        fan_rec=fan_rec, fan_next=fan_next, sigma_frac_bits=sig(layer.name),
                                        name=layer.name, **tag_kw), li)
        layers[layer.name] = lp
        dense(f"dense:{prev.name}->{layer.name}", layer.w_ih, layer.name, "ih", prev, lp, "a_in", "feed-forward")
        dense(f"dense:{layer.name}->{layer.name}", layer.w_hh, layer.name, "hh", lp, lp, "r_in", "recurrent")
        gp = add(_gate_process(gate, layer, mode, li, sig(gate.name) if gate.synapses() else None, tag_kw), li)
        for syn in gate.synapses():  # the gate's own synapses: from the layer's input or its deltas
            src_p, kind = (prev, "feed-forward (gate)") if syn.source == "input" else (lp, "recurrent (gate)")
            dense(f"dense:{src_p.name}->{gate.name}", syn.matrix, gate.name, syn.role, src_p, gp, syn.port, kind)
        gates[gate.name] = gp
        connect(gp, "s_out", lp, "g_in", "gate spikes", {"num_message_bits": 0})
        prev = lp

    ro = graph.readout
    rp = add(ReadoutNeurons(bias=ro.bias, depth=n_l + 1, sigma_frac_bits=sig(ro.name), name=ro.name, **tag_kw),
             n_l + 1)
    dense(f"dense:{prev.name}->{ro.name}", ro.weight, ro.name, "o", prev, rp, "a_in", "feed-forward (readout)")
    n_lava = lava_steps(n_t, n_b, n_l)
    mon = add(Extractor(shape=(ro.output_size,), buffer_size=min(MONITOR_BUFFER, n_lava), name=f"{ro.name}/monitor"),
              n_l + 1)
    connect(rp, "s_out", mon, "in_port", "readout sigma (monitor)")
    return LavaNetwork(graph=graph, fixed_point=fixed_point, n_steps=n_t, n_samples=n_b, n_lava_steps=n_lava,
                       processes=procs, connections=conns, depth=depth, source=src, counter=counter, layers=layers,
                       gates=gates, readout=rp, monitor=mon, plan=plan)
