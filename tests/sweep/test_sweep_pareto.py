"""Pareto fronts on hand-made rows (derived by hand in the comments)."""

from surnn_neuro.reports.plots import pareto_front
from surnn_neuro.sweep.pareto import mark_fronts


def _row(task, acc, e, ops, status="done", metric="accuracy"):
    return {"task": task, "status": status, metric: acc, "energy_pJ_p": e, "synaptic_ops": ops}


def test_front_per_cost_and_per_task():
    rows = [
        _row("a", 0.90, 50.0, 900.0),   # 0
        _row("a", 0.80, 20.0, 100.0),   # 1
        _row("a", 0.85, 60.0, 300.0),   # 2
        _row("a", 0.95, 80.0, 200.0),   # 3
        _row("a", 0.70, 20.0, 50.0),    # 4
        _row("a", 0.99, 10.0, 10.0, status="stopped"),  # 5: not finished, on no front
        _row("b", 0.10, 99.0, 99.0),    # 6: another task, alone on its front
    ]
    fronts = mark_fronts(rows, "accuracy", ["p"])
    # energy, rising: 20 (0.80 and 0.70: the 0.70 is dominated at equal energy) -> 1; 50 (0.90 > 0.80)
    # -> 0; 60 (0.85 < 0.90) dominated; 80 (0.95 > 0.90) -> 3.  Front [1, 0, 3].
    assert fronts["a"]["p"] == [1, 0, 3]
    # synaptic ops, rising: 50 (0.70) -> 4; 100 (0.80) -> 1; 200 (0.95) -> 3; 300, 900 dominated.
    assert fronts["a"]["synaptic_ops"] == [4, 1, 3]
    assert fronts["b"] == {"p": [6], "synaptic_ops": [6]}
    assert [r["pareto_p"] for r in rows] == [True, True, False, True, False, False, True]
    assert [r["pareto_synaptic_ops"] for r in rows] == [False, True, False, True, True, False, True]


def test_lower_is_better_metric_and_ties():
    # MSE: lower is better. Energies 1, 2, 2, 3 with MSE 0.5, 0.2, 0.2, 0.3: point 0 (cheapest) is on
    # the front; 1 and 2 are identical (neither dominates the other) and beat 0's MSE: both on it;
    # 3 costs more with a worse MSE than 1: dominated.
    rows = [_row("t", m, e, e, metric="mse") for m, e in [(0.5, 1.0), (0.2, 2.0), (0.2, 2.0), (0.3, 3.0)]]
    fronts = mark_fronts(rows, "mse", ["p"])
    assert fronts["t"]["p"] == [0, 1, 2]
    # the same points read as accuracy (higher is better): 0.5 at energy 1 beats every other point
    assert pareto_front([{"energy_pJ": r["energy_pJ_p"], "accuracy": r["mse"]} for r in rows]) == [0]


def test_pareto_front_keys_and_direction():
    pts = [{"c": 3, "q": 0.1}, {"c": 1, "q": 0.3}, {"c": 2, "q": 0.3}, {"c": 2, "q": 0.05}]
    # minimise q: c=1 (0.3) -> 1; c=2: 0.05 first (0.3 at equal cost is dominated) -> 3; c=3 (0.1 > 0.05)
    # dominated.
    assert pareto_front(pts, x="c", y="q", maximize=False) == [1, 3]
    # maximise q: c=1 (0.3) -> 1; c=2 (0.3) ties in q at a higher cost: dominated; the rest lower.
    assert pareto_front(pts, x="c", y="q") == [1]
