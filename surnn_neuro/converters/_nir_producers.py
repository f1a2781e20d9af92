"""Conventions of the tools that write NIR files, which the files themselves do not carry.

NIR 1.0.8 stores continuous-time parameters (τ in seconds, ``r``, ``w_in``) and no time step, no
reset rule and no update order. The frameworks that write it fill that gap each in their own way:

========== ======================================================== =================================
producer   what its export means                                    applied on import
========== ======================================================== =================================
``nir``    the NIR spec: τ in s, forward Euler with the given dt,   dt: the argument, else the
           reset to ``v_reset`` in the step it fires                graph's ``metadata["dt"]``, else
                                                                    1e-4 s
``snntorch`` snnTorch 1.0.0 ``export_to_nir``: τ = 1e-4/(1 − β),   dt = 1e-4 s; the reset declared
           ``r = τ/1e-4``, ``w_in = τ_syn/1e-4`` (so ``α``, ``β``   (``reset``, ``reset_delay``),
           come back exactly at dt = 1e-4); the reset               else snnTorch's default
           (``reset_mechanism``, ``reset_delay``) is not written    (subtract, delayed), with a
                                                                    warning
``norse``  Norse 1.1.0 ``to_nir(…, dt)``: τ written as ``dt·τ``     dt = 1e-3 s (Norse's default) or
           (``dt / tau_inv``, norse issue 411); its ``LIFCell``     the given one; τ = τ_file / dt;
           exported as CubaLIF without ``w_in``: Norse's current    CubaLIF ``w_in = 1`` →
           jump ``i += input`` is unscaled, i.e. ``du·w_in = 1``     ``τ_syn/dt``
========== ======================================================== =================================

Norse's ``LIFCell`` step (``lif_feed_forward_step``: the jump, the voltage from the jumped current,
then the current's decay) is NIR's CubaLIF update in other variables, so with these two corrections
its spikes are the reference's (tested with Norse's own exporter and simulation).

Whatever the producer, a layer whose ``dt/τ`` exceeds
:data:`surnn_neuro.ir.spiking.MAX_DT_OVER_TAU` is refused (the decay factor ``1 − dt/τ`` would be
negative). Without a declared producer, a file whose parameters follow snnTorch's export
(``r·dt = τ_mem``, ``w_in·dt = τ_syn`` at dt = 1e-4, no leak, no reset offset) gets a one-line
warning that snnTorch's reset is not in it. docs/nir.md §3.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from surnn_neuro.errors import UserError
from surnn_neuro.ir.spiking import MAX_DT_OVER_TAU

#: producer -> its default time step (s); ``nir``: None (the graph's metadata, else 1e-4)
PRODUCER_DT = {"nir": None, "snntorch": 1e-4, "norse": 1e-3}
#: snnTorch ``reset_mechanism`` values that NIR's neurons can run (``none`` has no reset at all)
SNNTORCH_MECHANISMS = ("subtract", "zero")


class NIRConventionWarning(UserWarning):
    """A convention of a NIR file's producer that the file cannot carry may change the result."""


