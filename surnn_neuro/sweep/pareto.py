"""Pareto fronts of a sweep: task metric against each cost, per task.

A finished row is on the front of a cost c (energy per inference on one profile, or synaptic ops
per inference) when no other finished row of the same task has c ≤ and a metric at least as good
(accuracy ≥, MSE ≤) with one of the two strict (:func:`surnn_neuro.reports.plots.pareto_front`).
Rows that did not finish (stopped early, errors) are on no front. Exact ties are all on the front.

>>> rows = [{"task": "t", "status": "done", "accuracy": a, "energy_pJ_p": e, "synaptic_ops": s}
...         for a, e, s in [(0.9, 30.0, 5.0), (0.8, 10.0, 1.0), (0.85, 40.0, 9.0)]]
>>> fronts = mark_fronts(rows, "accuracy", ["p"])
>>> fronts["t"]["p"], [r["pareto_p"] for r in rows]
([1, 0], [True, True, False])
"""

from __future__ import annotations

import math

from surnn_neuro.reports.plots import pareto_front

#: the cost that is not an energy
SYNOPS = "synaptic_ops"


def cost_keys(profiles) -> list:
    """Row keys of every cost: ``energy_pJ_<profile>`` per profile, then ``synaptic_ops``."""
    return [f"energy_pJ_{p}" for p in profiles] + [SYNOPS]


def front_name(cost_key: str) -> str:
    """``energy_pJ_loihi1_table2`` -> ``loihi1_table2``; ``synaptic_ops`` stays."""
    return cost_key[len("energy_pJ_"):] if cost_key.startswith("energy_pJ_") else cost_key


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def mark_fronts(rows: list, metric: str, profiles) -> dict:
    """Set ``row["pareto_<name>"]`` (bool) on every row for every cost; return
    {task: {name: [row indices on the front, by rising cost]}}."""
    maximize = metric == "accuracy"
    fronts: dict = {}
    for key in cost_keys(profiles):
        name = front_name(key)
        for r in rows:
            r[f"pareto_{name}"] = False
        by_task: dict = {}
        for i, r in enumerate(rows):
            if r.get("status") == "done" and _finite(r.get(metric)) and _finite(r.get(key)):
                by_task.setdefault(r["task"], []).append(i)
        for task, idx in by_task.items():
            pts = [{"x": rows[i][key], "y": rows[i][metric]} for i in idx]
            on = [idx[j] for j in pareto_front(pts, x="x", y="y", maximize=maximize)]
            for i in on:
                rows[i][f"pareto_{name}"] = True
            fronts.setdefault(task, {})[name] = on
    return fronts
