"""ppattn.study.config_files: a config's _BASE_ chain as one dict and one file, as ppdet
loads it."""
import os

import pytest
import yaml

from ppattn.engine import load_config
from ppattn.study.config_files import Tagged, config_hash, read_merged, write_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _loaded(path):
    """ppdet's config as plain values: scheduler objects by their fields, empty schemas out."""
    cfg = load_config(path)
    plain = {}
    for key, value in cfg.items():
        if key == "filename" or (hasattr(value, "schema") and not value):
            continue
        plain[key] = yaml.safe_load(yaml.safe_dump(
            value, default_flow_style=False)) if not hasattr(value, "schema") else dict(value)
    if "LearningRate" in plain:
        plain["LearningRate"] = {k: [vars(s) if not isinstance(s, dict) else s for s in v]
                                 if k == "schedulers" else v
                                 for k, v in plain["LearningRate"].items()}
    return plain


@pytest.mark.parametrize("config", ["configs/demo/ppyoloe_crn_t_eca_shapes_study.yml",
                                    "configs/demo/ppyoloe_crn_t_eca_neck_eca_pan_shapes.yml",
                                    "configs/faster_rcnn/faster_rcnn_r50_vd_se_fpn_1x_coco.yml"])
def test_written_file_loads_as_the_config_it_came_from(config, tmp_path):
    path = os.path.join(ROOT, config)
    written = write_config(read_merged(path), str(tmp_path / os.path.basename(config)))
    assert _loaded(written) == _loaded(path)


def test_component_tags_are_kept():
    merged = read_merged(os.path.join(
        ROOT, "configs/faster_rcnn/faster_rcnn_r50_vd_se_fpn_1x_coco.yml"))
    assert merged["LearningRate"]["schedulers"][0] == Tagged(
        "!PiecewiseDecay", {"gamma": 0.1, "milestones": [8, 11]})


def test_header_becomes_comments_and_there_is_no_base(tmp_path):
    path = write_config({"epoch": 3}, str(tmp_path / "x.yml"), "first\n\nsecond")
    assert open(path).read() == "# first\n#\n# second\nepoch: 3\n"


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("x: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(yaml.constructor.ConstructorError):
        read_merged(str(path))


def test_hash_follows_the_text():
    assert config_hash("a: 1\n") == config_hash("a: 1\n") != config_hash("a: 2\n")
