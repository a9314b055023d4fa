"""ppattn.analysis.images: the outputs per image, on constructed maps and on the tiny detector."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ppattn.analysis import AttentionMapsError, analyse_images
from ppattn.analysis.images import output_stems, picture_panels, read_image, visible_part, \
    write_image_outputs


def assert_picture(path, min_height=200, min_width=400):
    """The PNG opens with OpenCV, is at least that large and not one flat colour."""
    picture = cv2.imread(path, cv2.IMREAD_COLOR)
    assert picture is not None, f"{path} does not open"
    assert picture.shape[0] >= min_height and picture.shape[1] >= min_width, picture.shape
    assert picture.std() > 10, f"{path} is nearly blank (std {picture.std():.2f})"


def test_analysis_imports_without_ppdet():
    """Only analyse_images drives ppdet, and it imports ppdet when called."""
    code = ("import sys, ppattn.analysis\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'ppdet', 'matplotlib'}))")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, child.stderr[-3000:]
    assert child.stdout.split("\n")[-2] == "['matplotlib']"


def test_visible_part_drops_the_padding_below_and_right_of_the_image():
    spatial = np.arange(16.0).reshape(4, 4)
    # a 64 x 32 resized image padded to 64 x 64: the map's left half covers it
    np.testing.assert_array_equal(visible_part(spatial, (64, 32), (64, 64)), spatial[:, :2])
    np.testing.assert_array_equal(visible_part(spatial, (128.0, 128.0), (128, 128)), spatial)


def test_panels_are_titled_with_the_position_and_show_the_mean_map(constructed):
    spatial, channel = picture_panels(constructed.blocks(), 1, (2, 2), (2, 2))
    assert [title for title, _ in spatial] == ["neck.attn\nspatial (CBAM, mean of 2)"]
    np.testing.assert_allclose(spatial[0][1], [[0.4, 0.4], [0.0, 0.0]], rtol=1e-6)
    assert [title for title, _ in channel] == ["neck.attn channel (CBAM)"]
    np.testing.assert_allclose(channel[0][1], [0.05, 0.5, 0.95], rtol=1e-6)
    # the image fills the upper half of a padded input: the map's upper row
    spatial, _ = picture_panels(constructed.blocks(), 1, (32, 64), (64, 64))
    np.testing.assert_allclose(spatial[0][1], [[0.4, 0.4]], rtol=1e-6)


def test_images_of_one_name_are_refused():
    with pytest.raises(AttentionMapsError, match=r"images 'a/x.jpg' and 'b/x.png' share the "
                                                 r"name 'x'"):
        output_stems(["a/x.jpg", "b/x.png"])
    assert output_stems(["a/x.jpg", "a/y.jpg"]) == {"a/x.jpg": "x", "a/y.jpg": "y"}


def test_unreadable_image_is_named(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(AttentionMapsError, match="cannot read image .*broken.jpg"):
        read_image(str(broken))


def test_written_summary_has_the_hand_computed_numbers_and_pictures_open(tmp_path, constructed):
    image = np.full((40, 60, 3), 90, np.uint8)
    image[10:30, 20:40] = (250, 30, 30)
    path = str(tmp_path / "square.png")
    cv2.imwrite(path, image)
    out = str(tmp_path / "out")
    os.makedirs(out)
    summary = write_image_outputs(path, "square", constructed.blocks(), 1, (2, 2), (2, 2), out)
    with open(os.path.join(out, "square_summary.json"), encoding="utf-8") as f:
        written = json.load(f)
    assert written == summary
    constructed.assert_matches(written["blocks"], constructed.want_blocks)
    assert written["no_maps"] == constructed.want_no_maps
    assert written["pictures"] == {"spatial": os.path.join(out, "square_spatial.png"),
                                   "channel": os.path.join(out, "square_channel.png")}
    assert_picture(written["pictures"]["spatial"], min_width=600)
    assert_picture(written["pictures"]["channel"], min_height=150, min_width=1000)


@pytest.fixture(scope="module")
def cbam_run(detector, shapes_data, tmp_path_factory):
    """The demo detector with CBAM in every basic block (ECA stays at the stage ends), random
    weights, analysed on the 2 test images."""
    trainer = detector.build_trainer(shapes_data, "AttnCSPResNet.block_attn=cbam")
    images = sorted(str(p) for p in (shapes_data / "test").glob("*.jpg"))
    out = str(tmp_path_factory.mktemp("maps"))
    return trainer, images, analyse_images(trainer, images, out)


def test_detector_blocks_are_found_at_their_positions(cbam_run):
    _, images, summaries = cbam_run
    assert [s["image"] for s in summaries] == images
    blocks = summaries[0]["blocks"]
    assert {name: b["block"] for name, b in blocks.items() if ".blocks." not in name} == {
        f"backbone.stages.{i}.attn": "ECALayer" for i in range(4)}
    assert "backbone.stages.0.blocks.0.attn" in blocks
    assert {b["block"] for name, b in blocks.items() if ".blocks." in name} == {"CBAM"}
    assert summaries[0]["no_maps"] == {}


def test_detector_maps_fit_their_block_inputs_and_gate_range(cbam_run):
    trainer, _, summaries = cbam_run
    blocks = summaries[0]["blocks"]
    assert len(blocks) == sum(1 for layer in trainer.model.sublayers()
                              if type(layer).__name__ in ("CBAM", "ECALayer"))
    for name, block in blocks.items():
        _, channels, height, width = block["input_shape"]
        maps = block["maps"]
        assert maps["channel"]["shape"] == [channels, 1, 1], name
        if block["block"] == "CBAM":
            assert maps["spatial"]["shape"] == [1, height, width], name
            assert 0 <= maps["spatial"]["entropy_normalized"] <= 1
        for numbers in maps.values():
            assert 0.0 <= numbers["min"] <= numbers["mean"] <= numbers["max"] <= 1.0, name
    # a 128 px input: stage i sees 128 / 2^(i + 2)
    assert [blocks[f"backbone.stages.{i}.attn"]["input_shape"][2] for i in range(4)] == \
        [32, 16, 8, 4]


def test_detector_pictures_open(cbam_run):
    _, _, summaries = cbam_run
    for summary in summaries:
        assert_picture(summary["pictures"]["spatial"], min_height=600, min_width=1000)
        assert_picture(summary["pictures"]["channel"], min_height=300, min_width=1000)
        assert os.path.isfile(summary["summary"])
