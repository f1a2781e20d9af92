"""Figures for papers: energy bars, accuracy–energy Pareto over λ, update raster, learning curves.

Each function takes plain data and an output path, writes a PNG atomically and returns the path.
Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend switch), at
``DPI`` dots per inch with fixed sizes, so the pixel size of every figure is known:

- :func:`plot_energy_bars`, :func:`plot_pareto`: ``FIGSIZE`` (8 × 5 in) → 1200 × 750 px;
- :func:`plot_update_raster`: :func:`raster_figsize` (8 in wide, 1.2 + 2.6 in per layer);
- :func:`plot_learning_curves`: 8 × 7 in → 1200 × 1050 px.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from surnn_neuro.fileio import atomic_path
from surnn_neuro.metrics.energy import format_energy

DPI = 150
FIGSIZE = (8.0, 5.0)
ENERGY_AXIS = "estimated energy per inference (pJ)"
_RC = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 9,
       "xtick.labelsize": 10, "ytick.labelsize": 10}
_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
_REF_COLOR = "#7f7f7f"
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<"]


def _new_figure(figsize) -> Figure:
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_path) -> Path:
    out_path = Path(out_path)
    with atomic_path(out_path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return out_path


def raster_figsize(n_layers: int) -> tuple:
    """Figure size (inches) of :func:`plot_update_raster` for ``n_layers`` layers."""
    return (8.0, 1.2 + 2.6 * n_layers)


# --- (1) energy bars ---------------------------------------------------------------------------

def plot_energy_bars(energies: Mapping, out_path, reference: str | None = None, title: str | None = None) -> Path:
    """Grouped bars of estimated energy per inference, one group per profile, log scale.

    Parameters
    ----------
    energies : {profile label: {model label: pJ}}
        Every profile should list the same models (missing ones are left out of that group).
    out_path : path of the PNG.
    reference : str, optional
        Model label drawn grey and hatched (the dense GRU).
    """
    import matplotlib

    profiles = list(energies)
    if not profiles:
        raise ValueError("plot_energy_bars: no profiles")
    models = []
    for p in profiles:
        for m in energies[p]:
            if m not in models:
                models.append(m)
    for p in profiles:
        for m, v in energies[p].items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"plot_energy_bars: energy of {m!r} on {p!r} must be > 0 for a log axis, got {v!r}")
    with matplotlib.rc_context(_RC):
        fig = _new_figure(FIGSIZE)
        ax = fig.add_subplot()
        n = len(models)
        width = 0.8 / n
        x = np.arange(len(profiles))
        annotate = len(profiles) * n <= 24
        ci = 0
        for j, m in enumerate(models):
            is_ref = m == reference
            color = _REF_COLOR if is_ref else _COLORS[ci % len(_COLORS)]
            ci += 0 if is_ref else 1
            xs, ys = [], []
            for i, p in enumerate(profiles):
                if m in energies[p]:
                    xs.append(x[i] - 0.4 + width * (j + 0.5))
                    ys.append(energies[p][m])
            bars = ax.bar(xs, ys, width=width * 0.92, color=color, label=m,
                          hatch="//" if is_ref else None, edgecolor="black" if is_ref else color, linewidth=0.6)
            if annotate:
                for b, v in zip(bars, ys):
                    ax.annotate(format_energy(v), (b.get_x() + b.get_width() / 2, v), xytext=(0, 2),
                                textcoords="offset points", ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_yscale("log")
        lo = min(v for p in profiles for v in energies[p].values())
        hi = max(v for p in profiles for v in energies[p].values())
        ax.set_ylim(lo / 3, hi * (40 if annotate else 3))  # head room for the rotated labels
        ax.set_xticks(x)
        ax.set_xticklabels([_wrap(p) for p in profiles])
        ax.set_ylabel(ENERGY_AXIS)
        ax.set_xlabel("energy profile (per-op constants)")
        ax.set_title(title or "Estimated energy per inference by hardware profile (estimate)")
        ax.grid(axis="y", which="major", alpha=0.3)
        ax.legend(loc="upper left", ncols=min(n, 3), frameon=False)
        return _save(fig, out_path)


def _wrap(label: str, width: int = 22) -> str:
    words, lines, cur = label.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "\n".join(lines)


def _pow10_label(v: float, _pos=None) -> str:
    """``2e4`` → ``$2\\times10^{4}$``, ``1e5`` → ``$10^{5}$`` (tick labels in pJ)."""
    if v <= 0:
        return ""
    k = int(math.floor(math.log10(v) + 1e-9))
    m = round(v / 10 ** k, 6)
    return f"$10^{{{k}}}$" if m == 1 else f"${m:g}\\times10^{{{k}}}$"


# --- (2) accuracy vs energy, Pareto over λ -------------------------------------------------------

def pareto_front(points, x: str = "energy_pJ", y: str = "accuracy", maximize: bool = True) -> list:
    """Indices of the non-dominated points (lower ``x``; higher ``y``, or lower with
    ``maximize=False``), by rising ``x``.

    A point is on the front if no other point has x ≤ and y at least as good with one strict; exact
    duplicates of a front point are on the front too (neither dominates the other).

    >>> pareto_front([{"energy_pJ": 10, "accuracy": 0.8}, {"energy_pJ": 5, "accuracy": 0.85},
    ...               {"energy_pJ": 20, "accuracy": 0.9}, {"energy_pJ": 20, "accuracy": 0.7}])
    [1, 2]
    >>> pareto_front([{"ops": 3, "mse": 0.1}, {"ops": 1, "mse": 0.3}, {"ops": 2, "mse": 0.3}],
    ...              x="ops", y="mse", maximize=False)
    [1, 0]
    """
    sign = 1.0 if maximize else -1.0
    order = sorted(range(len(points)), key=lambda i: (points[i][x], -sign * points[i][y]))
    front, best, last = [], -math.inf, None
    for i in order:
        xi, yi = points[i][x], sign * points[i][y]
        if yi > best or (yi == best and last == (xi, yi)):
            front.append(i)
            best, last = yi, (xi, yi)
    return front

#: λ-label offsets tried in turn (points from the marker: right/left, above/below, then further out)
_LABEL_OFFSETS = [(6, 4), (6, -13), (-6, 4), (-6, -13), (6, 14), (-6, 14), (6, -23), (-6, -23),
                  (14, 24), (-14, 24), (14, -33), (-14, -33)]
def _snap_log_limits(lo: float, hi: float, subs) -> tuple:
    """The largest tick m·10^k (m in ``subs``) at or below ``lo`` and the smallest at or above
    ``hi``, each after a 4 % pad: the axis then ends on labelled ticks, so every point (the
    reference star included) sits between two of them.

    >>> _snap_log_limits(4.5e5, 1.32e6, (1.0, 2.0, 5.0))
    (200000.0, 2000000.0)
    >>> _snap_log_limits(4.5e5, 1.32e6, tuple(range(1, 10)))
    (400000.0, 2000000.0)
    """
    lo, hi = lo / 1.04, hi * 1.04
    k0, k1 = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    ticks = sorted(float(m) * 10.0 ** k for k in range(k0, k1 + 1) for m in subs)
    return max(t for t in ticks if t <= lo * (1 + 1e-12)), min(t for t in ticks if t >= hi * (1 - 1e-12))


def _overlaps(b, others) -> bool:
    return any(b.overlaps(o) for o in others)


def _log_subs(lo: float, hi: float) -> tuple:
    """Tick sub-multiples of a log axis spanning ``lo``..``hi``: every m·10^k up to 1.5 decades,
    1, 2, 5 up to 4, else decades only."""
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 0.0
    return tuple(float(m) for m in range(1, 10)) if decades <= 1.5 else (1.0, 2.0, 5.0) if decades <= 4 else (1.0,)


def _thin_tick_labels(ax, renderer) -> list:
    """Blank tick labels that would collide; return the tick values left labelled.

    Both axis ends are ticks (:func:`_snap_log_limits`) and always keep their label; then the
    groups 10^k, 5·10^k, 2·10^k and the rest, in that order, each kept whole only if all of its
    labels clear every kept label (a half-labelled group reads as uneven spacing).
    """
    from matplotlib.ticker import FixedFormatter, FixedLocator

    lo, hi = ax.get_xlim()
    ticks = [float(v) for v in ax.get_xticks() if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]
    texts = [_pow10_label(v) for v in ticks]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter(texts))
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent(renderer).expanded(1.2, 1.0) for t in ax.get_xticklabels()]

    def rank(i):
        if i in (0, len(ticks) - 1):
            return -1
        m = round(ticks[i] / 10 ** math.floor(math.log10(ticks[i]) + 1e-9))
        return {1: 0, 5: 1, 2: 2}.get(m, 3)

    kept = [i for i in range(len(ticks)) if rank(i) == -1]
    for level in range(4):
        group = [i for i in range(len(ticks)) if rank(i) == level]
        if all(not boxes[i].overlaps(boxes[j]) for n, i in enumerate(group) for j in kept + group[n + 1:]):
            kept += group
    ax.xaxis.set_major_formatter(FixedFormatter([t if i in kept else "" for i, t in enumerate(texts)]))
    return [ticks[i] for i in sorted(kept)]


def plot_pareto(points, out_path, reference=None, profile_label: str = "", title: str | None = None,
                accuracy_label: str | None = None, **kw) -> Path:
    """Write :func:`pareto_figure` to ``out_path`` (PNG, ``FIGSIZE`` at ``DPI``); return the path.
    ``kw``: ``metric``, ``x_label``, ``front``, ``annotate`` of :func:`pareto_figure`."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = pareto_figure(points, reference=reference, profile_label=profile_label, title=title,
                            accuracy_label=accuracy_label, **kw)
        return _save(fig, out_path)


