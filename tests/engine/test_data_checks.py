"""ppattn.engine.data_checks: files that are not images and broken annotation files are named,
and the tools stop on them with status 1 instead of hanging in ppdet's loader."""
import json
import logging
import re
import shutil

import pytest

from ppattn.engine import DataError, load_config, parse_overrides
from ppattn.engine import checks, data_checks
from ppattn.engine.data_checks import annotation_problems, check_images, image_problem, \
    is_truncated_jpeg

from tiny_runs import DEMO, TOOLS, run_failing_tool, tiny_options

# without the check these runs hang until killed; a passing run takes about 20 s
HANG_TIMEOUT = 120


@pytest.fixture
def bad_data(tiny_data, tmp_path):
    """A copy of the tiny dataset to break."""
    root = tmp_path / "data"
    shutil.copytree(tiny_data, root)
    return root


def _annotations(root, split="train"):
    return json.loads((root / "annotations" / f"{split}.json").read_text())


def test_a_text_file_named_jpg_is_not_an_image(tmp_path, tiny_data):
    text = tmp_path / "photo.jpg"
    text.write_text("hello, not a picture")
    assert image_problem(str(text)) == "is not an image (it starts with b'hello, not a')"
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert image_problem(str(tmp_path / "empty.jpg")) == "is empty"
    assert image_problem(str(tiny_data / "test" / "test_0000.jpg")) is None


def test_check_images_names_every_bad_file_and_the_count(tmp_path, tiny_data):
    good = str(tiny_data / "test" / "test_0000.jpg")
    bad = [tmp_path / "a.jpg", tmp_path / "b.png"]
    for path in bad:
        path.write_text("text")
    with pytest.raises(DataError, match=r"TrainDataset: 2 of 3 image file\(s\) cannot be "
                                        r"decoded") as error:
        check_images([good, *map(str, bad)], "TrainDataset")
    assert f"{bad[0]} is not an image" in str(error.value)
    assert f"{bad[1]} is not an image" in str(error.value)


def test_truncated_jpegs_are_counted_in_a_warning(tmp_path, tiny_data):
    whole = tiny_data / "test" / "test_0000.jpg"
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    assert is_truncated_jpeg(str(cut)) and not is_truncated_jpeg(str(whole))
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    data_checks.logger.addHandler(handler)
    try:
        check_images([str(cut), str(whole)], "TrainDataset")
    finally:
        data_checks.logger.removeHandler(handler)
    assert lines == [f"TrainDataset: 1 of 2 JPEG file(s) are truncated; they are decoded as far "
                     f"as they go (grey below): {cut}"]


@pytest.mark.parametrize("text, expected", [
    ("", r"is empty; a COCO annotation file is a JSON object with 'images'"),
    ("{}", r"has no 'images' and no 'categories' \(keys found: none\)"),
    ("[1, 2", r"is not JSON \(Expecting"),
])
def test_an_empty_or_broken_annotation_file_is_named(tmp_path, text, expected):
    path = tmp_path / "train.json"
    path.write_text(text)
    problems = annotation_problems(str(path))
    assert len(problems) == 1 and problems[0].startswith(str(path))
    assert re.search(expected, problems[0]), problems


def test_annotations_without_categories_are_named(bad_data):
    data = _annotations(bad_data)
    del data["categories"]
    path = bad_data / "annotations" / "train.json"
    path.write_text(json.dumps(data))
    assert annotation_problems(str(path)) == [
        f"{path} has no 'categories' (keys found: 'images', 'annotations'); a COCO annotation "
        f"file is a JSON object with 'images', 'annotations' and 'categories' lists"]


def test_an_unknown_category_id_is_named_with_the_known_ids(bad_data):
    data = _annotations(bad_data)
    data["annotations"][0]["category_id"] = 42
    path = bad_data / "annotations" / "train.json"
    path.write_text(json.dumps(data))
    assert annotation_problems(str(path)) == [
        f"{path}: annotation 1 (image 1) has category_id 42, which 'categories' does not list "
        f"(ids: 1, 2, 3)"]


def test_parsed_dataset_turns_ppdets_key_error_into_a_named_problem(bad_data):
    (bad_data / "annotations" / "val.json").write_text("{}")
    load_config(DEMO, parse_overrides(tiny_options(bad_data)[1:]))
    with pytest.raises(DataError, match=r"EvalDataset: .*val.json has no 'images' and no "
                                        r"'categories'"):
        checks.parsed_dataset("EvalDataset")


@pytest.mark.parametrize("workers", [0, 2])
def test_training_on_a_text_file_named_jpg_stops_naming_it(bad_data, tmp_path, workers):
    (bad_data / "images" / "train_0003.jpg").write_text("hello, not a picture")
    result = run_failing_tool([f"{TOOLS}/train.py", "-c", DEMO, "--output_dir",
                               str(tmp_path / "out"),
                               *tiny_options(bad_data, f"worker_num={workers}")],
                              str(tmp_path), timeout=HANG_TIMEOUT)
    assert (f"error: TrainDataset: 1 of 16 image file(s) cannot be decoded; remove them (and "
            f"their annotations) or replace them:\n  {bad_data}/images/train_0003.jpg is not an "
            f"image") in result.stderr


def test_training_with_an_unknown_category_id_stops_naming_it(bad_data, tmp_path):
    data = _annotations(bad_data)
    data["annotations"][0]["category_id"] = 42
    (bad_data / "annotations" / "train.json").write_text(json.dumps(data))
    result = run_failing_tool([f"{TOOLS}/train.py", "-c", DEMO, "--output_dir",
                               str(tmp_path / "out"), *tiny_options(bad_data)],
                              str(tmp_path), timeout=HANG_TIMEOUT)
    assert "has category_id 42, which 'categories' does not list (ids: 1, 2, 3)" in \
        result.stderr


@pytest.mark.parametrize("model", ["-c", "--model_dir"])
def test_infer_on_a_text_file_named_jpg_stops_naming_it(tmp_path, model):
    text = tmp_path / "photo.jpg"
    text.write_text("hello, not a picture")
    source = ["-c", DEMO, "-o", "weights=unused"] if model == "-c" else \
        ["--model_dir", str(tmp_path)]
    result = run_failing_tool([f"{TOOLS}/infer.py", *source, "--infer_img", str(text),
                               "--output_dir", str(tmp_path / "out")], str(tmp_path),
                              timeout=HANG_TIMEOUT)
    assert "error: --infer_img: 1 of 1 image file(s) cannot be decoded" in result.stderr
    assert f"{text} is not an image" in result.stderr


def test_inference_names_a_broken_test_dataset_annotation_file_first(bad_data):
    from ppattn.engine import build_trainer
    (bad_data / "annotations" / "val.json").write_text("")
    cfg = load_config(DEMO, parse_overrides(tiny_options(bad_data)[1:]))
    with pytest.raises(DataError, match=r"TestDataset: .*val.json is empty"):
        build_trainer(cfg, "test")
