"""ppattn.engine.predict (drawing, saving) and cli.image_paths."""
import json

import numpy as np
import pytest

from ppattn.engine import draw_boxes, image_paths, save_detections


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
