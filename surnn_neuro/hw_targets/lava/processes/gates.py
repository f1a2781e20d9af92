"""Gate processes: each sends the binary gate spikes ``g_t ∈ {0,1}^H`` of one layer (docs/semantics.md §1).

- ``SpikeScheduleGate``: input-independent gates (oscillator, schedule, always) as the precomputed
  spike train ``(T, H)`` of the IR node; identical in float and fixed point (one model, both tags).
- ``ThresholdGateNeuron``: SA-RNN coordinator, ``g_i = [w_self,i h_{t−1,i} + (W_in x_t)_i + bias_i > 0]``.
  ``a_in`` = W_in·(the layer's input payload) from a Dense beside the layer's; ``self_in`` =
  w_self ⊙ Δ_{t−1} from a Dense on the layer's delta events (one step late by construction = h_{t−1}).
- ``GlobalGateNeuron``: Skip RNN, one bit for all H neurons: ``u_t = [ũ_t > ½]``; after an update
  ``Δũ = σ(w·h_t + b)``, ``ũ_{t+1} = Δũ``; after a skip ``ũ_{t+1} = ũ_t + min(Δũ, 1 − ũ_t)``.
  ``a_in (1,)`` = w·Δ_{t−1} from a Dense on the layer's delta events.

Spikes go straight (no Dense, no delay) to the layer's ``g_in`` in the same Lava step.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from surnn_neuro.hw_targets.lava import fixed_point as fx
from surnn_neuro.hw_targets.lava.timing import Window
from surnn_neuro.ir.cells import sigmoid


class SpikeScheduleGate(AbstractProcess):
    """Sends ``spike_train[t]`` (``(T, H)`` bool, the IR gate's ``spike_train(T)``) at model step t."""

    def __init__(self, *, spike_train, depth: int, n_samples: int, name: str | None = None):
        train = np.asarray(spike_train, dtype=bool)
        if train.ndim != 2:
            raise ValueError(f"SpikeScheduleGate: spike_train must be (T, H), got shape {train.shape}")
        super().__init__(spike_train=train, depth=int(depth), n_samples=int(n_samples), name=name)
        self.s_out = OutPort(shape=(train.shape[1],))


@implements(proc=SpikeScheduleGate, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeScheduleGate(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.train = np.asarray(self.proc_params["spike_train"], dtype=bool)
        self.window = Window(self.proc_params["depth"], self.train.shape[0], self.proc_params["n_samples"])
        self.silent = np.zeros(self.train.shape[1], dtype=bool)

    def run_spk(self):
        pos = self.window.position(self.time_step)
        self.s_out.send(self.silent if pos is None else self.train[pos[1]])


class ThresholdGateNeuron(AbstractProcess):
    """SA-RNN coordinator gate of ``H`` neurons: fires where ``S_self + S_in > 0`` (strict).

    ``bias: (H,)`` real; ``input_mode`` as the layer's; ``sigma_frac_bits``: fixed point only.
    Ports ``a_in (H,)`` (W_in x), ``self_in (H,)`` (w_self ⊙ Δ), ``s_out (H,)`` spikes.
    """

    def __init__(self, *, bias, input_mode: str, depth: int, n_steps: int, n_samples: int,
                 sigma_frac_bits: int | None = None, name: str | None = None):
        bias = np.asarray(bias, dtype=np.float64)
        if input_mode not in ("set", "accumulate"):
            raise ValueError(f"ThresholdGateNeuron: unknown input_mode {input_mode!r}; known: set, accumulate")
        super().__init__(bias=bias, input_mode=input_mode, depth=int(depth), n_steps=int(n_steps),
                         n_samples=int(n_samples), sigma_frac_bits=sigma_frac_bits, name=name)
        h = bias.shape[0]
        self.a_in = InPort(shape=(h,))
        self.self_in = InPort(shape=(h,))
        self.s_out = OutPort(shape=(h,))


class _ThresholdModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = self.proc_params
        self.window = Window(p["depth"], p["n_steps"], p["n_samples"])
        self.set_input = p["input_mode"] == "set"
        self._setup(p)
        self.silent = np.zeros(self.bias.shape[0], dtype=bool)

    def run_spk(self):
        a, s = self.a_in.recv(), self.self_in.recv()
        pos = self.window.position(self.time_step)
        if pos is None:
            self.s_out.send(self.silent)
            return
        if pos[1] == 0:  # h_{-1} = 0: drop the previous sample's last w_self ⊙ Δ
            self.s_self = self.zero.copy()
            self.s_in = self._add(self.bias, a)
        else:
            self.s_self = self._add(self.s_self, s)
            self.s_in = self._add(self.bias if self.set_input else self.s_in, a)
        self.s_out.send((self.s_self + self.s_in) > 0)


@implements(proc=ThresholdGateNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyThresholdGateFloat(_ThresholdModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    self_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def _setup(self, p):
        self.bias = np.array(p["bias"], dtype=np.float64)
        self.zero = np.zeros_like(self.bias)
        self.s_in, self.s_self = self.bias.copy(), self.zero.copy()

    @staticmethod
    def _add(s, a):
        return s + a


@implements(proc=ThresholdGateNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyThresholdGateFixed(_ThresholdModel):
    """Both sigmas share ``F_S`` (one format per consumer), so the comparison is one 24-bit add."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    self_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)

    def _setup(self, p):
        self.bias = fx.quantize_value(p["bias"], int(p["sigma_frac_bits"]))
        self.zero = np.zeros_like(self.bias)
        self.s_in, self.s_self = self.bias.copy(), self.zero.copy()

    @staticmethod
    def _add(s, a):
        return fx.wrap(s + a.astype(np.int64))


class GlobalGateNeuron(AbstractProcess):
    """Skip-RNN gate: one decision per sample and step, broadcast to ``hidden`` neurons.

    ``bias`` (real), ``init_prob`` = ũ_0 ∈ [0, 1]; ``sigma_frac_bits``: fixed point only.
    Ports ``a_in (1,)`` (w·Δ), ``s_out (hidden,)`` spikes.
    """

    def __init__(self, *, hidden: int, bias: float, init_prob: float, depth: int, n_steps: int, n_samples: int,
                 sigma_frac_bits: int | None = None, name: str | None = None):
        super().__init__(hidden=int(hidden), bias=float(bias), init_prob=float(init_prob), depth=int(depth),
                         n_steps=int(n_steps), n_samples=int(n_samples), sigma_frac_bits=sigma_frac_bits, name=name)
        self.a_in = InPort(shape=(1,))
        self.s_out = OutPort(shape=(int(hidden),))


class _GlobalModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = self.proc_params
        self.window = Window(p["depth"], p["n_steps"], p["n_samples"])
        self.all = np.ones(p["hidden"], dtype=bool)
        self.silent = np.zeros(p["hidden"], dtype=bool)
        self._setup(p)
        self.fired = False

    def run_spk(self):
        a = self.a_in.recv()
        pos = self.window.position(self.time_step)
        if pos is None:
            self.s_out.send(self.silent)
            return
        if pos[1] == 0:
            self._reset()
        elif self.fired:  # the layer updated at t − 1: w·h_{t−1} changed by a, ũ_t = Δũ
            self._after_update(a)
        if self._open():
            self.fired = True
            self.s_out.send(self.all)
        else:
            self.fired = False
            self._skip()
            self.s_out.send(self.silent)


@implements(proc=GlobalGateNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyGlobalGateFloat(_GlobalModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def _setup(self, p):
        self.bias = np.asarray(p["bias"], dtype=np.float64)
        self.init = float(p["init_prob"])

    def _reset(self):
        self.s_glob = np.zeros((), dtype=np.float64)
        self.du = sigmoid(self.s_glob + self.bias)  # Δũ before any update: σ(w·h_{−1} + b) = σ(b)
        self.u = self.init

    def _after_update(self, a):
        self.s_glob = self.s_glob + a[0]
        self.du = sigmoid(self.s_glob + self.bias)
        self.u = float(self.du)

    def _open(self):
        return self.u > 0.5

    def _skip(self):
        self.u += min(float(self.du), 1.0 - self.u)


@implements(proc=GlobalGateNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyGlobalGateFixed(_GlobalModel):
    """``w·h`` at ``F_S`` bits; ũ and Δũ in Q.12 (Δũ from the σ table); open iff ũ > 2048 (½)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)

    def _setup(self, p):
        self.frac = int(p["sigma_frac_bits"])
        self.bias = int(fx.quantize_value(p["bias"], self.frac))
        self.init = int(fx.quantize_value(p["init_prob"], fx.F_H))

    def _reset(self):
        self.s_glob = 0
        self.du = int(fx.sigmoid_q(self.s_glob + self.bias, self.frac))
        self.u = self.init

    def _after_update(self, a):
        self.s_glob = int(fx.wrap(self.s_glob + int(a[0])))
        self.du = int(fx.sigmoid_q(self.s_glob + self.bias, self.frac))
        self.u = self.du

    def _open(self):
        return self.u > fx.ONE // 2

    def _skip(self):
        self.u += min(self.du, fx.ONE - self.u)
