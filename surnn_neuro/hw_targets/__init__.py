"""Hardware targets: event graph → neuromorphic process graphs (numpy-level import, no torch).

- :mod:`surnn_neuro.hw_targets.lava`: Lava process graphs (float and Loihi-2-style bit-accurate fixed
  point), ``deploy``, Loihi 2 resource estimates. Lava itself is imported only when a network is
  built or run, so ``import surnn_neuro.hw_targets`` stays light (a test checks that torch is not
  imported).
"""

from surnn_neuro.hw_targets.lava import deploy, loihi2_estimate

__all__ = ["deploy", "loihi2_estimate"]
