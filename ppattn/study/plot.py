"""study.png: AP50 against latency, one point per variant, drawn with matplotlib's Agg canvas
(no display; the caller's pyplot backend is left alone).

Marker area is proportional to the parameter count (the largest model gets the largest marker,
so near-equal models look near-equal), error bars show the seed spread, each point is
labelled with its variant, the baseline is drawn in another colour with a dashed line at its
AP50, and the Pareto front (faster or more accurate than every other variant) is a step line.
"""
import math
import os
from typing import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_DPI = 100
_MAX_AREA = 400.0
BASELINE_COLOUR, VARIANT_COLOUR, FRONT_COLOUR = "tab:orange", "tab:blue", "tab:green"


def marker_areas(params: Sequence[float]) -> list:
    """Marker areas in points^2, proportional to `params`, _MAX_AREA for the largest."""
    high = max(params)
    return [_MAX_AREA * p / high for p in params]


def plotted_rows(rows: Sequence[Mapping]) -> list:
    """The rows that have an AP50, a latency and a parameter count."""
    return [r for r in rows if r["AP50"]["mean"] is not None and
            r["latency_ms"]["mean"] is not None and r["params"]]


def study_figure(rows: Sequence[Mapping], title: str = "") -> Figure:
    """The picture of `rows` (ppattn.study.summary.summarize). Raises ValueError when no
    variant has both an AP50 and a latency."""
    shown = plotted_rows(rows)
    if not shown:
        raise ValueError("plot_study: no variant has both an AP50 and a latency to plot")
    figure = Figure(figsize=(8, 5.5))
    ax = figure.subplots()
    baseline = rows[0]["variant"]
    areas = marker_areas([r["params"] for r in shown])
    for row, area in zip(shown, areas):
        x, y = row["latency_ms"]["mean"], row["AP50"]["mean"]
        colour = BASELINE_COLOUR if row["variant"] == baseline else VARIANT_COLOUR
        if row["AP50"]["std"] or row["latency_ms"]["std"]:
            ax.errorbar(x, y, yerr=row["AP50"]["std"] or 0, xerr=row["latency_ms"]["std"] or 0,
                        fmt="none", ecolor="grey", elinewidth=1, capsize=3, zorder=1)
        ax.scatter([x], [y], s=area, color=colour, alpha=0.75, edgecolors="black", zorder=2)
        ax.annotate(row["variant"], (x, y), xytext=(0.5 * math.sqrt(area) + 3, 3),
                    textcoords="offset points", fontsize=9, zorder=3)
    front = sorted((r for r in shown if r["pareto"]), key=lambda r: r["latency_ms"]["mean"])
    if front:
        xs, ys = [r["latency_ms"]["mean"] for r in front], [r["AP50"]["mean"] for r in front]
        ax.step(xs, ys, where="post", color=FRONT_COLOUR, linewidth=1.5, label="Pareto front",
                zorder=0)
        ax.scatter(xs, ys, s=[a * 1.8 + 60 for r, a in zip(shown, areas) if r in front],
                   facecolors="none", edgecolors=FRONT_COLOUR, linewidths=2, zorder=3)
    if rows[0] in shown:
        ax.axhline(rows[0]["AP50"]["mean"], color=BASELINE_COLOUR, linestyle="--",
                   linewidth=1, label=f"baseline ({baseline}) AP50")
    largest = max(r["params"] for r in shown)
    ax.scatter([], [], s=_MAX_AREA / 4, color="white", edgecolors="black",
               label=f"marker area ~ parameters (largest {largest / 1e6:.2f} M)")
    ax.set_xlabel("latency (ms per image, Paddle Inference, median; lower is better)")
    ax.set_ylabel("AP50 (mean over seeds; bars: seed spread)")
    ax.set_title(title or "AP50 against latency", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.margins(x=0.15, y=0.15)
    ax.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return figure


def plot_study(rows: Sequence[Mapping], path: str, title: str = "") -> str:
    """Write `study_figure(rows, title)` to the PNG `path`; return `path`."""
    figure = study_figure(rows, title)
    FigureCanvasAgg(figure)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=_DPI)
    return path
