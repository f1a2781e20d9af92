"""Task loss and score per task kind, values derived by hand."""

import math

import numpy as np
import pytest
import torch

from surnn_neuro.datasets import TaskData
from surnn_neuro.training.losses import task_loss, task_score


def _task(kind, y, n_out, readout, metric, T=3):
    x = np.zeros((len(y), T, 1), np.float32)
    return TaskData("t", kind, x, y, x, y, n_out, readout, metric, {})


def test_classification():
    t = _task("classification", np.array([0, 1]), 2, "last", "accuracy")
    out = torch.tensor([[2.0, 0.0], [3.0, 0.0]])  # argmax 0, 0: one of two right
    y = torch.tensor([0, 1])
    assert task_score(t, out, y) == 1.0
    # CE = mean of −log softmax[y]: sample 0: −log(e²/(e² + 1)) = log(1 + e⁻²);
    # sample 1: −log(1/(e³ + 1)) = log(1 + e³)
    expected = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(3))) / 2
    assert float(task_loss(t, out, y)) == pytest.approx(expected, rel=1e-6)


def test_regression():
    t = _task("regression", np.array([1.0, 2.0], np.float32), 1, "last", "mse")
    out = torch.tensor([[1.5], [0.0]])
    y = torch.tensor([1.0, 2.0])
    assert task_score(t, out, y) == pytest.approx(0.25 + 4.0)   # Σ (out − y)²
    assert float(task_loss(t, out, y)) == pytest.approx(4.25 / 2)


def test_sequence_scores_the_last_steps_time_first():
    # T = 3, B = 1, S = 2: the last two steps predict classes 1 then 0; targets 1, 1 -> 1/2 right
    t = _task("sequence", np.array([[1, 1]]), 2, "all", "accuracy")
    out = torch.tensor([[[0.0, 9.0]], [[0.0, 1.0]], [[1.0, 0.0]]])  # (T, B, O)
    assert task_score(t, out, torch.tensor([[1, 1]])) == 0.5
    # CE over the last two steps: (log(1 + e^-1) + log(1 + e^1)) / 2
    expected = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(1))) / 2
    assert float(task_loss(t, out, torch.tensor([[1, 1]]))) == pytest.approx(expected, rel=1e-6)
