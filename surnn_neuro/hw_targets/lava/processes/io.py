"""Input-event counter and readout.

- ``InputEventCounter`` listens to the input ring buffer (same step, no Dense) and counts, per model
  step summed over the batch, the input events (non-zero payloads: values for dense/spike input,
  deltas for delta input), the synaptic operations they trigger in the first layer and its gate
  (``fan_in``) and the part of those whose value is ±1 (NeuroBench's AC rule).
- ``ReadoutNeurons`` keeps the sigma ``S_o = W_o h + b_o`` of the last layer's delta events
  (``S_o = b_o + a_in`` at t = 0, ``S_o += a_in`` after) and sends it every step to the monitor.
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
from surnn_neuro.hw_targets.lava.timing import Window


class InputEventCounter(AbstractProcess):
    """Counts input events; ``fan_in (V,)`` synapses per event; ``input_frac_bits``: fixed point only.

    Var ``counts (3, T)``: events, synaptic ops (into layer 1), AC ops, summed over the batch.
    """

    def __init__(self, *, fan_in, n_steps: int, n_samples: int, input_frac_bits: int | None = None,
                 name: str | None = None):
        fan_in = np.asarray(fan_in, dtype=np.int64)
        super().__init__(n_steps=int(n_steps), n_samples=int(n_samples), input_frac_bits=input_frac_bits, name=name)
        self.a_in = InPort(shape=fan_in.shape)
        self.fan_in = Var(shape=fan_in.shape, init=fan_in)
        self.counts = Var(shape=(3, int(n_steps)), init=0)


class _CounterModel(PyLoihiProcessModel):
    fan_in: np.ndarray = LavaPyType(np.ndarray, np.int64)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.window = Window(0, self.proc_params["n_steps"], self.proc_params["n_samples"])

    def run_spk(self):
        x = self.a_in.recv()
        pos = self.window.position(self.time_step)
        if pos is None:
            return
        idx = np.flatnonzero(x)
        if idx.shape[0]:
            t = pos[1]
            fan = self.fan_in[idx]
            self.counts[0, t] += idx.shape[0]
            self.counts[1, t] += fan.sum()
            self.counts[2, t] += fan[np.abs(x[idx]) == self.unit].sum()


@implements(proc=InputEventCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyInputEventCounterFloat(_CounterModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    unit = 1.0


@implements(proc=InputEventCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyInputEventCounterFixed(_CounterModel):
    """Payloads are Q.F_X integers: the value ±1 is the payload ±2^F_X."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.unit = 1 << int(self.proc_params["input_frac_bits"])


class ReadoutNeurons(AbstractProcess):
    """``O`` readout neurons: ``bias (O,)`` real; ``sigma_frac_bits``: fixed point only.

    Ports ``a_in (O,)`` (W_o Δ from a Dense), ``s_out (O,)`` the sigma every step (fixed point: the
    integer at ``F_S`` bits, de-quantised by the host).
    """

    def __init__(self, *, bias, depth: int, n_steps: int, n_samples: int, sigma_frac_bits: int | None = None,
                 name: str | None = None):
        bias = np.asarray(bias, dtype=np.float64)
        super().__init__(bias=bias, depth=int(depth), n_steps=int(n_steps), n_samples=int(n_samples),
                         sigma_frac_bits=sigma_frac_bits, name=name)
        self.a_in = InPort(shape=bias.shape)
        self.s_out = OutPort(shape=bias.shape)


class _ReadoutModel(PyLoihiProcessModel):
    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = self.proc_params
        self.window = Window(p["depth"], p["n_steps"], p["n_samples"])
        self._setup(p)
        self.s = self.bias.copy()

    def run_spk(self):
        a = self.a_in.recv()
        pos = self.window.position(self.time_step)
        if pos is not None:
            self.s = self._add(self.bias if pos[1] == 0 else self.s, a)
        self.s_out.send(self.s)


@implements(proc=ReadoutNeurons, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyReadoutFloat(_ReadoutModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def _setup(self, p):
        self.bias = np.array(p["bias"], dtype=np.float64)

    @staticmethod
    def _add(s, a):
        return s + a


@implements(proc=ReadoutNeurons, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyReadoutFixed(_ReadoutModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    def _setup(self, p):
        self.bias = fx.quantize_value(p["bias"], int(p["sigma_frac_bits"]))

    @staticmethod
    def _add(s, a):
        return fx.wrap(s + a.astype(np.int64))
