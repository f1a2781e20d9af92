"""SelectiveUpdateNeurons: the H neurons of one selective-update layer (docs/semantics.md §1, §3).

Per model step ``t`` (Lava step ``τ = b·T + t + depth``, see ``surnn_neuro.hw_targets.lava.timing``):

    S_in  = b_ih + a_in            (input_mode "set": dense/spike input, a_in = W_ih x_t)
    S_in += a_in                   (input_mode "accumulate": delta input or a previous layer's deltas)
    S_h  += r_in                   (r_in = W_hh Δ_{t−1} from the recurrent Dense; S_h = b_hh at t = 0)
    for the neurons i whose gate spiked (g_in):  h_i ← cell(S_in, S_h, h_i[, c_i]),  Δ_i = h_i(new) − h_i(old)
    s_out = Δ at those neurons, 0 elsewhere       (graded delta events, 24-bit payloads in fixed point)

Closed neurons are not touched (bit-exact copy). The process counts its own events, neuron updates and
the synaptic operations its events trigger (``fan_rec``: W_hh + the gate's self/global weights, on
its own row; ``fan_next``: the next layer's [W_ih; W_in] or the readout's W_o) and records its gate
spikes bit-packed.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from surnn_neuro.hw_targets.lava import fixed_point as fx
from surnn_neuro.hw_targets.lava.timing import Window, pack_bits, packed_width
from surnn_neuro.ir.cells import CELL_GATES, cell_fn, su_update

INPUT_MODES = ("set", "accumulate")


class SelectiveUpdateNeurons(AbstractProcess):
    """One selective-update layer of ``H`` neurons with a ``cell`` candidate (gru, rnn, lstm).

    Parameters (the algorithm's, in real units): ``b_ih, b_hh: (G·H,)`` biases; ``input_mode``
    ``"set"`` or ``"accumulate"``; ``depth`` (Dense hops from the input); ``n_steps`` T and
    ``n_samples`` B of the batch; ``fan_rec, fan_next: (H,)`` synapses per own delta event;
    ``sigma_frac_bits``: fixed point only, fractional bits ``F_S`` of the drives.

    Ports: ``a_in (G·H,)`` input drive, ``r_in (G·H,)`` recurrent drive, ``g_in (H,)`` gate spikes,
    ``s_out (H,)`` delta events. Vars: ``h, c (H,)``; ``counts (3, T)`` = events, ops on own row, ops
    on the next node, summed over the batch; ``spikes (B·T, ⌈H/48⌉)`` packed gate spikes.
    """

    def __init__(self, *, cell: str, b_ih, b_hh, input_mode: str, depth: int, n_steps: int, n_samples: int,
                 fan_rec, fan_next, sigma_frac_bits: int | None = None, name: str | None = None):
        if cell not in CELL_GATES:
            raise ValueError(f"SelectiveUpdateNeurons: unknown cell {cell!r}; known: {', '.join(CELL_GATES)}")
        if input_mode not in INPUT_MODES:
            raise ValueError(f"SelectiveUpdateNeurons: unknown input_mode {input_mode!r}; "
                             f"known: {', '.join(INPUT_MODES)}")
        fan_rec = np.asarray(fan_rec, dtype=np.int64)
        h = fan_rec.shape[0]
        gh = CELL_GATES[cell] * h
        b_ih = np.asarray(b_ih, dtype=np.float64)
        b_hh = np.asarray(b_hh, dtype=np.float64)
        if b_ih.shape != (gh,) or b_hh.shape != (gh,):
            raise ValueError(f"SelectiveUpdateNeurons: biases must have shape ({gh},), got {b_ih.shape}, {b_hh.shape}")
        super().__init__(cell=cell, b_ih=b_ih, b_hh=b_hh, input_mode=input_mode, depth=int(depth),
                         n_steps=int(n_steps), n_samples=int(n_samples), sigma_frac_bits=sigma_frac_bits, name=name)
        self.a_in = InPort(shape=(gh,))
        self.r_in = InPort(shape=(gh,))
        self.g_in = InPort(shape=(h,))
        self.s_out = OutPort(shape=(h,))
        self.fan_rec = Var(shape=(h,), init=fan_rec)
        self.fan_next = Var(shape=(h,), init=np.asarray(fan_next, dtype=np.int64))
        self.h = Var(shape=(h,), init=0)
        self.c = Var(shape=(h,), init=0)
        self.counts = Var(shape=(3, int(n_steps)), init=0)
        self.spikes = Var(shape=(int(n_steps) * int(n_samples), packed_width(h)), init=0)


class _LayerModel(PyLoihiProcessModel):
    """Shared step logic; subclasses set the number type and the candidate."""

    fan_rec: np.ndarray = LavaPyType(np.ndarray, np.int64)
    fan_next: np.ndarray = LavaPyType(np.ndarray, np.int64)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int64)
    spikes: np.ndarray = LavaPyType(np.ndarray, np.int64)
    g_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = self.proc_params
        self.window = Window(p["depth"], p["n_steps"], p["n_samples"])
        self.kind = p["cell"]
        self.n_gates = CELL_GATES[self.kind]
        self.set_input = p["input_mode"] == "set"
        self._setup(p)

    def run_spk(self):
        a, r, g = self.a_in.recv(), self.r_in.recv(), self.g_in.recv()
        pos = self.window.position(self.time_step)
        out = np.zeros(self.h.shape, dtype=self.h.dtype)
        if pos is None:  # pipeline fill / drain: nothing of this batch reaches the layer
            self.s_out.send(out)
            return
        _, t = pos
        if t == 0:  # new sample: h_{-1} = c_{-1} = 0, S_h = b_hh; r_in holds the previous sample's last deltas
            self.h[:] = 0
            self.c[:] = 0
            self.s_h = self.b_hh.copy()
            self.s_in = self._add(self.b_ih, a)
        else:
            self.s_h = self._add(self.s_h, r)
            self.s_in = self._add(self.b_ih if self.set_input else self.s_in, a)
        idx = np.flatnonzero(g)
        if idx.shape[0]:
            hh = self.h.shape[0]
            gi = self.s_in.reshape(self.n_gates, hh)[:, idx]
            gh = self.s_h.reshape(self.n_gates, hh)[:, idx]
            out[idx] = su_update(self._cell, gi, gh, self.h, self.c, idx)  # the one numpy rule
            self.counts[0, t] += idx.shape[0]
            self.counts[1, t] += self.fan_rec[idx].sum()
            self.counts[2, t] += self.fan_next[idx].sum()
            self.spikes[self.window.n_steps * pos[0] + t] = pack_bits(g.astype(bool))
        self.s_out.send(out)


@implements(proc=SelectiveUpdateNeurons, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySelectiveUpdateFloat(_LayerModel):
    """float64, the same candidate functions and update rule as the reference simulator (ir/cells.py)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    r_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    h: np.ndarray = LavaPyType(np.ndarray, float)
    c: np.ndarray = LavaPyType(np.ndarray, float)

    def _setup(self, p):
        self.b_ih = np.array(p["b_ih"], dtype=np.float64)
        self.b_hh = np.array(p["b_hh"], dtype=np.float64)
        self.s_in = self.b_ih.copy()
        self.s_h = self.b_hh.copy()
        self._fn = cell_fn(self.kind)

    @staticmethod
    def _add(s, a):
        return s + a

    def _cell(self, gi, gh, h, c):
        return self._fn(gi, gh, h, c)


@implements(proc=SelectiveUpdateNeurons, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySelectiveUpdateFixed(_LayerModel):
    """Bit-accurate integers: sigmas at ``F_S`` bits (24-bit, wrapping), states and deltas Q.12,
    σ/tanh by lookup table (``fixed_point.CELLS_Q``)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    r_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    h: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    c: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def _setup(self, p):
        self.frac = int(p["sigma_frac_bits"])
        self.b_ih = fx.quantize_value(p["b_ih"], self.frac)
        self.b_hh = fx.quantize_value(p["b_hh"], self.frac)
        self.s_in = self.b_ih.copy()
        self.s_h = self.b_hh.copy()
        self._fn = fx.CELLS_Q[self.kind]

    @staticmethod
    def _add(s, a):
        return fx.wrap(s + a.astype(np.int64))

    def _cell(self, gi, gh, h, c):
        f, c_new = self._fn(gi, gh, h.astype(np.int64), c.astype(np.int64), self.frac)
        return f, c_new
