"""Simulators: every backend runs an EventGraph on an input and returns the same Trace.

``simulate(graph, x, backend=...)`` dispatches through ``BACKENDS`` (name -> "module:function"),
importing the backend only when it is used, so heavy optional backends (torch, Lava) cost nothing
until asked for. Every backend function has the signature ``run(graph, x, **kw) -> Trace`` with
``x: (B, T, V)`` (batch-first, like the Trace) and implements docs/semantics.md.

>>> {'dense', 'reference'} <= set(BACKENDS)
True
"""

from __future__ import annotations

import importlib

from surnn_neuro.errors import UserError

#: backend name -> "module:function". Other backends add their row here.
BACKENDS = {
    "reference": "surnn_neuro.simulators.reference:run",
    "dense": "surnn_neuro.simulators.dense:run",
    "lava": "surnn_neuro.simulators.lava_backend:run",
    "lava-fixed": "surnn_neuro.simulators.lava_backend:run_fixed",
    "snntorch": "surnn_neuro.simulators.snntorch_backend:run",
    "norse": "surnn_neuro.simulators.norse_backend:run",
}


def backend_function(backend: str):
    """The ``run`` function of ``backend`` (imported now); ValueError listing known backends."""
    try:
        target = BACKENDS[backend]
    except (KeyError, TypeError):
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(sorted(BACKENDS))}") from None
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UserError(f"backend '{backend}' is not available: {e} (install its dependencies)") from e
    return getattr(module, func_name)


def simulate(graph, x, backend: str = "reference", **kw):
    """Run ``graph`` on ``x: (B, T, V)`` with ``backend``; returns a Trace."""
    return backend_function(backend)(graph, x, **kw)


__all__ = ["BACKENDS", "backend_function", "simulate"]
