"""Where a Lava time step falls in the batch, per process depth (the latency compensation).

Lava's ``Dense`` sends at step τ what it received at τ − 1, so every feed-forward Dense between the
input and a process adds one step. A process at **depth** ``d`` (the number of Dense hops from the
input ring buffer: layer ``l`` and its gate at ``l``, the readout at ``L + 1``) handles model step
``t`` of sample ``b`` at Lava step ``τ = b·T + t + d`` (``τ = time_step − 1``). Samples follow each
other without gaps (a pipeline: different layers may work on different samples in the same Lava
step); every stateful process resets itself at ``t = 0``. A run covers ``B·T + L + 1`` Lava steps.

Recurrent Dense connections (``W_hh``, a threshold gate's ``w_self``, a skip gate's ``w``) need no
compensation: a delta sent at ``τ`` arrives at ``τ + 1``, which is the same process' next model step,
exactly the one-step recurrence of docs/semantics.md §3. At ``t = 0`` they carry the previous
sample's last deltas, which the receiving process discards.

>>> w = Window(depth=2, n_steps=4, n_samples=3)
>>> [w.position(ts) for ts in (1, 2, 3, 6, 14, 15)]
[None, None, (0, 0), (0, 3), (2, 3), None]
>>> lava_steps(n_steps=4, n_samples=3, n_layers=2)
15
"""

from __future__ import annotations

import numpy as np

#: Gate spikes are recorded bit-packed, this many per int64 word: Lava 0.10 returns a Var element by
#: element as float64 (about 70 µs each), so 48 bits per element (exact in float64) cut the read-back.
PACK_BITS = 48
_POW2 = (np.int64(1) << np.arange(PACK_BITS, dtype=np.int64)).astype(np.int64)


def lava_steps(n_steps: int, n_samples: int, n_layers: int) -> int:
    """Lava steps that run ``n_samples`` samples of ``n_steps`` through ``n_layers`` layers and the readout."""
    return n_samples * n_steps + n_layers + 1


class Window:
    """Model position ``(sample, t)`` of a process at ``depth`` for a Lava ``time_step`` (1-based)."""

    def __init__(self, depth: int, n_steps: int, n_samples: int):
        self.depth, self.n_steps, self.n_samples = int(depth), int(n_steps), int(n_samples)
        self.total = self.n_steps * self.n_samples

    def position(self, time_step: int):
        """``(b, t)``, or None outside the window (pipeline fill and drain)."""
        k = time_step - 1 - self.depth
        if k < 0 or k >= self.total:
            return None
        return divmod(k, self.n_steps)


def packed_width(n: int) -> int:
    """int64 words needed to hold ``n`` bits at ``PACK_BITS`` per word."""
    return -(-n // PACK_BITS)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """``(H,)`` bool → ``(packed_width(H),)`` int64, bit ``i % 48`` of word ``i // 48``."""
    n = bits.shape[0]
    w = packed_width(n)
    padded = np.zeros(w * PACK_BITS, dtype=np.int64)
    padded[:n] = bits
    return padded.reshape(w, PACK_BITS) @ _POW2


def unpack_bits(words: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`pack_bits` on the last axis: ``(..., W)`` (int or exact float) → ``(..., n)`` bool."""
    words = np.asarray(np.rint(words), dtype=np.int64)
    bits = (words[..., :, None] >> np.arange(PACK_BITS, dtype=np.int64)) & 1
    return bits.reshape(*words.shape[:-1], -1)[..., :n].astype(bool)
