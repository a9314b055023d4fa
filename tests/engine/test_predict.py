"""ppattn.engine.predict (drawing, saving) and cli.image_paths, cli.check_output_dir."""
import argparse
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ppattn.engine import ConfigError, check_output_dir, draw_boxes, image_paths, \
    save_detections
from ppattn.engine.cli import float_in, infer_output_dir, int_in
from ppattn.engine.predict import check_infer_cfg

from tiny_runs import DEMO, TOOLS, run_failing_tool


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
    for name, head in (("b.jpg", b"\xff\xd8\xff\xe0"), ("a.PNG", b"\x89PNG\r\n\x1a\n"),
                       ("notes.txt", b"")):
        (tmp_path / name).write_bytes(head)
    assert image_paths(infer_dir=str(tmp_path)) == [str(tmp_path / "a.PNG"),
                                                    str(tmp_path / "b.jpg")]
    assert image_paths(str(tmp_path / "b.jpg"), str(tmp_path)) == [str(tmp_path / "b.jpg")]


def test_image_paths_names_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="--infer_img IMAGE or --infer_dir"):
        image_paths()
    with pytest.raises(FileNotFoundError, match="has no"):
        image_paths(infer_dir=str(tmp_path))


def test_output_dir_holding_the_input_images_is_refused(tmp_path):
    images = [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")]
    for path in images:
        open(path, "wb").close()
    with pytest.raises(FileExistsError, match=r"would overwrite a.jpg, b.jpg; choose another "
                                              r"--output_dir"):
        check_output_dir(images, str(tmp_path / "."))
    with pytest.raises(FileExistsError, match="would overwrite b.jpg"):
        check_output_dir(images[1:], str(tmp_path / "sub" / ".."))
    check_output_dir(images, str(tmp_path / "pictures"))


def test_infer_tool_refuses_to_draw_over_its_input_images(tiny_data, tmp_path):
    folder = tmp_path / "images"
    shutil.copytree(tiny_data / "test", folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = run_failing_tool([f"{TOOLS}/infer.py", "-c", DEMO, "--infer_dir", str(folder),
                               "--output_dir", str(folder), "-o", "weights=unused"],
                              cwd=str(tmp_path))
    assert "would overwrite test_0000.jpg, test_0001.jpg" in result.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("text, message", [
    ("", "infer_cfg.yml is empty; expected a mapping with 'Preprocess'"),
    ("label_list: [a]\n", "infer_cfg.yml has no 'Preprocess'; expected"),
    ("Preprocess: [Resize]\nlabel_list: [a]\n", r"'Preprocess' is \['Resize'\]; expected"),
    ("Preprocess: [{type: Permute}]\n", "'label_list' is None; expected"),
])
def test_an_infer_cfg_without_preprocess_is_named(tmp_path, text, message):
    (tmp_path / "infer_cfg.yml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        check_infer_cfg(str(tmp_path))


@pytest.mark.parametrize("parse, text, message", [
    (int_in(7, 21), "99", "must be an integer from 7 to 21, got 99"),
    (int_in(1), "0", "must be an integer >= 1, got 0"),
    (int_in(1), "-3", "must be an integer >= 1, got -3"),
    (int_in(1), "two", "must be an integer >= 1, got 'two'"),
    (float_in(0, 1), "nan", "must be a number from 0 to 1, got 'nan'"),
    (float_in(0, 1), "1.5", "must be a number from 0 to 1, got '1.5'"),
])
def test_argument_types_name_the_accepted_range(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(text)


@pytest.mark.parametrize("tool, arguments, message", [
    ("export_onnx.py", ["--model_dir", "m", "--opset", "99"],
     "argument --opset: must be an integer from 7 to 21, got 99"),
    ("export_onnx.py", ["--model_dir", "m", "--batch", "0"],
     "argument --batch: must be an integer >= 1, got 0"),
    ("infer.py", ["--model_dir", "m", "--infer_dir", "d", "--draw_threshold", "nan"],
     "argument --draw_threshold: must be a number from 0 to 1, got 'nan'"),
    ("infer.py", ["--model_dir", "m", "--infer_dir", "d", "--cpu_threads", "-3"],
     "argument --cpu_threads: must be an integer >= 1, got -3"),
])
def test_tools_refuse_out_of_range_arguments_before_any_work(tmp_path, tool, arguments, message):
    result = subprocess.run([sys.executable, f"{TOOLS}/{tool}", *arguments], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]


def test_the_default_output_dir_is_named_after_the_model():
    dygraph = infer_output_dir(config="configs/demo/ppyoloe_crn_t_eca_shapes.yml")
    exported = infer_output_dir(model_dir="output_inference/ppyoloe_crn_t_eca_shapes/")
    assert dygraph == "output/infer/ppyoloe_crn_t_eca_shapes"
    assert exported == "output/infer/ppyoloe_crn_t_eca_shapes_paddle_inference"
