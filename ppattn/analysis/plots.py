"""The pictures of tools/attention_maps.py, drawn with matplotlib's Agg canvas (no display, and
the caller's pyplot backend is left alone).

- `plot_spatial_maps`: the image, then the image with each spatial map laid over it, one panel
  per map, titled with the block's position.
- `plot_channel_gates`: the channel gates as a heatmap, one row per block, each row sorted from
  the most open gate to the most closed, with a histogram of all gate values beside it.
"""
import math
import os
from typing import Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .statistics import HIGH, LOW

Panel = Tuple[str, np.ndarray]   # title, [h, w] map (spatial) or [K] gates (channel)
_COLUMNS = 4
_DPI = 100


def _save(figure: Figure, path: str) -> str:
    FigureCanvasAgg(figure)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=_DPI)
    return path


def plot_spatial_maps(image: np.ndarray, panels: Sequence[Panel], path: str) -> str:
    """Write a PNG grid: `image` ([H, W, 3] uint8 RGB), then one panel per (title, [h, w] map)
    with the map stretched over the whole image, in a colour scale of its own. Returns `path`."""
    if not panels:
        raise ValueError("plot_spatial_maps: no spatial maps to draw")
    height, width = image.shape[:2]
    count = len(panels) + 1
    columns = min(_COLUMNS, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(3.4 * columns, 3.6 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    axes[0].imshow(image)
    axes[0].set_title("input", fontsize=8)
    extent = (-0.5, width - 0.5, height - 0.5, -0.5)
    for ax, (title, spatial) in zip(axes[1:], panels):
        ax.imshow(image)
        shown = ax.imshow(spatial, cmap="jet", alpha=0.5, extent=extent,
                          interpolation="bilinear")
        figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
        ax.set_title(title, fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[count:]:
        ax.set_visible(False)
    figure.tight_layout()
    return _save(figure, path)


def gate_matrix(panels: Sequence[Panel]) -> np.ndarray:
    """[rows, max K]: each row's gates sorted in descending order, NaN after its last channel."""
    longest = max(len(values) for _, values in panels)
    matrix = np.full((len(panels), longest), np.nan)
    for row, (_, values) in enumerate(panels):
        matrix[row, :len(values)] = np.sort(np.asarray(values, np.float64).ravel())[::-1]
    return matrix


def plot_channel_gates(panels: Sequence[Panel], path: str) -> str:
    """Write a PNG: heatmap of `gate_matrix(panels)` (rows labelled with the titles) and a
    histogram of every gate value, with LOW and HIGH marked. The colour scale is [0, 1],
    widened to the values where a map leaves it (ContextBlock's additive term). Returns `path`."""
    if not panels:
        raise ValueError("plot_channel_gates: no channel gates to draw")
    matrix = gate_matrix(panels)
    values = matrix[np.isfinite(matrix)]
    low, high = min(0.0, float(values.min())), max(1.0, float(values.max()))
    figure = Figure(figsize=(13, 1.6 + 0.32 * len(panels)))
    heat_ax, hist_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    shown = heat_ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=low, vmax=high,
                           interpolation="nearest")
    heat_ax.set_yticks(range(len(panels)))
    heat_ax.set_yticklabels([title for title, _ in panels], fontsize=7)
    heat_ax.set_xlabel("channels, sorted from the most open gate (blank: block has fewer)")
    heat_ax.set_title("channel gates per block", fontsize=9)
    figure.colorbar(shown, ax=heat_ax, fraction=0.03, pad=0.01)
    hist_ax.hist(values, bins=40, range=(low, high), color="tab:blue")
    for edge in (LOW, HIGH):
        hist_ax.axvline(edge, color="tab:red", linestyle="--", linewidth=1)
    hist_ax.set_xlabel(f"gate value (dashed: {LOW} and {HIGH})")
    hist_ax.set_ylabel("channels")
    hist_ax.set_title(f"{values.size} gates, {len(panels)} maps", fontsize=9)
    figure.tight_layout()
    return _save(figure, path)
