"""The selective-update layer: a thin ``nn.Module`` shell over the functional core.

    h_t = where(g_t, f(h_{t-1}, x_t), h_{t-1})                    (docs/semantics.md §1)

The layer owns the parameters (``torch.nn.*Cell`` names and layout) and its gate; the update rule is
:func:`surnn_neuro.models.functional.su_step` and time is owned by
:func:`surnn_neuro.models.functional.su_loop`, the same functions the snnTorch and Norse adapters run.

Gates shared by the batch (``gate.input_independent``: the suRNN oscillator, clockwork, phased,
random, always) can run the sparse form of the loop instead,
:func:`surnn_neuro.models.functional.su_loop_sparse`, which computes forward and backward only the
neurons that update (cost ∝ update rate). ``layer.sparse`` chooses: ``"auto"`` (default) takes it
when at most :data:`SPARSE_CROSSOVER` (per cell) of the (step, neuron) pairs of the drawn mask update,
``"on"`` always (for those gates), ``"off"`` never. Input-dependent gates (coordinator, skip) always
run the dense loop: their decision at step t needs h_{t−1} of each sample. Both forms give the same
values and gradients up to float rounding (tested within relative 1e-6 for every model).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from surnn_neuro.ir.cells import cell_spec
from surnn_neuro.models.functional import SUParameters, select, sparse_plan, su_initial_state, su_loop, su_loop_sparse
from surnn_neuro.models.gates import Gate

__all__ = ["SPARSE_CROSSOVER", "SPARSE_MODES", "SelectiveUpdateLayer", "select"]

#: ``layer.sparse`` values (module doc).
SPARSE_MODES = ("auto", "on", "off")
#: "auto" runs the sparse loop when at most this fraction of the mask's (step, neuron) pairs is open,
#: per cell. Measured (benchmarks/bench_speed_vs_field.py --crossover, 1 thread, forward + backward
#: of one layer, sparse / dense CPU time at 10/30/50/70/90 % open): H = 256, B = 64, T = 200: gru
#: 0.22/0.42/0.67/0.84/1.08, rnn 0.31/0.55/0.75/0.92/1.12, lstm 0.21/0.42/0.54/0.87/1.06 (+0.05–0.1
#: with a learnable mask); H = 64, B = 32, T = 64 (the demo; per-step overhead dominates): gru
#: 0.65/0.77/0.87/0.94/1.04, rnn 0.94/0.98/1.10/1.21/1.25, lstm 0.63/0.80/0.94/1.06/1.16.
SPARSE_CROSSOVER = {"gru": 0.7, "lstm": 0.6, "rnn": 0.5}


class SelectiveUpdateLayer(nn.Module):
    """A recurrent layer whose neurons update only where their gate is open.

    Parameters use the ``torch.nn.*Cell`` names and layout: ``weight_ih (G·H, V)``,
    ``weight_hh (G·H, H)``, ``bias_ih``, ``bias_hh`` with G = 3 (gru), 1 (rnn), 4 (lstm).
    ``recurrent_mask`` (optional, (G·H, H)) zeroes recurrent weights that must not exist (clockwork).

    forward(x: (T, B, V), h0=None, c0=None) -> (h_seq: (T, B, H), gates: (T, B, H)); h_{-1} = h0 or 0.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, gate: Gate, recurrent_mask=None):
        super().__init__()
        G = cell_spec(cell).n_blocks
        self.cell = cell
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)  # torch.nn.*Cell init
        self.weight_ih = nn.Parameter(torch.empty(G * hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(G * hidden_size, hidden_size).uniform_(-bound, bound))
        self.bias_ih = nn.Parameter(torch.empty(G * hidden_size).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.empty(G * hidden_size).uniform_(-bound, bound))
        if gate.hidden_size != hidden_size:
            raise ValueError(f"gate size {gate.hidden_size} != hidden_size {hidden_size}")
        self.gate = gate
        self.sparse = "auto"
        if recurrent_mask is not None:
            self.register_buffer("recurrent_mask", recurrent_mask.float())
            with torch.no_grad():
                self.weight_hh.mul_(self.recurrent_mask)
        else:
            self.recurrent_mask = None

    @property
    def sparse(self) -> str:
        """When the sparse loop runs: "auto", "on" or "off" (module doc)."""
        return getattr(self, "_sparse", "auto")  # models pickled before the option existed: auto

    @sparse.setter
    def sparse(self, mode: str) -> None:
        if mode not in SPARSE_MODES:
            raise ValueError(f"SelectiveUpdateLayer.sparse: unknown mode {mode!r}; known: {', '.join(SPARSE_MODES)}")
        self._sparse = mode

    def effective_weight_hh(self) -> torch.Tensor:
        """W_hh with the structural zeros applied (what the event graph stores)."""
        if self.recurrent_mask is None:
            return self.weight_hh
        return self.weight_hh * self.recurrent_mask

    def forward(self, x: torch.Tensor, h0=None, c0=None, return_cell: bool = False):
        T, B, _ = x.shape
        p = SUParameters(self.cell, self.effective_weight_hh(), self.bias_hh)
        gate_state = None
        if self.gate.input_independent and self.sparse != "off":
            mask = self.gate.schedule(T, device=x.device, dtype=x.dtype)  # (T, H), drawn once
            open_pairs = int((mask.detach() > 0).sum())
            if self.sparse == "on" or open_pairs <= SPARSE_CROSSOVER[self.cell] * mask.numel():
                plan = sparse_plan(mask, self.weight_hh.shape[0] // self.hidden_size)
                run = su_loop_sparse(x, mask, self.weight_ih, self.bias_ih, p, h0, c0, plan)
                gates = self.gate.spikes(mask, B)
                return (run.h, gates, run.c) if return_cell else (run.h, gates)
            gate_state = self.gate.start(mask)  # dense, on the mask already drawn
        gi = torch.nn.functional.linear(x, self.weight_ih, self.bias_ih)  # (T, B, G·H) in one matmul
        state = su_initial_state(B, p, x, events=False, h0=h0, c0=c0)
        gx = self.gate.input_projection(x)
        # unbind, not gi[t]: the backward of an index op materialises a gradient of the whole
        # (T, B, G·H) tensor at every step (O(T²) memory traffic); unbind's backward stacks once
        run = su_loop(gi.unbind(0), p, self.gate, state, None if gx is None else gx.unbind(0), gate_state)
        h_seq = torch.stack(run.h)
        gates = self.gate.sequence(run.gate, run.gate_state, T, B)
        if return_cell:
            return h_seq, gates, (torch.stack(run.c) if run.c else None)
        return h_seq, gates
