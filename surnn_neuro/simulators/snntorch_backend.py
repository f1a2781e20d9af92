"""snnTorch simulator: the event graph as an snnTorch network (:mod:`surnn_neuro.converters.to_snntorch`).

Gate spikes come from the network's snnTorch gate neurons (``snn.Leaky`` with ``beta = 0``); outputs
from its sigma-accumulated readout; counts from :func:`surnn_neuro.ir.counting.count_trace_fields`
(the network runs dense tensors, so counting is done from its gate spikes and the input, as
docs/semantics.md §4 defines it). Runs on any torch device (``"cpu"``, ``"cuda"``, ``"auto"``).

Spiking (LIF / CubaLIF) graphs run on snnTorch's own ``snn.Leaky`` / ``snn.Synaptic`` neurons with
their reset settings (``SnnTorchSpikingLayer``); their output spikes are the trace's gate spikes, as
on every backend (docs/semantics.md §5).
"""

from __future__ import annotations

import numpy as np

from surnn_neuro.ir.counting import count_trace_fields
from surnn_neuro.ir.graph import EventGraph
from surnn_neuro.ir.trace import Trace


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` if available, else ``"cpu"``; anything else as given (torch.device)."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def run_network(graph: EventGraph, x: np.ndarray, build, backend: str, dtype, device) -> Trace:
    """Build the converted network with ``build(graph, dtype=torch_dtype)`` (its ``forward(x: (T, B, V))``
    returns ``(outputs, gates)``), run it on ``x: (B, T, V)`` without gradients, return the Trace."""
    import torch

    if np.dtype(dtype) not in (np.float64, np.float32):
        raise ValueError(f"dtype: expected float64 or float32, got {np.dtype(dtype).name}")
    x = graph.check_input(x)
    device = resolve_device(device)
    tdtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
    net = build(graph, dtype=tdtype).to(device).eval()  # built in dtype: no float32 detour
    xt = torch.as_tensor(x, dtype=tdtype, device=device).transpose(0, 1)  # (T, B, V), time-first
    with torch.no_grad():
        out, gates = net(xt)
    spikes = {name: (g > 0).transpose(0, 1).cpu().numpy() for name, g in zip(graph.layer_names, gates)}
    outputs = out.cpu().double().numpy()
    if graph.readout.mode == "all":
        outputs = np.ascontiguousarray(outputs.transpose(1, 0, 2))  # (B, T, O)
    counts = count_trace_fields(graph, x, spikes)
    return Trace(
        backend=backend,
        node_names=graph.node_names,
        layer_names=graph.layer_names,
        outputs=outputs,
        gate_spikes=spikes,
        n_samples=x.shape[0],
        metadata={"dtype": np.dtype(dtype).name},
        **counts,
    )


def run(graph: EventGraph, x: np.ndarray, dtype=np.float64, device="cpu") -> Trace:
    """Simulate ``graph`` on ``x: (B, T, V)`` with snnTorch; Trace with backend ``"snntorch"``.

    ``dtype``: float64 (default; agrees with the reference simulator to rounding) or float32.
    Outputs ``(B, O)`` (readout ``last``/``mean``) or ``(B, T, O)`` (``all``), float64.
    """
    from surnn_neuro.converters.to_snntorch import to_snntorch

    return run_network(graph, x, to_snntorch, "snntorch", dtype, device)
