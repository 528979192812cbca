"""Figures of agent training and policy comparison: learning curves, fan charts, KPI tables.

Every function validates its inputs, draws one figure, writes it as a PNG and returns the path
(parent folders are created). Figures are built with matplotlib's object API
(:class:`matplotlib.figure.Figure` on a :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`),
never through ``pyplot``: the PNG renders through Agg whatever backend the calling process
chose, no backend is switched at import, and no figure leaks into pyplot's global state.

Conventions: one colour per policy, in the order of the input dict, from matplotlib's
``tab10`` cycle; quantile bands are p10–p90 (light) and p25–p75 (darker) around the median.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "fan_chart",
    "kpi_comparison",
    "learning_curve",
    "pit_histogram",
    "return_distributions",
]

_DPI = 110
_TAB10 = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _colour(i: int) -> str:
    return _TAB10[i % len(_TAB10)]


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas: render through Agg, not pyplot
    return fig


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=_DPI, format="png")
    return out


def _finish(
    fig: Figure, ax: Any, path: str | os.PathLike[str], xlabel: str, ylabel: str, title: str
) -> Path:
    """Labels, grid and legend of a single-axes line plot, then save it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return _save(fig, path)


def _array(x: Any, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim:
        want = "[N]" if ndim == 1 else "[rows, cols]"
        raise ValueError(f"{name} must be a {ndim}-D array {want}, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}): nothing to plot")
    bad = ~np.isfinite(a)
    if np.any(bad):
        raise ValueError(f"{name} holds {int(bad.sum())} non-finite values")
    return a


def _non_empty(d: Mapping[str, Any], name: str) -> None:
    if not isinstance(d, Mapping) or len(d) == 0:
        raise ValueError(f"{name} must be a non-empty dict policy -> values, got {d!r}")


# --------------------------------------------------------------------------------------------
# learning curve
# --------------------------------------------------------------------------------------------


def _rolling_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` points (expanding over the first ones): ``[N] -> [N]``."""
    c = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(1, y.size + 1)
    start = np.maximum(0, idx - window)
    return (c[idx] - c[start]) / (idx - start)


def learning_curve(
    steps: Any,
    returns: Any,
    path: str | os.PathLike[str],
    *,
    eval_steps: Any = None,
    eval_returns: Any = None,
    title: str = "Learning curve",
    window: int | None = None,
    reference: float | None = None,
    reference_label: str = "static config (held-out seeds)",
) -> Path:
    """Training episode return against env steps, with evaluation points if given.

    Raw training returns are drawn faint, their trailing rolling mean on top; evaluation
    points show the mean over evaluation episodes with ±1 standard deviation bars.

    **Input:**
        steps: ``[N]`` env step at which each training episode ended (non-decreasing).
        returns: ``[N]`` return of each training episode.
        path: PNG to write.
        eval_steps: ``[K]`` env steps of the evaluations (with ``eval_returns``).
        eval_returns: ``[K, n_episodes]`` return of each evaluation episode.
        title: figure title.
        window: rolling-mean window in episodes (default ``max(1, N // 20)``).
        reference: a return to draw as a dashed horizontal line (e.g. the static baseline
            on the evaluation seeds).
        reference_label: its legend label.

    **Output:** ``Path`` of the PNG.

    Raises:
        ValueError: on mismatched or empty arrays, or only one of the eval arguments.
    """
    x = _array(steps, "steps", 1)
    y = _array(returns, "returns", 1)
    if x.shape != y.shape:
        raise ValueError(f"steps and returns must have the same shape, got {x.shape} and {y.shape}")
    if np.any(np.diff(x) < 0):
        raise ValueError("steps must be non-decreasing (env steps at which episodes ended)")
    if (eval_steps is None) != (eval_returns is None):
        raise ValueError("eval_steps and eval_returns must be given together (or neither)")
    w = max(1, y.size // 20) if window is None else window
    if int(w) != w or w < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")

    ex: np.ndarray | None = None
    ey: np.ndarray | None = None
    if eval_steps is not None:
        ex = _array(eval_steps, "eval_steps", 1)
        ey = _array(eval_returns, "eval_returns", 2)
        if ey.shape[0] != ex.size:
            raise ValueError(
                f"eval_returns must be [n_evals={ex.size}, n_episodes], got shape {ey.shape}"
            )

    fig = _new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    ax.plot(x, y, color=_colour(0), alpha=0.25, lw=0.8, label="training episode")
    ax.plot(x, _rolling_mean(y, int(w)), color=_colour(0), lw=1.8, label=f"rolling mean ({w})")
    if ex is not None and ey is not None:
        ax.errorbar(
            ex,
            ey.mean(axis=1),
            yerr=ey.std(axis=1),
            fmt="o",
            color=_colour(1),
            capsize=3,
            ms=4,
            label=f"eval mean ± 1 sd ({ey.shape[1]} episodes)",
        )
    if reference is not None:
        ax.axhline(float(reference), color=_colour(2), ls="--", lw=1.2, label=reference_label)
    return _finish(fig, ax, path, "env steps", "episode return", title)


# --------------------------------------------------------------------------------------------
# fan chart
# --------------------------------------------------------------------------------------------


def fan_chart(
    series: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    ylabel: str,
    title: str,
    xlabel: str = "super-step",
) -> Path:
    """Median and quantile bands over time of one metric, per policy.

    **Input:**
        series: policy → ``[n_samples, T]`` float (samples = episodes × members), one
            trajectory per row; ``T`` may differ between policies.
        path: PNG to write.
        ylabel: y-axis label (metric and unit).
        title: figure title.
        xlabel: x-axis label.

    **Output:** ``Path`` of the PNG; per policy a median line, a p25–p75 and a p10–p90 band.

    Raises:
        ValueError: if ``series`` is empty or an entry is not a finite non-empty 2-D array.
    """
    _non_empty(series, "series")
    arrays = {name: _array(v, f"series[{name!r}]", 2) for name, v in series.items()}

    fig = _new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    for i, (name, a) in enumerate(arrays.items()):
        t = np.arange(a.shape[1])
        # [n_samples, T] -> [5, T]: p10, p25, p50, p75, p90 per time step
        q = np.quantile(a, [0.1, 0.25, 0.5, 0.75, 0.9], axis=0)
        c = _colour(i)
        ax.fill_between(t, q[0], q[4], color=c, alpha=0.15, lw=0)
        ax.fill_between(t, q[1], q[3], color=c, alpha=0.3, lw=0)
        ax.plot(t, q[2], color=c, lw=1.8, label=f"{name} (n={a.shape[0]})")
    return _finish(fig, ax, path, xlabel, ylabel, f"{title}\nmedian, p25–p75, p10–p90")


# --------------------------------------------------------------------------------------------
# return distributions
# --------------------------------------------------------------------------------------------


def return_distributions(
    returns: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    title: str = "Episode returns",
    ylabel: str = "episode return",
) -> Path:
    """Distribution of episode returns per policy: violin, box and the individual episodes.

    **Input:**
        returns: policy → any-shape float array (e.g. ``[E]`` or ``[E, M]``), flattened.
        path: PNG to write.
        title: figure title.
        ylabel: y-axis label.

    **Output:** ``Path`` of the PNG.

    Raises:
        ValueError: if ``returns`` is empty or an entry is empty or non-finite.
    """
    _non_empty(returns, "returns")
    data = {}
    for name, v in returns.items():
        a = np.asarray(v, dtype=np.float64).ravel()
        data[name] = _array(a, f"returns[{name!r}]", 1)

    fig = _new_figure(max(3.6, 1.3 * len(data) + 1.6), 4.0)
    ax = fig.add_subplot()
    pos = np.arange(1, len(data) + 1)
    values = list(data.values())
    violin = [i for i, a in enumerate(values) if a.size >= 2 and np.ptp(a) > 0]
    if violin:
        parts = ax.violinplot(
            [values[i] for i in violin], positions=pos[violin], showextrema=False, widths=0.8
        )
        bodies = cast(list[Any], parts["bodies"])  # a list at runtime; the stub says Collection
        for body, i in zip(bodies, violin, strict=True):
            body.set_facecolor(_colour(i))
            body.set_alpha(0.3)
    ax.boxplot(values, positions=pos, widths=0.25, showfliers=False, medianprops={"color": "k"})
    for i, a in enumerate(values):
        # deterministic jitter (golden-ratio sequence), no random numbers in a plot
        jitter = ((np.arange(a.size) * 0.6180339887) % 1.0 - 0.5) * 0.3
        ax.scatter(pos[i] + jitter, a, s=6, color=_colour(i), alpha=0.6, lw=0)
    ax.set_xticks(pos, [f"{k}\n(n={v.size})" for k, v in data.items()])
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# KPI comparison
# --------------------------------------------------------------------------------------------


def kpi_comparison(
    table: Mapping[str, Mapping[str, tuple[float, float, float]]],
    path: str | os.PathLike[str],
    *,
    title: str = "KPI comparison (median, p10–p90)",
    ncols: int = 3,
) -> Path:
    """A grid of small panels, one per metric: policies on the y-axis, median and p10–p90.

    **Input:**
        table: policy → metric → ``(p10, p50, p90)``. Metrics appear in order of first
            appearance; a policy missing a metric is left out of that panel.
        path: PNG to write.
        title: figure title.
        ncols: panels per row.

    **Output:** ``Path`` of the PNG.

    Raises:
        ValueError: if ``table`` or every policy's metrics are empty, a value is not three
            finite numbers with ``p10 <= p50 <= p90``, or ``ncols < 1``.
    """
    _non_empty(table, "table")
    if int(ncols) != ncols or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}")
    metrics: list[str] = []
    for policy, row in table.items():
        if not isinstance(row, Mapping):
            raise ValueError(f"table[{policy!r}] must be a dict metric -> (p10, p50, p90)")
        for metric, q in row.items():
            v = np.asarray(q, dtype=np.float64)
            if v.shape != (3,) or not np.all(np.isfinite(v)):
                raise ValueError(
                    f"table[{policy!r}][{metric!r}] must be three finite numbers "
                    f"(p10, p50, p90), got {q!r}"
                )
            if not (v[0] <= v[1] <= v[2]):
                raise ValueError(
                    f"table[{policy!r}][{metric!r}] must satisfy p10 <= p50 <= p90, got {q!r}"
                )
            if metric not in metrics:
                metrics.append(metric)
    if not metrics:
        raise ValueError("table has no metric: every policy's dict is empty")

    policies = list(table)
    ncol = min(int(ncols), len(metrics))
    nrow = -(-len(metrics) // ncol)
    fig = _new_figure(3.0 * ncol, 0.35 * len(policies) * nrow + 1.0 * nrow + 0.4)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    ypos = np.arange(len(policies))[::-1]  # first policy on top
    for k, metric in enumerate(metrics):
        ax: Axes = axes[k // ncol][k % ncol]
        for i, policy in enumerate(policies):
            if metric not in table[policy]:
                continue
            p10, p50, p90 = (float(x) for x in table[policy][metric])
            c = _colour(i)
            ax.plot([p10, p90], [ypos[i], ypos[i]], color=c, lw=2, solid_capstyle="butt")
            ax.plot([p50], [ypos[i]], "o", color=c, ms=5)
        ax.set_yticks(ypos, policies)
        ax.set_ylim(-0.6, len(policies) - 0.4)
        ax.set_title(metric, fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
    for k in range(len(metrics), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.suptitle(title)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# PIT histogram
# --------------------------------------------------------------------------------------------


def pit_histogram(
    pits: Any,
    path: str | os.PathLike[str],
    bins: int = 10,
    *,
    title: str = "PIT histogram",
) -> Path:
    """Density histogram of PIT values on [0, 1] with the uniform reference (density 1).

    A flat histogram means a calibrated ensemble; U-shaped: too narrow; hump: too wide;
    sloped: biased.

    **Input:**
        pits: ``[N]`` float in [0, 1] (e.g. :func:`rantwin.agents.stats.pit`).
        path: PNG to write.
        bins: number of equal-width bins on [0, 1].
        title: figure title.

    **Output:** ``Path`` of the PNG.

    Raises:
        ValueError: if ``pits`` is not a non-empty finite 1-D array in [0, 1] or ``bins < 1``.
    """
    p = _array(pits, "pits", 1)
    if np.any((p < 0.0) | (p > 1.0)):
        raise ValueError(
            f"pits must lie in [0, 1], got values in [{float(p.min())}, {float(p.max())}]"
        )
    if isinstance(bins, bool) or int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")

    fig = _new_figure(4.8, 3.6)
    ax = fig.add_subplot()
    ax.hist(p, bins=int(bins), range=(0.0, 1.0), density=True, color=_colour(0), alpha=0.7)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="uniform")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("PIT")
    ax.set_ylabel("density")
    ax.set_title(f"{title} (n={p.size})")
    ax.legend(loc="best", fontsize="small")
    return _save(fig, path)
