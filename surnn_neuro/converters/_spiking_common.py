"""Spiking (LIF / CubaLIF) event graphs as torch networks: what the snnTorch and Norse adapters share.

A spiking graph (docs/semantics.md §5) runs as a chain of layer modules, one after the other over the
whole sequence (layer l + 1 needs only layer l's spikes of the same step, so this computes exactly
the step-interleaved result), and a readout ``y_t = W_o z_t + b_o`` of the last layer's spikes. A
framework brings the layer: a module with ``run(x: (T, B, V)) -> spikes (T, B, H)`` built from its
own neurons (``snn.Leaky`` / ``snn.Synaptic`` in :mod:`~surnn_neuro.converters.to_snntorch`, Norse's
box step functions in :mod:`~surnn_neuro.converters.to_norse`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from surnn_neuro.errors import UserError
from surnn_neuro.ir.spiking import MAX_DT_OVER_TAU


def linear(w, b=None) -> nn.Linear:
    """``nn.Linear`` holding ``W: (out, in)`` and ``b: (out,)`` (no bias if None), float64 until the
    network is cast."""
    w = np.asarray(w, dtype=np.float64)
    lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w))
        if b is not None:
            lin.bias.copy_(torch.tensor(np.asarray(b, dtype=np.float64)))
    return lin


def check_runnable(layer, who: str) -> None:
    """UserError naming the layer if a torch framework cannot run it as the reference does: a
    discretisation above the stability bound (snnTorch clamps α, β to [0, 1]), or a threshold below
    the reset (a neuron at rest would count as having fired before t = 0 in snnTorch's delayed reset)."""
    for tau, ratio in layer.dt_over_tau().items():
        if ratio > MAX_DT_OVER_TAU * (1 + 1e-6):  # float32 parameters: dt/τ = 1 may read as 1 + 6e-8
            raise UserError(f"{who}: spiking layer '{layer.name}': dt/{tau} = {ratio:.4g} > {MAX_DT_OVER_TAU:g} "
                            "(an unstable forward-Euler step; see docs/nir.md)")
    if np.any(layer.v_threshold < layer.v_reset) or np.any(layer.v_threshold < 0):
        raise UserError(f"{who}: spiking layer '{layer.name}': v_threshold below v_reset or below 0 is not "
                        "supported (a neuron at rest would be above its threshold)")


class SpikingNetwork(nn.Module):
    """A spiking event graph as a torch network of framework layers (module docstring).

    ``forward(x: (T, B, V)) -> (outputs, spikes)``: ``outputs`` (B, O) for readout ``last`` /
    ``mean``, (T, B, O) for ``all``; ``spikes`` one (T, B, H) tensor per layer (the interface of
    :class:`surnn_neuro.models.SelectiveUpdateNetwork`, with output spikes as the "gates").
    """

    def __init__(self, graph, layers):
        super().__init__()
        self.input_size = graph.input.size
        self.layer_names = tuple(graph.layer_names)
        self.layers = nn.ModuleList(layers)
        ro = graph.readout
        self.readout = linear(ro.weight, ro.bias)
        self.readout_mode = ro.mode

    def forward(self, x: torch.Tensor):
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"expected x of shape (T, B, V={self.input_size}), got {tuple(x.shape)}")
        spikes = []
        z = x  # every input encoding drives the first layer with W x_t (docs/semantics.md §5)
        for layer in self.layers:
            z = layer.run(z)
            spikes.append(z)
        y = self.readout(z)  # (T, B, O)
        if self.readout_mode == "last":
            return y[-1], spikes
        if self.readout_mode == "mean":
            return y.mean(0), spikes
        return y, spikes
