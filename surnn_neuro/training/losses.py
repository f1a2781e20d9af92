"""Task losses and scores (torch), one rule per task kind.

Shapes: ``out`` is the model output, (B, O) for readout ``last``/``mean`` and time-first
(T, B, O) for ``all``; ``y`` is (B,) int64 labels (classification), (B,) float32 targets
(regression) or (B, S) int64 tokens of the last S steps (sequence).

=================  =========================================  ==========================================
kind               loss (mean over the batch)                 score (sum over the batch)
=================  =========================================  ==========================================
classification     cross-entropy(out, y)                      number of samples with argmax out = y
regression         mean of (out − y)²                         Σ (out − y)²  (divide by N for the MSE)
sequence           cross-entropy over the last S steps         Σ_b mean_s [argmax out[T−S+s, b] = y[b, s]]
=================  =========================================  ==========================================

The update-budget term of the loss is :func:`surnn_neuro.training.loop.budget_term`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from surnn_neuro.datasets.task import KINDS, TaskData


def _seq_logits(out: torch.Tensor, S: int) -> torch.Tensor:
    return out[-S:].permute(1, 0, 2).reshape(-1, out.shape[-1])  # (B·S, O)


def _loss_classification(out, y):
    return F.cross_entropy(out, y)


def _loss_regression(out, y):
    return F.mse_loss(out.squeeze(-1), y)


def _loss_sequence(out, y):
    return F.cross_entropy(_seq_logits(out, y.shape[1]), y.reshape(-1))


def _score_classification(out, y):
    return float((out.argmax(-1) == y).sum())


def _score_regression(out, y):
    return float(((out.squeeze(-1) - y) ** 2).sum())


def _score_sequence(out, y):
    pred = out[-y.shape[1]:].argmax(-1).T  # (B, S)
    return float((pred == y).float().mean(1).sum())


LOSSES = {"classification": _loss_classification, "regression": _loss_regression,
          "sequence": _loss_sequence}
SCORES = {"classification": _score_classification, "regression": _score_regression,
          "sequence": _score_sequence}


def _rule(table: dict, task: TaskData):
    try:
        return table[task.kind]
    except KeyError:
        raise ValueError(f"unknown task kind {task.kind!r}; known: {', '.join(KINDS)}") from None


def task_loss(task: TaskData, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Task loss of model outputs against targets (see the table above)."""
    return _rule(LOSSES, task)(out, y)


def task_score(task: TaskData, out: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of the per-sample metric over the batch (divide by N for the mean)."""
    return _rule(SCORES, task)(out, y)
