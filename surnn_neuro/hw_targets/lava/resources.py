"""Loihi 2 resource estimate of an event graph (numpy only: no Lava, no torch).

Counts are exact properties of the graph; the mapping to cores uses published chip limits and two
labelled assumptions.

Published (reference/neuromorphic_facts.md §2.7, Open Neuromorphic's Loihi 2 page,
https://open-neuromorphic.org/neuromorphic-computing/hardware/loihi-2-intel/): 128 neuron cores per
chip, up to 1 M neurons and 120 M synapses per chip, graded spikes with 24-bit payloads.

Assumed (marked ``assumed`` in the output):

- per-core capacity = chip limit / 128, i.e. 8192 neurons and 937 500 synapses per core; Loihi 2
  shares each core's memory between neuron state and synapses, so a core cannot reach both at once;
- one Loihi 2 neuron per hidden unit (a microcoded neuron holding its G gate sigmas, h and c), one
  per threshold-gate unit, one per skip gate, one per readout unit; oscillator / schedule / always
  gates as spike generators on the embedded x86 cores (0 neurons); input channels are axons (0);
- synaptic memory = one byte per non-zero 8-bit weight (index and format overhead of Loihi's
  synapse encoding not modelled); the dense figure stores every matrix entry.

>>> from surnn_neuro.ir.examples import random_graph
>>> est = loihi2_estimate(random_graph(hidden=(6,), seed=0))
>>> est["neurons"]["total"], est["cores"]["needed"]
(8, 1)
"""

from __future__ import annotations

import math

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.nodes import LayerNode

#: Published Loihi 2 chip limits (Open Neuromorphic; reference/neuromorphic_facts.md §2.7).
LOIHI2_CHIP = {
    "neuron_cores": 128,
    "max_neurons": 1_000_000,
    "max_synapses": 120_000_000,
    "graded_payload_bits": 24,
    "source": "https://open-neuromorphic.org/neuromorphic-computing/hardware/loihi-2-intel/",
}
#: Assumed per-core capacity: the chip limits spread evenly over the 128 cores.
NEURONS_PER_CORE = LOIHI2_CHIP["max_neurons"] // LOIHI2_CHIP["neuron_cores"]  # 7812 (1 M / 128)
SYNAPSES_PER_CORE = LOIHI2_CHIP["max_synapses"] // LOIHI2_CHIP["neuron_cores"]  # 937 500
WEIGHT_BYTES = 1  # 8-bit weights


def check_supported(graph: EventGraph) -> None:
    """UserError unless every layer is a selective-update layer (gru / rnn / lstm with a gate)."""
    for layer in graph.layers:
        if not isinstance(layer, LayerNode):
            raise UserError(f"Lava target: layer '{layer.name}' is of kind {type(layer).kind!r}, which has no "
                            "Lava process here; supported: selective-update layers (kind 'layer': gru, rnn, lstm)")


def _matrices(graph: EventGraph):
    """(connection name, matrix, stored entries) of every Dense of the Lava network."""
    out = []
    prev = graph.input.name
    for layer in graph.layers:
        gate = graph.gate_of(layer.name)
        out.append((f"{prev}->{layer.name} (W_ih)", layer.w_ih, layer.w_ih.size))
        out.append((f"{layer.name}->{layer.name} (W_hh)", layer.w_hh, layer.w_hh.size))
        for syn in gate.synapses():
            src = prev if syn.source == "input" else layer.name
            label = syn.symbol + (", diagonal" if syn.layout == "diagonal" else "")
            out.append((f"{src}->{gate.name} ({label})", syn.matrix, syn.entries))
        prev = layer.name
    out.append((f"{prev}->{graph.readout.name} (W_o)", graph.readout.weight, graph.readout.weight.size))
    return out


def loihi2_estimate(graph: EventGraph) -> dict:
    """Neurons, synapses, synaptic memory (bytes at 8-bit weights) and cores/chips needed."""
    check_supported(graph)
    neurons = {}
    for layer in graph.layers:
        gate = graph.gate_of(layer.name)
        neurons[layer.name] = layer.hidden_size
        neurons[gate.name] = gate.hardware_neurons  # 0: a spike generator on an embedded core (assumed)
    neurons[graph.readout.name] = graph.readout.output_size
    n_total = int(sum(neurons.values()))

    conns = []
    for name, w, entries in _matrices(graph):  # a diagonal is stored as H synapses, not H²
        entries = int(entries)
        conns.append({"connection": name, "shape": list(w.shape), "synapses": int(np.count_nonzero(w)),
                      "entries": entries})
    syn = sum(c["synapses"] for c in conns)
    entries = sum(c["entries"] for c in conns)

    cores_neurons = math.ceil(n_total / NEURONS_PER_CORE)
    cores_syn = math.ceil(syn / SYNAPSES_PER_CORE)
    needed = max(1, cores_neurons, cores_syn)
    chips = math.ceil(needed / LOIHI2_CHIP["neuron_cores"])
    return {
        # flat headline numbers first (what a one-line report prints), details below
        "neurons_total": n_total,
        "synapses_total": int(syn),
        "synaptic_memory_bytes_8bit": int(syn * WEIGHT_BYTES),
        "cores_needed": int(needed),
        "chips_needed": int(chips),
        "neurons": {"per_node": neurons, "total": n_total},
        "synapses": {"per_connection": conns, "total": int(syn), "dense_entries": int(entries)},
        "synaptic_memory_bytes": {"nonzero_8bit": int(syn * WEIGHT_BYTES), "dense_8bit": int(entries * WEIGHT_BYTES)},
        "cores": {"needed": int(needed), "by_neurons": int(cores_neurons), "by_synapses": int(cores_syn),
                  "chips": int(chips), "chip_fraction": needed / LOIHI2_CHIP["neuron_cores"]},
        "limits": {"chip": dict(LOIHI2_CHIP), "neurons_per_core": NEURONS_PER_CORE,
                   "synapses_per_core": SYNAPSES_PER_CORE},
        "assumed": [
            "per-core capacity = published chip limit / 128 cores (7812 neurons, 937 500 synapses); Loihi 2 "
            "shares core memory between neurons and synapses, so a core reaches neither limit with the other full",
            "one neuron per hidden unit (microcoded, holding G gate sigmas, h and c), per threshold-gate unit, one "
            "per skip gate, one per readout unit; oscillator/schedule/always gates as spike generators on the "
            "embedded x86 cores; input channels are axons",
            "synaptic memory = 1 byte per non-zero 8-bit weight; Loihi's synapse index/format overhead not modelled",
        ],
        "measured": [],
    }
