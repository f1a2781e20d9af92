"""Let Lava be imported after something else fixed the multiprocessing start method.

lava-nc 0.10.0 calls ``multiprocessing.set_start_method('fork')`` (without ``force``) when its
runtime is first imported, which raises "context has already been set" if anything created a
multiprocessing object before (tqdm does: its write lock is a multiprocessing RLock). Every module
of ours that imports Lava calls :func:`prepare` first: if the start method is already 'fork' (the
Linux default), the recorded choice is cleared so that Lava can set the same method again.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys

_LAVA_MP = "lava.magma.runtime.message_infrastructure.multiprocessing"


def lava_missing_reason() -> str | None:
    """None if Lava can be used here, else the one line that says what the Lava target needs.

    lava-nc 0.10.0, its last release, installs on Python 3.10 only (the ``lava`` extra carries the
    marker ``python_version < "3.11"``) and fails at import on 3.11+; everything else in the
    package works without it. ``SURNN_NEURO_NO_LAVA=1`` makes Lava count as absent.
    """
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    if os.environ.get("SURNN_NEURO_NO_LAVA"):  # behave as without Lava (tests of that path)
        return "the Lava target needs lava-nc 0.10.0 on Python 3.10 (disabled here by SURNN_NEURO_NO_LAVA)"
    if sys.version_info[:2] != (3, 10):
        return (f"the Lava target needs lava-nc 0.10.0, which runs on Python 3.10 only (this is Python {py}); "
                "use a Python 3.10 environment with surnn-neuro[lava] (make demo sets one up)")
    if importlib.util.find_spec("lava") is None:
        return ("the Lava target needs lava-nc 0.10.0 on Python 3.10, which is not installed: "
                "pip install 'surnn-neuro[lava]'")
    return None


def prepare() -> None:
    """Make the first Lava import succeed whatever created multiprocessing objects before.

    Raises the :class:`~surnn_neuro.errors.UserError` of :func:`lava_missing_reason` when Lava
    cannot be used here: every Lava backend passes through this function first.
    """
    if _LAVA_MP in sys.modules:
        return
    missing = lava_missing_reason()
    if missing:
        from surnn_neuro.errors import UserError

        raise UserError(missing)
    current = multiprocessing.get_start_method(allow_none=True)
    if current is None:
        return
    if current != "fork":
        from surnn_neuro.errors import UserError

        raise UserError(f"the Lava backend needs the 'fork' multiprocessing start method, but "
                        f"'{current}' was set before Lava was imported")
    # the default context's recorded choice; Lava sets the same 'fork' again at import
    multiprocessing.context._default_context._actual_context = None
    import importlib

    importlib.import_module(_LAVA_MP)


# -- children that end with their parent ------------------------------------------------------------
#
# Lava forks its ProcessModels, runtime services and the shared-memory manager with the 'fork'
# start method. runner.shutdown() stops them whenever the parent can still run Python (errors,
# Ctrl-C), but a parent killed with SIGKILL runs nothing: its children would run on. A fork hook
# makes each child forked while armed ask the kernel for SIGKILL when its parent dies
# (prctl(PR_SET_PDEATHSIG), Linux); where prctl is missing, a daemon thread in the child polls
# getppid() instead. The hook is armed only while a runtime is created (children_die_with_parent),
# so other forks of the process are left alone. PR_SET_PDEATHSIG fires when the *thread* that
# forked exits: the runtime is created, and its children forked, by the calling thread, which
# outlives the run (runner.execute shuts the runtime down before it returns).

import contextlib  # noqa: E402
import ctypes  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402

_PR_SET_PDEATHSIG = 1
#: Seconds between two parent checks of the fallback watchdog.
WATCHDOG_POLL = 0.5
_armed = False
_parent_pid = None


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(WATCHDOG_POLL)
    os._exit(1)


def _die_with_parent() -> None:
    """In a child just forked while armed: end when the parent ends (module comment above)."""
    global _parent_pid
    if not _armed:
        return
    parent, _parent_pid = _parent_pid, os.getpid()  # a grandchild dies with this child
    ok = False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    if not ok:
        threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog", daemon=True).start()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_die_with_parent)


@contextlib.contextmanager
def children_die_with_parent():
    """Children forked inside the block are killed when this process dies, even by SIGKILL."""
    global _armed, _parent_pid
    before = (_armed, _parent_pid)
    _armed, _parent_pid = True, os.getpid()
    try:
        yield
    finally:
        _armed, _parent_pid = before
