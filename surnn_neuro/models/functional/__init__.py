"""The torch functional core: pure step functions over typed parameter and state tuples.

Norse's split of ``functional/`` and ``module/``: everything here is a function of explicit inputs,
parameters and states (``typing.NamedTuple``), with time-first shapes; the ``nn.Module`` shells
(:mod:`surnn_neuro.models.layer`, :mod:`surnn_neuro.models.gates`) and the snnTorch / Norse adapters
(:mod:`surnn_neuro.converters`) own the parameters and call these functions.

- :mod:`.cells`: the candidate ``f(h, x)`` of each cell kind (``candidate``);
- :mod:`.update`: the selective-update rule (``select``, ``su_step`` with ``SUParameters`` /
  ``SUState``), the one torch implementation shared by the trainable layer and the adapters;
- :mod:`.gates`: the gate kinds' step functions (oscillator drive, threshold drive and its event
  accumulator, the Skip-RNN state update, schedule trains);
- :mod:`.loop`: :func:`su_loop`, the one loop that owns time;
- :mod:`.sparse`: :func:`su_loop_sparse`, the same loop for a gate mask shared by the batch, computing
  (forward and backward) only the neurons that update.
"""

from surnn_neuro.models.functional.cells import candidate, candidate_parts, candidate_vjp
from surnn_neuro.models.functional.gates import (OscillatorParameters, SkipParameters, SkipState, ThresholdState,
                                                 oscillator_drive, schedule_train, skip_initial_state,
                                                 skip_receive, skip_update, threshold_drive, threshold_receive)
from surnn_neuro.models.functional.loop import LoopResult, su_loop
from surnn_neuro.models.functional.sparse import SparsePlan, SparseResult, sparse_plan, su_loop_sparse
from surnn_neuro.models.functional.update import SUParameters, SUState, select, su_initial_state, su_step

__all__ = [
    "LoopResult", "OscillatorParameters", "SUParameters", "SUState", "SkipParameters", "SkipState",
    "SparsePlan", "SparseResult", "ThresholdState", "candidate", "candidate_parts", "candidate_vjp",
    "oscillator_drive",
    "schedule_train", "select", "skip_initial_state", "skip_receive", "skip_update", "sparse_plan",
    "su_initial_state", "su_loop", "su_loop_sparse", "su_step", "threshold_drive", "threshold_receive",
]
