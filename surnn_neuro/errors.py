"""One exception type for problems the user can fix (bad option, missing or corrupt file), and the
name of what a command is doing when something else goes wrong.

The CLI turns a :class:`UserError` into one line on stderr and exit status 2, without a traceback.
Library code raises it (or ``ValueError`` for programming errors in configuration objects) with a
message that names the file or option, the problem, and what to do.

Anything else that escapes a command (an OSError from a full disk, MemoryError, a library's
ValueError) becomes one line too, exit status 1, naming what the command was doing: the innermost
:func:`doing` block the exception passed through. ``--debug`` or the environment variable
``SURNN_NEURO_DEBUG=1`` prints the traceback instead.

SIGTERM (``kill``, ``timeout``, a batch scheduler, torchrun stopping its workers) takes the path of
Ctrl-C inside a command (:func:`terminate_as_interrupt`): it raises :class:`Terminated`, a
KeyboardInterrupt, so every cleanup written for Ctrl-C runs (staging folders removed, the Lava
runtime stopped), and the command exits with status 143. Processes forked meanwhile get the default
SIGTERM back, so a terminated child (Lava's own shutdown terminates its workers) still just ends.

>>> try:
...     with doing("reading x.h5"):
...         raise OSError("disk on fire")
... except OSError as e:
...     print(activity(e))
reading x.h5
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

#: Environment variable that turns on tracebacks (same as ``--debug``).
DEBUG_ENV = "SURNN_NEURO_DEBUG"


class UserError(Exception):
    """A problem with user input: the message is shown as is, on one line."""


class Terminated(KeyboardInterrupt):
    """SIGTERM reached a command (see :func:`terminate_as_interrupt`)."""


def _raise_terminated(signum, frame):
    raise Terminated()


def _default_sigterm_in_child() -> None:
    if signal.getsignal(signal.SIGTERM) is _raise_terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_sigterm_in_child)


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block SIGTERM raises :class:`Terminated` in the main thread (module doc). Only
    where SIGTERM has its default action (a host program's handler is left alone) and only in the
    main thread (signal handlers can be set there only); the previous action is restored after."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def doing(what: str):
    """Name the work inside the block; an exception leaving it remembers the innermost name."""
    try:
        yield
    except BaseException as e:
        if getattr(e, "_surnn_doing", None) is None:
            with contextlib.suppress(AttributeError, TypeError):
                e._surnn_doing = what
        raise


def activity(e: BaseException, default: str | None = None) -> str | None:
    """What the command was doing when ``e`` was raised (see :func:`doing`), or ``default``."""
    return getattr(e, "_surnn_doing", None) or default


def debug_enabled() -> bool:
    """True when ``SURNN_NEURO_DEBUG`` is set to anything but "", "0", "false" or "no"."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _squeeze(text: str, width: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def unexpected_message(e: BaseException, default: str) -> str:
    """The one line for an error that is not the user's input: what the command was doing
    (:func:`activity`, else ``default``) and what went wrong."""
    where = activity(e, default)
    text = str(e)
    if isinstance(e, MemoryError) or any(m in text for m in ("can't allocate memory", "not enough memory")) \
            or "out of memory" in text.lower():
        return (f"out of memory while {where}; use smaller sizes (--hidden, --layers, --batch-size, "
                f"--limit, --steps)")
    if isinstance(e, OSError) and e.strerror:
        files = " -> ".join(str(f) for f in (e.filename, e.filename2) if f)
        return f"while {where}: {(files + ': ') if files else ''}{e.strerror}"
    return (f"while {where}: {type(e).__name__}: {_squeeze(text) or '(no message)'} (rerun with --debug or "
            f"{DEBUG_ENV}=1 for the traceback)")
