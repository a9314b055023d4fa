"""ppattn.engine.checks: a bad config fails before training, naming the problem."""
import os
import subprocess
import sys

import pytest

import ppattn  # noqa: F401
from ppattn.engine import ConfigError, check_config, load_config, parse_overrides
from ppattn.registry import known_attentions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ECA = os.path.join(ROOT, "configs/ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml")
RCNN_SE = os.path.join(ROOT, "configs/faster_rcnn/faster_rcnn_r50_vd_se_fpn_1x_coco.yml")


def _problems(path, *options, datasets=()):
    cfg = load_config(path, parse_overrides(options))
    with pytest.raises(ConfigError) as error:
        check_config(cfg, datasets)
    return str(error.value)


def test_shipped_config_passes():
    check_config(load_config(ECA))


def test_unknown_attention_block_is_named_with_the_known_ones():
    message = _problems(ECA, "AttnCSPResNet.attn.name=sse")
    assert "unknown attention 'sse'" in message
    assert f"known: {known_attentions()}" in message


def test_unknown_block_argument_is_named():
    message = _problems(ECA, "AttnCSPResNet.attn.gama=2")
    assert "'gama'" in message and "ECALayer" in message


def test_unknown_block_in_a_resnet_plugin_is_named():
    message = _problems(RCNN_SE, "AttnResNet.plugins=[{attn: sse, position: after_conv3}]")
    assert "unknown attention 'sse'" in message


def test_unknown_key_of_a_component_is_named_with_accepted_keys():
    message = _problems(ECA, "AttnCSPResNet.atn=se")
    assert "AttnCSPResNet: unknown key 'atn'; accepted: " in message
    assert "attn" in message.split("accepted: ")[1]


def test_unknown_key_of_an_injected_component_is_named():
    message = _problems(ECA, "PPYOLOEHead.nms.nms_treshold=0.5")
    assert "PPYOLOEHead.nms: unknown key 'nms_treshold' for MultiClassNMS" in message


def test_unknown_key_of_a_dataset_is_named():
    message = _problems(ECA, "TrainDataset.image_dirr=x")
    assert "TrainDataset: unknown key 'image_dirr'" in message


def test_misspelt_component_section_is_named():
    message = _problems(ECA, "AttnCSPResNett.attn=se")
    assert "unknown component 'AttnCSPResNett'" in message


def test_missing_dataset_directory_is_named_with_the_override_to_fix_it():
    message = _problems(ECA, "TrainDataset.dataset_dir=/no/such/coco", datasets=["TrainDataset"])
    assert "TrainDataset: dataset_dir '/no/such/coco' does not exist" in message
    assert "-o TrainDataset.dataset_dir=PATH" in message


def test_missing_annotation_file_is_named(tmp_path):
    message = _problems(ECA, f"EvalDataset.dataset_dir={tmp_path}", datasets=["EvalDataset"])
    assert "EvalDataset: anno_path" in message and "instances_val2017.json" in message


def test_every_problem_is_listed_at_once():
    message = _problems(ECA, "AttnCSPResNet.attn.name=sse", "PPYOLOEHead.foo=1")
    assert "2 problem(s)" in message


def test_train_tool_fails_before_training_and_names_the_problem(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools/train.py"), "-c", ECA, "--output_dir",
         str(tmp_path / "out"), "-o", "AttnCSPResNet.attn=sse", "TrainDataset.dataset_dir=/no"],
        capture_output=True, text=True, cwd=str(tmp_path), timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode != 0
    assert "unknown attention 'sse'" in result.stderr
    assert "dataset_dir '/no' does not exist" in result.stderr
    assert not (tmp_path / "out").exists()
