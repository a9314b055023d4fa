"""ppattn.analysis.plots: the PNGs open, have one panel per map, and show the maps."""
import matplotlib.image
import numpy as np
import pytest

from ppattn.analysis import plot_channel_gates, plot_spatial_maps
from ppattn.analysis.plots import gate_matrix


def striped_image(height=48, width=64):
    image = np.zeros((height, width, 3), np.uint8)
    image[:, ::8] = (200, 180, 40)
    image[height // 3:, :, 2] = 150
    return image


def read_png(path):
    """[H, W, 4] floats in [0, 1], read back by matplotlib."""
    picture = matplotlib.image.imread(path)
    assert picture.ndim == 3 and picture.dtype == np.float32
    return picture


def assert_not_blank(picture):
    rgb = picture[..., :3]
    assert rgb.std() > 0.05, f"picture is nearly uniform (std {rgb.std():.4f})"
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 200


def test_spatial_grid_has_the_image_and_one_panel_per_map(tmp_path):
    ramp = np.linspace(0, 1, 6 * 8).reshape(6, 8)
    panels = [(f"backbone.stages.{i}.attn\nspatial (CBAM)", ramp ** (i + 1)) for i in range(4)]
    path = plot_spatial_maps(striped_image(), panels, str(tmp_path / "grid.png"))
    picture = read_png(path)
    # 5 panels in rows of 4: 4 columns of 3.4 in and 2 rows of 3.6 in at 100 dpi
    assert picture.shape[:2] == (720, 1360)
    assert_not_blank(picture)
    one = read_png(plot_spatial_maps(striped_image(), panels[:1], str(tmp_path / "one.png")))
    assert one.shape[:2] == (360, 680)


def test_spatial_grid_shows_the_map(tmp_path):
    image = striped_image()
    left = np.zeros((4, 4))
    left[:, :2] = 1.0
    a = read_png(plot_spatial_maps(image, [("m", left)], str(tmp_path / "a.png")))
    b = read_png(plot_spatial_maps(image, [("m", left[:, ::-1])], str(tmp_path / "b.png")))
    differs = np.abs(a - b).max(axis=2) > 0.1
    # the input panel (left half) is the same; the overlaid map differs
    assert not differs[:, :300].any()
    assert differs[:, 340:].sum() > 5000


def test_gate_matrix_sorts_each_row_and_leaves_short_rows_blank():
    matrix = gate_matrix([("a", np.array([0.2, 0.9, 0.5])), ("b", np.array([0.1]))])
    np.testing.assert_array_equal(matrix[0], [0.9, 0.5, 0.2])
    assert matrix[1, 0] == pytest.approx(0.1) and np.isnan(matrix[1, 1:]).all()


def test_channel_gates_png_has_a_row_per_map(tmp_path):
    rng = np.random.default_rng(0)
    panels = [(f"backbone.stages.{i}.attn channel (ECALayer)", rng.uniform(size=8 * 2 ** i))
              for i in range(3)]
    picture = read_png(plot_channel_gates(panels, str(tmp_path / "gates.png")))
    # 13 in wide, 1.6 in plus 0.32 in per row high, at 100 dpi
    assert picture.shape[:2] == (256, 1300)
    assert_not_blank(picture)
    taller = read_png(plot_channel_gates(panels * 2, str(tmp_path / "six.png")))
    assert taller.shape[:2] == (352, 1300)


def test_plots_refuse_nothing_to_draw(tmp_path):
    with pytest.raises(ValueError, match="no spatial maps"):
        plot_spatial_maps(striped_image(), [], str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="no channel gates"):
        plot_channel_gates([], str(tmp_path / "y.png"))
