"""The dense GRU's synaptic-op count, the SA-RNN FLOPs definition and NeuroBench's Dense count agree."""

import numpy as np
import torch

from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.ir.counting import flops_per_sequence
from surnn_neuro.metrics.counts import inference_counts
from surnn_neuro.models import build
from surnn_neuro.simulators import simulate

V, H, T, B = 3, 5, 7, 2


def _dense_gru_trace():
    torch.manual_seed(0)
    graph = to_graph(build("gru", V, H, 4))
    layer = graph.layers[0]
    assert np.count_nonzero(layer.w_ih) == 3 * H * V and np.count_nonzero(layer.w_hh) == 3 * H * H
    x = np.random.RandomState(0).uniform(0.1, 1.0, (B, T, V))  # every input entry non-zero
    return graph, simulate(graph, x, backend="reference")


def test_dense_gru_costs_3H_times_H_plus_V_per_step_and_sample():
    graph, trace = _dense_gru_trace()
    row = trace.node_names.index(graph.layers[0].name)
    # per step and sample: V input events × 3H fan-out + H delta events × 3H recurrent fan-out
    # = 3·H·(V + H) = 3·5·8 = 120, times B = 2 samples
    assert trace.synaptic_ops[row].tolist() == [2 * 120] * T
    assert trace.dense_macs[row].tolist() == [2 * 120] * T  # event-driven = dense when all gates fire


def test_flops_are_the_synaptic_ops_plus_three_elementwise_products_per_neuron():
    graph, trace = _dense_gru_trace()
    spikes = trace.gate_spikes
    flops = flops_per_sequence(graph, spikes, T)
    # SA-RNN FLOPs (multiplications) per step: 3H(V+H) weight products + 3H element-wise products
    # (r⊙gh_n, z⊙h, (1−z)⊙n) = 120 + 15 = 135 per step, 945 per sequence
    assert flops.tolist() == [945, 945]
    row = trace.node_names.index(graph.layers[0].name)
    per_sequence_synops = trace.synaptic_ops[row].sum() / B
    assert flops[0] - per_sequence_synops == T * 3 * H


def test_neurobench_dense_count_includes_the_readout_once_for_last():
    graph, trace = _dense_gru_trace()
    c = inference_counts(trace)
    # Dense = T · 3H(V+H) + O·H for the 'last' readout read once = 7·120 + 4·5 = 860
    assert c["SynapticOperations"]["Dense"] == 860
