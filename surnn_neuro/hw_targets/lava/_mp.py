"""Let Lava be imported after something else fixed the multiprocessing start method.

lava-nc 0.10.0 calls ``multiprocessing.set_start_method('fork')`` (without ``force``) when its
runtime is first imported, which raises "context has already been set" if anything created a
multiprocessing object before (tqdm does: its write lock is a multiprocessing RLock). Every module
of ours that imports Lava calls :func:`prepare` first: if the start method is already 'fork' (the
Linux default), the recorded choice is cleared so that Lava can set the same method again.
"""

from __future__ import annotations

import multiprocessing
import sys

_LAVA_MP = "lava.magma.runtime.message_infrastructure.multiprocessing"


def prepare() -> None:
    """Make the first Lava import succeed whatever created multiprocessing objects before."""
    if _LAVA_MP in sys.modules:
        return
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
