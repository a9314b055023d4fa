"""ppattn.engine.predict (preprocessing, drawing) and cli.image_paths."""
import json

import numpy as np
import pytest

from ppattn.engine import draw_boxes, image_paths, save_detections
from ppattn.engine.predict import preprocess

PPYOLOE_STEPS = [
    {"type": "Resize", "target_size": [4, 6], "keep_ratio": False, "interp": 1},
    {"type": "NormalizeImage", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
     "is_scale": True},
    {"type": "Permute"},
]


def test_resize_without_keep_ratio_gives_per_axis_scale_factor():
    inputs = preprocess(np.zeros((2, 3, 3), np.uint8), PPYOLOE_STEPS)
    assert inputs["image"].shape == (1, 3, 4, 6)
    np.testing.assert_allclose(inputs["scale_factor"], [[2.0, 2.0]])
    np.testing.assert_allclose(inputs["im_shape"], [[4.0, 6.0]])


def test_normalize_scales_then_standardises():
    image = np.full((2, 2, 3), 255, np.uint8)
    inputs = preprocess(image, PPYOLOE_STEPS[1:])
    np.testing.assert_allclose(inputs["image"], np.full((1, 3, 2, 2), 2.0))   # (1 - .5) / .25


def test_keep_ratio_resize_fits_short_and_long_sides_and_pads_to_stride():
    steps = [{"type": "Resize", "target_size": [8, 12], "keep_ratio": True, "interp": 1},
             {"type": "Permute"}, {"type": "PadStride", "stride": 5}]
    inputs = preprocess(np.zeros((4, 10, 3), np.uint8), steps)
    # scale = min(8 / 4, 12 / 10) = 1.2 -> 5 x 12, padded to 5 x 15
    np.testing.assert_allclose(inputs["scale_factor"], [[1.2, 1.2]])
    assert inputs["image"].shape == (1, 3, 5, 15)


def test_unsupported_step_is_named():
    with pytest.raises(ValueError, match="'Mosaic' is not supported"):
        preprocess(np.zeros((2, 2, 3), np.uint8), [{"type": "Mosaic"}])


def test_draw_boxes_skips_boxes_below_threshold():
    image = np.zeros((20, 20, 3), np.uint8)
    boxes = np.array([[0, 0.9, 2, 2, 10, 10], [1, 0.1, 12, 12, 18, 18]], np.float32)
    picture = np.asarray(draw_boxes(image, boxes, ["a", "b"], threshold=0.5))
    assert picture[2:11, 2].any()            # left edge of the kept box
    assert not picture[13:18, 12].any()      # the low-score box is not drawn


def test_save_detections_writes_coco_style_boxes(tmp_path):
    boxes = np.array([[2, 0.5, 1, 2, 4, 6]], np.float32)
    save_detections([{"image": "a.jpg", "boxes": boxes}], str(tmp_path / "r.json"))
    got = json.load(open(tmp_path / "r.json"))
    assert got == [{"image": "a.jpg", "detections": [{"category_id": 2, "score": 0.5,
                                                      "bbox": [1.0, 2.0, 3.0, 4.0]}]}]


def test_image_paths_prefers_one_image_and_lists_a_folder_sorted(tmp_path):
    for name in ("b.jpg", "a.PNG", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert image_paths(infer_dir=str(tmp_path)) == [str(tmp_path / "a.PNG"),
                                                    str(tmp_path / "b.jpg")]
    assert image_paths(str(tmp_path / "b.jpg"), str(tmp_path)) == [str(tmp_path / "b.jpg")]


def test_image_paths_names_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="--infer_img IMAGE or --infer_dir"):
        image_paths()
    with pytest.raises(FileNotFoundError, match="has no"):
        image_paths(infer_dir=str(tmp_path))