def pareto_figure(points, reference=None, profile_label: str = "", title: str | None = None,
                  accuracy_label: str | None = None, metric: str = "accuracy", x_label: str = ENERGY_AXIS,
                  front: str = "series", annotate: str = "all") -> Figure:
    """Accuracy (or another task metric) against estimated energy per inference.

    Parameters
    ----------
    points : sequence of {"energy_pJ": float, metric: float, "lambda": float or "label": str,
        optional "model": str}
        One series per model. ``label`` (else ``λ=lambda``) annotates the point.
    reference : {"label", "energy_pJ", "accuracy"} or a sequence of them, optional
        Baselines (the dense gru run densely: a star; further ones, e.g. the same gru event-driven,
        get other markers), with a dotted, labelled line at each distinct accuracy.
    profile_label : str
        Energy profile named in the title.
    accuracy_label : str, optional
        What the accuracy was measured on (e.g. "first 64 of 360 test samples"), in the y label.
    metric : str
        The y value: "accuracy" (in [0, 1], drawn in %, higher is better) or a loss-like metric
        such as "mse" (drawn as is, lower is better).
    x_label : str
        Label of the x axis (``energy_pJ`` may hold another cost, e.g. synaptic ops per inference).
    front : {"series", "all"}
        One Pareto front per model, or one front over every point (a sweep across models).
    annotate : {"all", "front", "none"}
        Which points get their label.

    The energy axis ends on labelled ticks beyond the outermost points (:func:`_snap_log_limits`);
    its tick spacing is the densest whose labels do not collide. λ labels are placed one by one at
    the first offset (:data:`_LABEL_OFFSETS`) whose box overlaps no marker, no earlier label and
    stays inside the axes, else further out with a leader line. The legend sits below the axes.
    The λ labels are the figure's annotations (``fig.axes[0].texts``), for tests to check.
    """
    import matplotlib

    if not points:
        raise ValueError("plot_pareto: no points")
    if front not in ("series", "all"):
        raise ValueError(f"plot_pareto: unknown front {front!r}; known: series, all")
    if annotate not in ("all", "front", "none"):
        raise ValueError(f"plot_pareto: unknown annotate {annotate!r}; known: all, front, none")
    for p in points:
        for k in (() if "label" in p else ("lambda",)) + ("energy_pJ", metric):
            if k not in p:
                raise ValueError(f"plot_pareto: point {dict(p)!r} lacks {k!r}")
        if not p["energy_pJ"] > 0:
            raise ValueError(f"plot_pareto: energy must be > 0 for a log axis, got {p['energy_pJ']!r}")
    refs = [] if reference is None else [reference] if isinstance(reference, Mapping) else list(reference)
    for r in refs:
        for k in ("energy_pJ", "accuracy"):
            if k not in r:
                raise ValueError(f"plot_pareto: reference {dict(r)!r} lacks {k!r}")
        if not r["energy_pJ"] > 0:
            raise ValueError(f"plot_pareto: reference energy must be > 0 for a log axis, got {r['energy_pJ']!r}")
    maximize = metric == "accuracy"
    scale = 100.0 if maximize else 1.0
    series = {}
    for p in points:
        series.setdefault(p.get("model", "model"), []).append(p)
    on_front = {id(points[i]) for i in pareto_front(points, y=metric, maximize=maximize)}
    with matplotlib.rc_context(_RC):
        fig = _new_figure(FIGSIZE)
        ax = fig.add_subplot()
        xy = []  # every marker (data coordinates), obstacles for the labels
        labelled = []  # (text, x, y, color, index of its marker in xy)
        for k, (name, pts) in enumerate(series.items()):
            color = _COLORS[k % len(_COLORS)]
            e = np.array([p["energy_pJ"] for p in pts], float)
            a = scale * np.array([p[metric] for p in pts], float)
            ax.scatter(e, a, color=color, marker=_MARKERS[k % len(_MARKERS)], s=40, zorder=3,
                       label=f"{name} (λ sweep)" if front == "series" else name)
            if front == "series":
                fr = pareto_front(pts, y=metric, maximize=maximize)
                ax.step(e[fr], a[fr], where="post", color=color, lw=1.5, alpha=0.8, zorder=2,
                        label=f"{name} Pareto front")
            for p, ei, ai in zip(pts, e, a):
                if annotate == "all" or (annotate == "front" and id(p) in on_front):
                    text = p["label"] if "label" in p else f"λ={p['lambda']:g}"
                    labelled.append((text, ei, ai, color, len(xy)))
                xy.append((ei, ai))
        if front == "all":
            fr = pareto_front(points, y=metric, maximize=maximize)
            fe = np.array([points[i]["energy_pJ"] for i in fr], float)
            fa = scale * np.array([points[i][metric] for i in fr], float)
            ax.step(fe, fa, where="post", color="black", lw=1.5, alpha=0.8, zorder=2,
                    label="Pareto front (all runs)")
            ax.scatter(fe, fa, s=120, facecolors="none", edgecolors="black", lw=1.2, zorder=4)
        ref_markers = ["*", "h", "D", "X"]
        lines_at = {}
        for j, r in enumerate(refs):
            acc = 100 * r["accuracy"]
            ax.scatter([r["energy_pJ"]], [acc], marker=ref_markers[j % len(ref_markers)], s=220 if j == 0 else 90,
                       color=_REF_COLOR if j == 0 else "white", edgecolor="black", zorder=4,
                       label=r.get("label", "dense gru"))
            xy.append((r["energy_pJ"], acc))
            lines_at.setdefault(round(acc, 9), []).append(r.get("label", "reference"))
        for acc, names in lines_at.items():
            # "gru (dense execution)" and "gru (event-driven)" are one model: one line, named after it
            models = {n.split(" (")[0] for n in names}
            who = models.pop() if len(models) == 1 else "reference"
            ax.axhline(acc, color=_REF_COLOR, ls=":", lw=1.2, zorder=1, label=f"{who} accuracy ({acc:.1f} %)")
        ax.set_xscale("log")
        energies_all = [p["energy_pJ"] for p in points] + [r["energy_pJ"] for r in refs]
        lo, hi = min(energies_all), max(energies_all)
        accs = [scale * p[metric] for p in points] + [100 * r["accuracy"] for r in refs]
        a_lo, a_hi = min(accs), max(accs)
        pad = max(0.18 * (a_hi - a_lo), 1.0)
        ax.set_ylim(a_lo - pad, a_hi + pad)
        ax.set_xlabel(x_label)
        ax.set_ylabel(("accuracy (%)" if maximize else f"{metric} (lower is better)")
                      + (f"\n{accuracy_label}" if accuracy_label else ""))
        ax.set_title(title or f"{'Accuracy' if maximize else metric} vs estimated energy"
                              f"{' — ' + profile_label if profile_label else ''}")
        ax.grid(alpha=0.3, which="both")
        n_entries = len(ax.get_legend_handles_labels()[0])
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=min(n_entries, 3),
                   frameon=False)
        from matplotlib.ticker import LogLocator, NullFormatter

        renderer = fig.canvas.get_renderer()
        subs = _log_subs(lo, hi)
        ax.set_xlim(*_snap_log_limits(lo, hi, subs))
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=100))
        ax.xaxis.set_minor_formatter(NullFormatter())
        fig.canvas.draw()  # runs the constrained layout: axes position and tick labels are final
        _thin_tick_labels(ax, renderer)
        fig.canvas.draw()
        # λ labels, greedily, in display coordinates (the layout above no longer changes: they are
        # kept out of it)
        axbox = ax.get_window_extent(renderer)
        to_px = ax.transData.transform
        r_px = 7.0 * DPI / 72  # marker half-size with a margin
        from matplotlib.text import Text
        from matplotlib.transforms import Bbox

        centres = [tuple(to_px((e, a))) for e, a in xy]
        obstacles = [Bbox.from_extents(x - r_px, y - r_px, x + r_px, y + r_px) for x, y in centres]
        for text, e, a, color, i in labelled:  # the label of the marker centres[i]
            placed = None
            cx, cy = to_px((e, a))
            # a point with a marker within 3 radii: its label goes further out, on a leader line, so
            # it cannot be read as its neighbour's
            near = [(x, y) for j, (x, y) in enumerate(centres) if j != i and math.hypot(cx - x, cy - y) < 3 * r_px]
            crowded = bool(near)
            offsets = _LABEL_OFFSETS[4:] if crowded else _LABEL_OFFSETS
            if crowded:  # try the side away from the neighbours first
                away = 1 if cx >= sum(x for x, _ in near) / len(near) else -1
                offsets = sorted(offsets, key=lambda o: (o[0] * away < 0, abs(o[1])))
            for dx, dy in offsets + [(10 * (1 - 2 * (i % 2)), 34 + 10 * i) for i in range(12)]:
                far = crowded or abs(dy) > 30
                ann = ax.annotate(text, (e, a), xytext=(dx, dy), textcoords="offset points", fontsize=8,
                                  color=color, ha="left" if dx >= 0 else "right", va="bottom", zorder=5,
                                  arrowprops=dict(arrowstyle="-", color=color, lw=0.6) if far else None)
                ann.set_in_layout(False)
                ann.update_positions(renderer)
                b = Text.get_window_extent(ann, renderer)  # the text alone, not its leader line
                inside = (b.x0 >= axbox.x0 and b.x1 <= axbox.x1 and b.y0 >= axbox.y0 and b.y1 <= axbox.y1)
                if inside and not _overlaps(b, obstacles):
                    placed = b
                    break
                ann.remove()
            if placed is None:  # nowhere free: keep the first offset (documented fallback)
                ann = ax.annotate(text, (e, a), xytext=_LABEL_OFFSETS[0], textcoords="offset points", fontsize=8,
                                  color=color, va="bottom", zorder=5)
                ann.set_in_layout(False)
                ann.update_positions(renderer)
                placed = Text.get_window_extent(ann, renderer)
            obstacles.append(placed)
        return fig