@dataclass(frozen=True)
class NIRProducer:
    """Who wrote a NIR file, and the settings of theirs that the file does not hold.

    ``name``: ``"nir"`` (the spec; default), ``"snntorch"`` or ``"norse"`` (module table).
    ``dt``: the time step (s) the network runs with; default per producer (:data:`PRODUCER_DT`).
    ``reset``, ``reset_delay``: snnTorch's ``reset_mechanism`` (``"subtract"`` or ``"zero"``) and
    ``reset_delay`` of its neurons (default snnTorch's: ``"subtract"``, ``True``); snnTorch only.

    >>> NIRProducer("snntorch", reset="zero", reset_delay=False).ir_reset("lif")
    'value'
    >>> NIRProducer("snntorch").ir_reset("cubalif")
    'subtract-delayed'
    """

    name: str = "nir"
    dt: Optional[float] = None
    reset: Optional[str] = None
    reset_delay: Optional[bool] = None

    def __post_init__(self):
        if self.name not in PRODUCER_DT:
            raise ValueError(f"producer: unknown {self.name!r}; known: {', '.join(PRODUCER_DT)}")
        if self.dt is not None:
            if isinstance(self.dt, bool) or not isinstance(self.dt, (int, float)) or not math.isfinite(self.dt) \
                    or self.dt <= 0:
                raise ValueError(f"dt: expected a time step > 0 (s), got {self.dt!r}")
            object.__setattr__(self, "dt", float(self.dt))
        if self.name != "snntorch" and (self.reset is not None or self.reset_delay is not None):
            field = "reset" if self.reset is not None else "reset_delay"
            raise ValueError(f"{field}: an snnTorch setting; producer {self.name!r} resets to v_reset "
                             "(declare producer 'snntorch' for an snnTorch file)")
        if self.reset is not None and self.reset not in SNNTORCH_MECHANISMS:
            raise ValueError(f"reset: expected snnTorch's reset_mechanism {' or '.join(SNNTORCH_MECHANISMS)}, "
                             f"got {self.reset!r}")
        if self.reset_delay is not None and not isinstance(self.reset_delay, (bool, np.bool_)):
            raise ValueError(f"reset_delay: expected True or False, got {self.reset_delay!r}")

    @property
    def declared_reset(self) -> bool:
        """True if both snnTorch reset settings were given (nothing is assumed)."""
        return self.reset is not None and self.reset_delay is not None

    def ir_reset(self, neuron: str) -> str:
        """The event graph's reset rule (:data:`surnn_neuro.ir.spiking.RESETS`) of a ``neuron``
        (``"lif"`` / ``"cubalif"``) written by this producer.

        snnTorch: ``zero`` without delay is NIR's reset to ``v_reset`` (= 0 in its exports); with
        its delay it is the same for ``Leaky`` (the previous membrane is zeroed before it decays),
        but ``Synaptic`` zeroes the whole next membrane, input included, which no backend runs.
        """
        if self.name != "snntorch":
            return "value"
        mechanism = self.reset or "subtract"
        delay = True if self.reset_delay is None else bool(self.reset_delay)
        if mechanism == "subtract":
            return "subtract-delayed" if delay else "subtract"
        if delay and neuron == "cubalif":
            raise UserError("snnTorch's Synaptic with reset_mechanism 'zero' and reset_delay=True zeroes the whole "
                            "membrane one step after a spike, which no backend here runs; re-export with "
                            "reset_delay=False")
        return "value"


def as_producer(producer) -> NIRProducer:
    """``producer`` (None, a name or a :class:`NIRProducer`) as a :class:`NIRProducer`; UserError
    naming the setting otherwise."""
    if producer is None:
        return NIRProducer()
    if isinstance(producer, NIRProducer):
        return producer
    if isinstance(producer, str):
        try:
            return NIRProducer(producer)
        except ValueError as e:
            raise UserError(str(e)) from None
    raise UserError(f"producer: expected a name ({', '.join(PRODUCER_DT)}) or a NIRProducer, got "
                    f"{type(producer).__name__}")


def choose_dt(producer: NIRProducer, dt, metadata_dt, default_dt: float, fail) -> float:
    """The time step: ``dt`` (argument), else the producer's, else the graph's metadata (producer
    ``nir``), else ``default_dt``. ``fail(problem)`` raises."""
    if dt is None:
        dt = producer.dt
    if dt is None:
        dt = PRODUCER_DT[producer.name]
    if dt is None:
        dt = metadata_dt if metadata_dt is not None else default_dt
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        fail(f"dt: expected a time step in seconds, got {dt!r}")
    if not np.isfinite(dt) or dt <= 0:
        fail(f"dt: expected a time step > 0 (s), got {dt}")
    if producer.name == "snntorch" and dt != PRODUCER_DT["snntorch"]:
        warnings.warn(f"dt = {dt:g} s: snnTorch 1.0.0 writes τ = 1e-4/(1 − β), so its network runs at dt = 1e-4 "
                      "s; another dt changes every decay", NIRConventionWarning, stacklevel=4)
    return dt


