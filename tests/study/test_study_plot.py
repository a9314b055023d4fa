"""ppattn.study.plot: study.png, read back, and the figure it is drawn from."""
import matplotlib.image
import numpy as np
import pytest

from ppattn.study.plot import marker_areas, plot_study, study_figure
from ppattn.study.summary import summarize

RUNS = [{"variant": v, "seed": s, "status": "done", "AP50": ap, "AP": ap / 2,
         "latency_ms": lat, "params": params, "flops": 1}
        for v, lat, ap, params in (("none", 10.0, 0.50, 1000), ("se", 12.0, 0.62, 1500),
                                   ("cbam", 14.0, 0.55, 3000), ("eca", 10.5, 0.58, 1001))
        for s in (0, 1)]


def _rows():
    return summarize(["none", "se", "cbam", "eca"], RUNS)


def test_png_is_written_and_reads_back_as_an_image(tmp_path):
    path = plot_study(_rows(), str(tmp_path / "study.png"), "demo")
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (550, 800)
    colours = image[..., :3].reshape(-1, 3)
    # the points are drawn: baseline orange and variant blue (alpha 0.75 over white)
    for rgb in ((1.0, 0.5, 0.05), (0.12, 0.47, 0.71)):
        drawn = 0.75 * np.array(rgb) + 0.25
        assert (np.abs(colours - drawn).max(axis=1) < 0.06).any(), rgb
    assert (colours.std(axis=0) > 0.05).all()  # not a blank picture


def test_figure_has_labelled_axes_and_every_variant_named():
    ax = study_figure(_rows()).axes[0]
    assert "latency" in ax.get_xlabel() and "AP50" in ax.get_ylabel()
    assert sorted(t.get_text() for t in ax.texts) == ["cbam", "eca", "none", "se"]


def test_pareto_front_line_joins_the_front_fastest_first():
    ax = study_figure(_rows()).axes[0]
    front = next(line for line in ax.get_lines() if line.get_label() == "Pareto front")
    assert list(front.get_xdata()) == [10.0, 10.5, 12.0]  # none, eca, se; cbam is beaten
    assert list(front.get_ydata()) == pytest.approx([0.50, 0.58, 0.62])


def test_marker_area_is_proportional_to_parameters():
    assert marker_areas([1000, 2000, 4000]) == [100.0, 200.0, 400.0]


def test_nothing_to_plot_is_an_error():
    rows = summarize(["bad"], [{"variant": "bad", "seed": 0, "status": "failed",
                                "error": "x"}])
    with pytest.raises(ValueError, match="no variant has both"):
        study_figure(rows)