# --- (3) update raster ---------------------------------------------------------------------------

def plot_update_raster(gate_spikes: Mapping, out_path, sample: int = 0, layers=None,
                       title: str | None = None) -> Path:
    """Neurons × time image of one sample's gate spikes (black = update), one panel per layer.

    Parameters
    ----------
    gate_spikes : {layer: bool array (B, T, H) or (T, H)}
        As in ``Trace.gate_spikes``.
    sample : int
        Which sample b to draw (ignored for (T, H) arrays).
    layers : sequence of str, optional
        Layers to draw, in order; default all.
    """
    import matplotlib

    names = list(gate_spikes) if layers is None else list(layers)
    if not names:
        raise ValueError("plot_update_raster: no layers")
    images = []
    for name in names:
        if name not in gate_spikes:
            raise ValueError(f"plot_update_raster: unknown layer {name!r}; known: {', '.join(map(str, gate_spikes))}")
        g = np.asarray(gate_spikes[name])
        if g.ndim == 3:
            if not 0 <= sample < g.shape[0]:
                raise ValueError(f"plot_update_raster: sample {sample} out of range for {g.shape[0]} samples")
            g = g[sample]
        if g.ndim != 2:
            raise ValueError(f"plot_update_raster: layer {name!r}: expected (B, T, H) or (T, H), got {g.shape}")
        images.append(g.astype(bool))
    with matplotlib.rc_context(_RC):
        fig = _new_figure(raster_figsize(len(names)))
        axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
        for ax, name, g in zip(axes, names, images):
            T, H = g.shape
            ax.imshow(g.T, aspect="auto", interpolation="nearest", cmap="Greys", vmin=0, vmax=1,
                      origin="lower", extent=(-0.5, T - 0.5, -0.5, H - 0.5))
            rate = float(g.mean()) if g.size else 0.0
            ax.set_title(f"{name}: update rate {100 * rate:.1f}% ({int(g.sum())} of {g.size} neuron-steps)")
            ax.set_ylabel(f"neuron (H = {H})")
            ax.set_xlabel("time step t")
        fig.suptitle(title or f"Gate spikes of sample {sample} (black = state updated)")
        return _save(fig, out_path)