def apply_producer(producer: NIRProducer, params: dict, neuron: str, dt: float) -> dict:
    """The neuron parameters of one NIR node as the producer meant them (module table): ``params``
    holds float64 vectors ``tau_mem`` (and ``tau_syn``, ``w_in`` for cubalif); returns a new dict
    with ``reset`` added."""
    out = dict(params)
    if producer.name == "norse":
        # Norse writes dt / tau_inv = dt·τ (norse#411)
        out["tau_mem"] = params["tau_mem"] / dt
        if neuron == "cubalif":
            out["tau_syn"] = params["tau_syn"] / dt
            if np.all(params["w_in"] == 1.0):  # not written: Norse's LIFCell jumps i += input, i.e. du·w_in = 1
                out["w_in"] = out["tau_syn"] / dt
    out["reset"] = producer.ir_reset(neuron)
    return out


#: Relative slack of the bound: parameters often come as float32, so dt/τ = 1 may read as 1 + 6e-8.
_BOUND_SLACK = 1e-6


def check_stable(layer, where_type: str, producer: NIRProducer, fail) -> None:
    """Refuse (``fail``) a layer whose largest ``dt/τ`` exceeds the bound (float32 slack), in one line."""
    tau, ratio = max(layer.dt_over_tau().items(), key=lambda kv: kv[1])
    if ratio > MAX_DT_OVER_TAU * (1 + _BOUND_SLACK):
        hint = ("if the file comes from Norse, which writes τ·dt (norse issue 411), declare producer 'norse'; "
                "else give the dt the network was trained with" if producer.name == "nir" else
                "check the declared dt")
        fail(f"node '{layer.name}' ({where_type}): dt/{tau} = {ratio:.4g} > {MAX_DT_OVER_TAU:g} at dt = "
             f"{layer.dt:g} s, an unstable forward-Euler step (decay factor 1 − dt/τ < 0); {hint}")


def looks_like_snntorch(layers) -> bool:
    """True if every layer has the parameters snnTorch's export writes (``r = τ_mem/1e-4``,
    ``w_in = τ_syn/1e-4``, ``v_leak = v_reset = 0``): then its reset may be snnTorch's."""
    dt = PRODUCER_DT["snntorch"]
    for ly in layers:
        ok = np.allclose(ly.r * dt, ly.tau_mem, rtol=1e-5, atol=0) and not np.any(ly.v_leak) \
            and not np.any(ly.v_reset)
        if ly.neuron == "cubalif":
            ok = ok and np.allclose(ly.w_in * dt, ly.tau_syn, rtol=1e-5, atol=0)
        if not ok:
            return False
    return bool(layers)


def convention_warnings(producer: NIRProducer, layers, where: str) -> list:
    """The one-line warnings for what the file cannot carry (module doc), as strings."""
    out = []
    if producer.name == "nir" and looks_like_snntorch(layers):
        out.append(f"{where}: the parameters follow snnTorch's export (r = τ/1e-4 s); snnTorch resets by "
                   "subtraction one step late by default, which NIR cannot carry, and this import resets to "
                   "v_reset at once: declare producer 'snntorch' (with its reset) to run it as snnTorch does")
    if producer.name == "snntorch" and not producer.declared_reset:
        out.append(f"{where}: assuming snnTorch's reset_mechanism={producer.reset or 'subtract'!r}, "
                   f"reset_delay={True if producer.reset_delay is None else producer.reset_delay} (not in the "
                   "file); declare both if the network used others")
    return out


__all__ = ["NIRConventionWarning", "NIRProducer", "PRODUCER_DT", "SNNTORCH_MECHANISMS", "as_producer",
           "apply_producer", "check_stable", "choose_dt", "convention_warnings", "looks_like_snntorch"]
