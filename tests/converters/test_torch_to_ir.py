"""Trained model -> event graph -> HDF5 file -> event graph: nothing lost, for every model."""

import numpy as np
import pytest
import torch

from surnn_neuro.converters.torch_to_ir import to_graph
from surnn_neuro.ir import graphs_equal, read_graph, write_graph
from surnn_neuro.models import MODELS, build


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_graph_file_round_trip(name, tmp_path):
    torch.manual_seed(0)
    model = build(name, 3, 6, 2, layers=2, seq_len=20).eval()
    graph = to_graph(model, input_encoding="delta")
    # non-zero biases everywhere, so a reader that dropped them could not pass
    for layer in graph.layers:
        assert np.all(layer.b_ih != 0) and np.all(layer.b_hh != 0)
    assert np.all(graph.readout.bias != 0)
    write_graph(graph, tmp_path / "g.h5")
    back = read_graph(tmp_path / "g.h5")
    assert graphs_equal(graph, back)
    # the weights are the model's, exactly (float32 widened to float64)
    np.testing.assert_array_equal(back.layers[1].w_hh, model.layers[1].effective_weight_hh().double().detach().numpy())
    assert back.input.encoding == "delta"
    assert [back.gate_of(ly.name).kind for ly in back.layers] == [model.layers[0].gate.kind] * 2
