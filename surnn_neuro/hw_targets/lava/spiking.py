"""Spiking event graphs (LIF / CubaLIF layers, e.g. imported from NIR) on Lava's standard processes.

One network per input sample, built only from Lava 0.10 standard processes and run with
``Loihi2SimCfg(select_tag="floating_pt")``::

    source RingBuffer ──► Dense(W·s | c) ──► LIF_1 ──► Dense(W_2·s) ──► LIF_2 ──► …   (+ a sink per LIF)
      x_t and one            (+ Dense(W_rec·s) from LIF_l's own spikes, + Dense(c_l) from the
      always-on channel       bias RingBuffer, into the same LIF a_in port)

Mapping of a :class:`~surnn_neuro.ir.nodes.SpikingLayerNode` (docs/semantics.md §5, docs/nir.md §4),
``du = dt/τ_syn``, ``dv = dt/τ_mem``, ``s = dv·r·du·w_in``:
``LIF(du, dv, vth = v_threshold − v_reset, bias_mant = dv·(v_leak − v_reset), v = −v_reset)``;
feed-forward ``Dense(s ⊙ W)``, recurrent ``Dense(s ⊙ W_rec)``, the input Affine's bias ``c = s ⊙ b``
as the weight of an always-on input. Every array comes from ``SpikingLayerNode.constants()``, the
same arrays the reference simulator uses, and Lava's LIF update is the one the reference performs
(``u·(1−du) + a``, then ``v·(1−dv) + u + bias``, ``v > vth``, ``v = 0``), so spikes are identical.

**Latency.** Lava's ``Dense`` sends at step s+1 what it received at step s. A recurrent Dense
therefore delivers ``z_{t−1}`` at step t, exactly the semantics; each feed-forward Dense adds one
step, so layer l computes reference step t at Lava step ``t + l``. The run is ``T + L`` steps long,
the source sends ``x_t`` at step t, layer l's spikes are read from steps ``l … l+T−1`` and each
layer's bias drive starts at its first step (its always-on channel switches on at step ``l − 1``). A
layer's constant voltage drive and its initial ``v = −v_reset`` would act during the idle steps
``0 … l−1``, so when they are non-zero the first L steps run one at a time and each layer's
``bias_mant`` and ``v`` are set just before its first step. The compensation is exact: nothing is
hidden in a tolerance.

**Limits** (UserError): Lava's LIF holds one ``du``, ``dv`` and ``vth`` per process, so each layer
needs uniform ``τ_syn``, ``τ_mem`` and ``v_threshold − v_reset`` (per-neuron ``r``, ``w_in``,
``v_leak`` are fine); ``v_threshold ≥ v_reset`` (an idle neuron must not fire). Sums into a LIF port
with three inputs (layer l > 1, recurrent, with a bias) are added in Lava's port order, so those
layers agree with the reference up to the rounding of one addition (spikes identical in practice);
inputs with values other than 0/1 go through a graded Dense (``weights.dot``), identical up to the
rounding of that product.
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.ir.counting import count_trace_fields
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import Trace
from surnn_neuro.ir.spiking import spiking_readout

SELECT_TAG = "floating_pt"


def _lava():
    try:
        from surnn_neuro.hw_targets.lava._mp import prepare as _prepare_mp

        _prepare_mp()  # before the first Lava import (see _mp.py)
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.core.run_configs import Loihi2SimCfg
        from lava.proc.dense.process import Dense
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source
        from lava.proc.lif.process import LIF
    except ImportError as e:
        raise UserError(f"the Lava target needs lava-nc 0.10.0 on Python 3.10 (pip install lava-nc==0.10.0): "
                        f"{e}") from e
    return {"RunSteps": RunSteps, "Loihi2SimCfg": Loihi2SimCfg, "Dense": Dense, "Sink": Sink,
            "Source": Source, "LIF": LIF}


def _uniform(layer, name: str, values: np.ndarray) -> float:
    if not np.all(values == values[0]):
        raise UserError(
            f"Lava target: spiking layer '{layer.name}': {name} differs between neurons (from "
            f"{values.min()!r} to {values.max()!r}); Lava's LIF process holds one value per layer")
    return float(values[0])


class _LayerPlan:
    """What one spiking layer becomes in Lava (arrays from ``layer.constants()``)."""

    def __init__(self, layer, index: int, n_layers: int):
        k = layer.constants()
        self.name, self.H, self.index = layer.name, layer.hidden_size, index
        if layer.reset != "value":
            raise UserError(f"Lava target: spiking layer '{layer.name}': reset {layer.reset!r} is not Lava's (its "
                            "LIF resets to v_reset in the step it fires); run it on the reference, snntorch or "
                            "norse backend")
        self.du = _uniform(layer, "du = dt/tau_syn", k.du)
        self.dv = _uniform(layer, "dv = dt/tau_mem", k.dv)
        self.vth = _uniform(layer, "v_threshold - v_reset", k.theta)
        if self.vth < 0:
            raise UserError(f"Lava target: spiking layer '{layer.name}': v_threshold < v_reset; an idle "
                            "neuron would fire during the latency-compensation steps")
        self.beta, self.v0 = k.beta, k.v0
        self.staged = bool(np.any(k.beta != 0) or np.any(k.v0 != 0))
        self.has_bias = bool(np.any(k.c != 0))
        if index == 0 and self.has_bias:  # the bias as one more, always-on input column
            self.w_ff = np.concatenate([k.w_eff, k.c[:, None]], axis=1)
        else:
            self.w_ff = k.w_eff
        self.w_rec = k.w_rec_eff if layer.recurrent else None
        self.w_bias = None
        if index > 0 and self.has_bias:  # column index−1 of the bias source switches on at step index
            self.w_bias = np.zeros((self.H, n_layers - 1))
            self.w_bias[:, index - 1] = k.c


def check_lava_compatible(graph: EventGraph) -> None:
    """UserError if ``graph`` cannot run on :func:`run_spiking_lava` (module doc, Limits)."""
    if not isinstance(graph, EventGraph) or not graph.spiking:
        raise UserError("run_spiking_lava: needs an event graph of spiking layers (e.g. from read_nir); "
                        "selective-update graphs run on the Lava backend of surnn_neuro.hw_targets.lava")
    n = len(graph.layers)
    for i, layer in enumerate(graph.layers):
        _LayerPlan(layer, i, n)


def _run_sample(lava, plans, x: np.ndarray, n_steps: int, final_state: bool = False):
    """One sample ``x: (T, V)`` → per layer ``(T, H)`` bool spikes, latency removed; with
    ``final_state`` also per layer Lava's ``(u, v)`` after the last of the ``T + L`` steps."""
    L = len(plans)
    n = n_steps + L
    first = plans[0]
    data = np.zeros((first.w_ff.shape[1], n))
    data[: x.shape[1], :n_steps] = x.T
    if first.has_bias:
        data[-1, :] = 1.0  # always-on channel: its drive c reaches LIF_1 from step 1 on
    binary = bool(np.all((x == 0) | (x == 1)))

    procs = []
    src = lava["Source"](data=data)
    procs.append(src)
    bias_src = None
    if any(p.w_bias is not None for p in plans):
        onsets = np.zeros((L - 1, n))
        for col in range(L - 1):
            onsets[col, col + 1:] = 1.0  # layer col+2 starts at Lava step col+2
        bias_src = lava["Source"](data=onsets)
        procs.append(bias_src)
    staged = any(p.staged for p in plans)
    lifs, sinks = [], []
    prev = src.s_out
    for i, p in enumerate(plans):
        ff = lava["Dense"](weights=p.w_ff, num_message_bits=24 if (i == 0 and not binary) else 0)
        lif = lava["LIF"](shape=(p.H,), du=p.du, dv=p.dv, vth=p.vth, u=np.zeros(p.H),
                          v=np.zeros(p.H) if staged else p.v0.copy(),
                          bias_mant=np.zeros(p.H) if staged else p.beta.copy())
        prev.connect(ff.s_in)
        ff.a_out.connect(lif.a_in)
        procs += [ff, lif]
        if p.w_rec is not None:
            rec = lava["Dense"](weights=p.w_rec)
            lif.s_out.connect(rec.s_in)
            rec.a_out.connect(lif.a_in)
            procs.append(rec)
        if p.w_bias is not None:
            bd = lava["Dense"](weights=p.w_bias)
            bias_src.s_out.connect(bd.s_in)
            bd.a_out.connect(lif.a_in)
            procs.append(bd)
        sink = lava["Sink"](shape=(p.H,), buffer=n)
        lif.s_out.connect(sink.a_in)
        procs.append(sink)
        lifs.append(lif)
        sinks.append(sink)
        prev = lif.s_out

    cfg = lava["Loihi2SimCfg"](select_tag=SELECT_TAG)
    anchor = lifs[0]
    try:
        if staged:
            for s in range(L):  # Lava step s; layer s+1 (index s) starts at step s+1
                anchor.run(condition=lava["RunSteps"](num_steps=1), run_cfg=cfg)
                lifs[s].bias_mant.set(plans[s].beta.copy())
                lifs[s].v.set(plans[s].v0.copy())
            anchor.run(condition=lava["RunSteps"](num_steps=n - L), run_cfg=cfg)
        else:
            anchor.run(condition=lava["RunSteps"](num_steps=n), run_cfg=cfg)
        recorded = [np.asarray(sk.data.get()).copy() for sk in sinks]  # (H, n) each
        states = [(np.asarray(f.u.get()).copy(), np.asarray(f.v.get()).copy()) for f in lifs] if final_state else None
    finally:
        _stop(anchor)
    spikes = [rec[:, i + 1: i + 1 + n_steps].T != 0 for i, rec in enumerate(recorded)]
    return (spikes, states) if final_state else spikes


