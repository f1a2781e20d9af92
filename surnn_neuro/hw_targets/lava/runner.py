"""Run a built Lava network, collect the Trace, and never leave Lava processes behind.

Lava 0.10 runs every ProcessModel and each runtime service in its own forked OS process (plus a
shared-memory manager process). Two of its failure modes would leave them running or hang the caller:

- an exception in a ProcessModel: the failing model exits while its peers wait for its messages of
  that step, so a blocking ``run`` never returns (checked with lava-nc 0.10.0);
- ``Runtime.stop()`` after an error waits for an answer from a runtime service that has already
  exited, and before ``start`` it joins actors that are still waiting for commands.

So the runner (1) creates the runtime with SIGINT ignored, so that forked children do not die
half-way on Ctrl-C (the parent gets the KeyboardInterrupt and shuts them down); (2) runs
non-blocking and polls: it drains the output monitor, notices finished runs and dead actors, and
raises :class:`LavaRunError` with the model's traceback; (3) always shuts down in ``finally``:
``stop()`` (bounded by a timeout) when every actor is alive and the runtime started, otherwise, or
if ``stop()`` does not return, terminate → kill the actors it started and shut the shared-memory
manager down. ``multiprocessing.active_children()`` is the same before and after (tested). (4)
A parent killed with SIGKILL runs no ``finally``: every child forked while the runtime is created
asks the kernel to kill it when the parent dies (``PR_SET_PDEATHSIG``, see
:func:`surnn_neuro.hw_targets.lava._mp.children_die_with_parent`; tested with a real SIGKILL).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import signal
import threading
import time

import numpy as np
from surnn_neuro.hw_targets.lava._mp import children_die_with_parent
from surnn_neuro.hw_targets.lava._mp import prepare as _prepare_mp
_prepare_mp()  # before the first Lava import (see _mp.py)
from lava.magma.core.process.process import ProcessServer
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.io.extractor import Extractor, PyLoihiExtractorModel

from surnn_neuro.hw_targets.lava.network import LavaNetwork
from surnn_neuro.hw_targets.lava.timing import unpack_bits
from surnn_neuro.ir.counting import fill_dense_macs
from surnn_neuro.ir.trace import COUNT_FIELDS, Trace

#: Seconds ``Runtime.stop()`` may take before the actors are terminated instead.
STOP_TIMEOUT = 20.0
#: Poll interval of the non-blocking run (s).
POLL = 0.002


class LavaRunError(RuntimeError):
    """A Lava ProcessModel failed (message: the model's exception and traceback) or the run stalled."""


def run_config(net: LavaNetwork) -> Loihi2SimCfg:
    """``Loihi2SimCfg(select_tag=floating_pt | fixed_pt)``; the Extractor has two untagged models, so
    its Loihi-protocol model is named explicitly."""
    return Loihi2SimCfg(select_tag=net.select_tag,
                        exception_proc_model_map={Extractor: PyLoihiExtractorModel})


@contextlib.contextmanager
def _sigint_deferred():
    """Fork Lava's children so that Ctrl-C does not reach them, and defer a Ctrl-C in the parent.

    While the runtime is compiled and forked, SIGINT goes to a Python handler that only records it:
    the children inherit that handler, so a terminal Ctrl-C (sent to the whole process group) never
    kills a child mid-protocol, and only the parent reacts. A Ctrl-C in the parent during this
    window is not lost: once the runtime exists it is raised as KeyboardInterrupt, so the caller's
    cleanup stops the runtime. (Ignoring SIGINT with SIG_IGN instead silently dropped a Ctrl-C that
    arrived during compilation; the run then went on to the end.)
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # (a background job ignores Ctrl-C)
        yield
        return
    pending = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if pending:  # reached only when the body finished without an exception of its own
        raise KeyboardInterrupt


def _actors(rt):
    mi = getattr(rt, "_messaging_infrastructure", None)
    return list(getattr(mi, "actors", []) or [])


def _alive(actor) -> bool:
    if getattr(actor, "_is_done", False):  # joined and closed by Lava
        return False
    try:
        return actor.is_alive()
    except ValueError:  # closed process object
        return False


def _actor_errors(rt) -> str:
    msgs = []
    for a in _actors(rt):
        try:
            exc = a.exception
        except (ValueError, OSError, EOFError):
            exc = None
        if exc:
            e, tb = exc
            msgs.append(f"{type(e).__name__}: {e}\n{tb}")
    return "\n".join(msgs)


def shutdown(net: LavaNetwork, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the runtime of ``net`` and make sure every OS process it started has exited."""
    anchor = net.readout
    rt = anchor.runtime
    if rt is None:
        release(net)
        return
    actors = _actors(rt)
    clean = False
    if getattr(rt, "_is_started", False) and actors and all(_alive(a) for a in actors):
        done = []

        def _stop():
            try:
                rt.stop()
                done.append(True)
            except Exception:  # noqa: BLE001 - fall back to terminating below
                pass

        th = threading.Thread(target=_stop, name="lava-stop", daemon=True)
        th.start()
        th.join(timeout)
        clean = bool(done)
    if not clean:
        for a in actors:
            if _alive(a):
                a.terminate()
        for a in actors:
            if getattr(a, "_is_done", False):
                continue
            mp.Process.join(a, 5.0)
            if a.exitcode is None:
                a.kill()
                mp.Process.join(a, 5.0)
        mi = getattr(rt, "_messaging_infrastructure", None)
        smm = getattr(mi, "_smm", None)
        if smm is not None:
            with contextlib.suppress(Exception):
                smm.shutdown()
        with contextlib.suppress(Exception):
            rt._watchdog_manager.stop()
        rt._is_started = rt._is_running = False
    release(net)


def release(net: LavaNetwork) -> None:
    """Detach ``net``'s processes from their (stopped) runtime and from Lava's registry.

    Lava's ``AbstractProcess.__del__`` calls ``stop()`` again, and its ``ProcessServer`` singleton keeps
    every Process ever built (weights, ring-buffer data): without this, repeated runs grow memory."""
    for p in net.processes.values():
        p._runtime = None
    srv = ProcessServer()
    ours = {id(p) for p in net.processes.values()}
    srv.processes = [p for p in srv.processes if id(p) not in ours]


def _drain(monitor, out: list) -> None:
    port = monitor.out_port.external_pipe_csp_recv_port
    while port._queue.qsize() > 0:
        out.append(np.array(monitor.receive(), copy=True))


def execute(net: LavaNetwork, progress: bool = False, timeout: float | None = None) -> dict:
    """Run ``net`` for its ``n_lava_steps`` and return the raw records (monitor rows, Var values,
    ``timing``: compile + fork of the runtime, the run itself, and reading the Vars back, in s).

    ``timeout`` (s, optional) bounds the run itself; a stall raises :class:`LavaRunError`.
    """
    from tqdm.auto import tqdm

    anchor = net.readout
    rows: list = []
    bar = tqdm(total=net.n_lava_steps, desc=f"lava {net.select_tag}", unit="step",
               disable=None if progress else True, leave=False)  # a bar on a terminal only
    t_start = time.perf_counter()
    try:
        with _sigint_deferred(), children_die_with_parent():
            anchor.create_runtime(run_cfg=run_config(net))
        rt = anchor.runtime
        t_run = time.perf_counter()
        anchor.run(condition=RunSteps(num_steps=net.n_lava_steps, blocking=False))
        t0 = time.monotonic()
        ports = rt.service_to_runtime
        while True:
            n = len(rows)
            _drain(net.monitor, rows)
            bar.update(len(rows) - n)
            if all(p.probe() for p in ports):
                break
            if not all(_alive(a) for a in _actors(rt)):
                time.sleep(0.2)  # let the failed model's traceback arrive
                raise LavaRunError("a Lava ProcessModel stopped during the run:\n"
                                   + (_actor_errors(rt) or "(no traceback)"))
            if timeout is not None and time.monotonic() - t0 > timeout:
                raise LavaRunError(f"Lava run did not finish within {timeout} s")
            time.sleep(POLL)
        try:
            rt.wait()
        except RuntimeError as e:
            raise LavaRunError(f"{e}\n{_actor_errors(rt)}") from None
        _drain(net.monitor, rows)
        t_done = time.perf_counter()
        bar.update(net.n_lava_steps - bar.n)
        records = {
            "monitor": np.stack(rows) if rows else np.zeros((0, net.graph.readout.output_size)),
            "counter": net.counter.counts.get(),
            "layers": {name: (p.counts.get(), p.spikes.get()) for name, p in net.layers.items()},
        }
        t_read = time.perf_counter()
        records["timing"] = {"startup_s": t_run - t_start, "run_s": t_done - t_run, "read_vars_s": t_read - t_done}
    finally:
        bar.close()
        shutdown(net)
    if records["monitor"].shape[0] != net.n_lava_steps:
        raise LavaRunError(f"monitor received {records['monitor'].shape[0]} of {net.n_lava_steps} steps")
    return records


def assemble_trace(net: LavaNetwork, records: dict) -> Trace:
    """Records of :func:`execute` → the backend-independent :class:`Trace` (docs/semantics.md §4)."""
    g = net.graph
    n_b, n_t = net.n_samples, net.n_steps
    n_l = len(g.layers)
    rows = len(g.node_names)
    counts = {f: np.zeros((rows, n_t), dtype=np.int64) for f in COUNT_FIELDS}
    c = np.rint(records["counter"]).astype(np.int64)
    counts["events"][0] = c[0]
    counts["synaptic_ops"][1] += c[1]
    counts["ac_ops"][1] = c[2]
    spikes = {}
    for row, layer in enumerate(g.layers, start=1):
        lc, packed = records["layers"][layer.name]
        lc = np.rint(lc).astype(np.int64)
        counts["events"][row] = lc[0]
        counts["neuron_updates"][row] = lc[0]
        counts["synaptic_ops"][row] += lc[1]
        counts["synaptic_ops"][row + 1] += lc[2]  # the next layer's or the readout's row
        spikes[layer.name] = unpack_bits(packed, layer.hidden_size).reshape(n_b, n_t, layer.hidden_size)
    fill_dense_macs(counts["dense_macs"], g, n_b)
    ro = g.readout

    d = net.depth[ro.name]  # = L + 1: the readout handles model step k at Lava step k + L + 1
    y = records["monitor"][d: d + n_b * n_t].astype(np.float64).reshape(n_b, n_t, ro.output_size)
    if net.plan is not None:
        y = y * 2.0 ** -net.plan.sigma_frac[ro.name]
    if ro.mode == "last":
        outputs = y[:, -1].copy()
    elif ro.mode == "mean":
        outputs = y.mean(axis=1)
    else:
        outputs = y
    meta = {"lava_steps": net.n_lava_steps, "latency_steps": n_l + 1, "select_tag": net.select_tag}
    if net.plan is not None:
        meta["fixed_point"] = net.plan.summary()
    return Trace(backend="lava-fixed" if net.fixed_point else "lava", node_names=g.node_names,
                 layer_names=g.layer_names, outputs=outputs, gate_spikes=spikes, n_samples=n_b, metadata=meta,
                 **counts)


def quiet_lava_logging():
    """Context: Lava 0.10 adds a console handler to the root logger for every Process it creates;
    remove the ones added inside the block (they would repeat every log line once per Process)."""
    return _RootHandlers()


class _RootHandlers:
    def __enter__(self):
        self.before = list(logging.getLogger().handlers)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        for h in list(root.handlers):
            if h not in self.before:
                root.removeHandler(h)
        return False