# --- (4) learning curves -------------------------------------------------------------------------

def plot_learning_curves(curves: Mapping, out_path, metric: str = "test MSE", threshold: float | None = None,
                         baseline: float | None = None, title: str | None = None) -> Path:
    """Test metric (log scale, top) and update rate (bottom) against the epoch, one line per run.

    Parameters
    ----------
    curves : {label: sequence of {"epoch": int, "value": float > 0, "update_rate": float in [0, 1]}}
    threshold : float, optional
        Drawn as a dashed line (e.g. "solved" below 0.01).
    baseline : float, optional
        Drawn as a dotted line (e.g. the MSE of a constant prediction).
    """
    import matplotlib

    if not curves:
        raise ValueError("plot_learning_curves: no curves")
    for label, pts in curves.items():
        if not pts:
            raise ValueError(f"plot_learning_curves: curve {label!r} is empty")
        for p in pts:
            for k in ("epoch", "value", "update_rate"):
                if k not in p:
                    raise ValueError(f"plot_learning_curves: a point of {label!r} lacks {k!r}")
            if not p["value"] > 0:
                raise ValueError(f"plot_learning_curves: {label!r} has value {p['value']!r}; must be > 0 (log axis)")
    with matplotlib.rc_context(_RC):
        # the legend sits below both panels (one entry per row, two columns) so it never hides a curve
        n_entries = len(curves) + (threshold is not None) + (baseline is not None)
        fig = _new_figure((8.0, 7.0 + 0.22 * ((n_entries + 1) // 2)))
        ax, ax_rate = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        for k, (label, pts) in enumerate(curves.items()):
            color, marker = _COLORS[k % len(_COLORS)], _MARKERS[k % len(_MARKERS)]
            ep = [p["epoch"] + 1 for p in pts]
            ax.plot(ep, [p["value"] for p in pts], color=color, marker=marker, ms=4, lw=1.5, label=label)
            ax_rate.plot(ep, [100 * p["update_rate"] for p in pts], color=color, marker=marker, ms=4,
                         lw=1.5, label=label)
        if threshold is not None:
            ax.axhline(threshold, color="black", ls="--", lw=1, label=f"threshold {threshold:g}")
        if baseline is not None:
            ax.axhline(baseline, color=_REF_COLOR, ls=":", lw=1.2, label=f"constant prediction {baseline:g}")
        ax.set_yscale("log")
        ax.set_ylabel(f"{metric} (log scale)")
        ax.set_title(title or f"{metric} and update rate per epoch")
        ax.grid(alpha=0.3, which="both")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, frameon=True,
                   fontsize="small")
        ax_rate.set_ylabel("update rate (%)")
        ax_rate.set_xlabel("epoch")
        ax_rate.set_ylim(0, 105)
        ax_rate.grid(alpha=0.3)
        return _save(fig, out_path)