def lava_final_states(graph: EventGraph, x: np.ndarray) -> list:
    """Lava's LIF ``(u, v)`` per layer after one sample ``x: (T, V)`` and the ``L`` latency steps
    (layer l has then run ``T + L − l`` steps of docs/semantics.md §5, the last ones on the zero
    input). For tests of bit-exactness against the reference run on ``x`` padded with L zero steps."""
    check_lava_compatible(graph)
    x = graph.check_input(np.asarray(x, dtype=np.float64)[None])[0]
    plans = [_LayerPlan(layer, i, len(graph.layers)) for i, layer in enumerate(graph.layers)]
    return _run_sample(_lava(), plans, x, x.shape[0], final_state=True)[1]


def _stop(proc) -> None:
    """Stop the runtime of ``proc`` (all processes of the network), whatever state it is in."""
    try:
        proc.stop()
    except Exception:  # noqa: BLE001 - never started, or already stopped: nothing left to end
        pass


def run_spiking_lava(graph: EventGraph, x: np.ndarray) -> Trace:
    """Run a spiking ``graph`` on ``x: (B, T, V)`` with Lava's standard processes (floating point);
    a Trace with backend ``"lava"``: ``gate_spikes[layer]`` = output spikes ``(B, T, H)``, counts of
    docs/semantics.md §5 (from the spikes, :func:`~surnn_neuro.ir.counting.count_trace_fields`),
    outputs = the readout of the last layer's spikes. One Lava run per sample; every run is stopped
    in a ``finally``.
    """
    check_lava_compatible(graph)
    x = graph.check_input(x)
    n_b, n_t, _ = x.shape
    lava = _lava()
    plans = [_LayerPlan(layer, i, len(graph.layers)) for i, layer in enumerate(graph.layers)]
    spikes = {p.name: np.zeros((n_b, n_t, p.H), dtype=bool) for p in plans}
    for b in range(n_b):
        for p, z in zip(plans, _run_sample(lava, plans, x[b], n_t)):
            spikes[p.name][b] = z
    counts = count_trace_fields(graph, x, spikes)
    return Trace(
        backend="lava",
        node_names=graph.node_names,
        layer_names=graph.layer_names,
        outputs=spiking_readout(graph.readout, spikes[plans[-1].name]),
        gate_spikes=spikes,
        n_samples=n_b,
        metadata={"select_tag": SELECT_TAG, "latency_steps": len(plans), "lava_steps": n_t + len(plans),
                  "runs": n_b},
        **counts,
    )
