"""Simulate an event graph on a task's data and score it with the task's metric.

The task glue of ``surnn-neuro simulate`` and of the main job (command layer, DESIGN.md §4: it
imports training and datasets downward; simulators/ knows neither). Task data (torch tensors) in, a
Trace and the task metric out. Scoring reuses :func:`surnn_neuro.training.losses.task_score`, so a
simulated network is scored exactly like the torch model it came from.
"""

from __future__ import annotations

import numpy as np
import torch

from surnn_neuro.datasets import TaskData
from surnn_neuro.errors import UserError
from surnn_neuro.simulators import simulate
from surnn_neuro.training.losses import task_score
from surnn_neuro.training.tasks import as_torch, load_task


def task_inputs(graph, task_name, limit=None, data_dir=None, seq_len=None, split="test"):
    """(task, x: (N, T, V) float64, y) for a graph, checking that the input sizes match.
    ``task_name``: a task name, or a :class:`TaskData` already loaded (e.g. from
    :func:`surnn_neuro.datasets.from_tonic`)."""
    if limit is not None and limit < 1:
        raise UserError(f"--limit: must be >= 1, got {limit}")
    if isinstance(task_name, TaskData):
        task = as_torch(task_name)
        task_name = task.name
    else:
        task = load_task(task_name, seq_len=seq_len, data_dir=data_dir)
    x, y = (task.x_test, task.y_test) if split == "test" else (task.x_train, task.y_train)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    if x.shape[-1] != graph.input.size:
        raise UserError(f"--task {task_name}: inputs have {x.shape[-1]} channels but the graph's input "
                        f"node expects {graph.input.size}; was the graph converted from a model of "
                        f"another task?")
    return task, x.numpy().astype(np.float64), y


def score_trace(task, trace, y) -> float:
    """Mean task metric of a trace's outputs (same scoring as the torch model)."""
    out = torch.as_tensor(trace.outputs)
    if out.dim() == 3:  # (B, T, O) -> time-first, as the torch models return readout 'all'
        out = out.transpose(0, 1)
    return task_score(task, out, y) / len(y)


def _counts(trace) -> dict:
    out = {name: trace.total(name, per_sample=True)
           for name in ("events", "synaptic_ops", "ac_ops", "neuron_updates", "dense_macs")}
    out["gate_spikes"] = sum(int(g.sum()) for g in trace.gate_spikes.values()) / trace.n_samples
    return out


def simulate_on_array(graph, path, backend="reference", limit=None, **kw):
    """Run ``graph`` on inputs from a ``.npy`` file of shape (B, T, V); returns (trace, counts)."""
    from pathlib import Path

    p = Path(path)
    try:  # memory-mapped: a header that claims more than the file holds is refused, not allocated
        x = np.load(p, allow_pickle=False, mmap_mode="r")
    except FileNotFoundError:
        raise UserError(f"--input {p}: file not found") from None
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"--input {p}: not a numpy .npy array ({' '.join(str(e).split())[:160]})") from None
    if not isinstance(x, np.ndarray):
        raise UserError(f"--input {p}: a {type(x).__name__} (.npz archive?), expected one .npy array")
    if x.dtype.kind not in "biuf":
        raise UserError(f"--input {p}: expected a real-valued numeric array, got dtype {x.dtype}")
    if x.ndim != 3:
        raise UserError(f"--input {p}: expected a (B, T, V) array, got shape {x.shape}")
    if 0 in x.shape:
        raise UserError(f"--input {p}: empty array of shape {x.shape}; B, T and V must be >= 1")
    if x.shape[-1] != graph.input.size:
        raise UserError(f"--input {p}: {x.shape[-1]} channels but the graph's input expects {graph.input.size}")
    if limit is not None:
        x = x[:limit]
    bad = ~np.isfinite(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
    if bad.any():
        b, t, v = np.argwhere(bad)[0]
        raise UserError(f"--input {p}: holds {int(bad.sum())} NaN or infinite value(s), the first at "
                        f"sample {b}, step {t}, input {v}")
    trace = simulate(graph, x.astype(np.float64), backend=backend, **kw)
    return trace, {"backend": backend, "n": len(x), "update_rate": trace.update_rate(), **_counts(trace)}


def simulate_on_task(graph, task_name, backend="reference", limit=None, data_dir=None, seq_len=None,
                     split="test", **kw):
    """Run ``graph`` on a task split (``task_name``: a name or a :class:`TaskData`); returns (trace,
    result dict with the metric and per-inference counts)."""
    task, x, y = task_inputs(graph, task_name, limit, data_dir, seq_len, split)
    trace = simulate(graph, x, backend=backend, **kw)
    result = {"task": task.name, "backend": backend, "n": len(y), "metric": task.metric,
              "value": score_trace(task, trace, y), "update_rate": trace.update_rate()}
    result.update(_counts(trace))
    return trace, result
