"""The event graph (portable IR): node kinds, graph, HDF5 files, the Trace and op counting.

numpy + h5py only: importing ``surnn_neuro.ir`` never imports torch (a test checks it).
"""

from surnn_neuro.ir.counting import (connection_sparsity, count_trace_fields, flops_per_sequence, input_events,
                                     layer_fanouts)
from surnn_neuro.ir.graph import EventGraph, graphs_equal, nodes_equal
from surnn_neuro.ir.io import FORMAT_VERSION, read_graph, read_trace, write_graph, write_trace
from surnn_neuro.ir.nodes import (
    CELL_GATES,
    ENCODINGS,
    NODE_KINDS,
    READOUT_MODES,
    AlwaysGate,
    GateNode,
    GlobalGate,
    InputNode,
    LayerNode,
    Node,
    OscillatorGate,
    ReadoutNode,
    ScheduleGate,
    SpikingLayerNode,
    ThresholdGate,
)
from surnn_neuro.ir.trace import COUNT_FIELDS, Trace, traces_equal

__all__ = [
    "AlwaysGate", "CELL_GATES", "COUNT_FIELDS", "ENCODINGS", "EventGraph", "FORMAT_VERSION", "GateNode",
    "GlobalGate", "InputNode", "LayerNode", "NODE_KINDS", "Node", "OscillatorGate", "READOUT_MODES",
    "ReadoutNode", "ScheduleGate", "SpikingLayerNode", "ThresholdGate", "Trace", "connection_sparsity",
    "count_trace_fields", "flops_per_sequence",
    "graphs_equal", "input_events", "layer_fanouts", "nodes_equal", "read_graph", "read_trace",
    "traces_equal", "write_graph", "write_trace",
]
