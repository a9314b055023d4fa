"""ppattn.engine.checks (with known_keys and value_checks): a bad config fails before training,
naming the problem and, for a misspelt key, the closest accepted one."""
import glob
import os
import re
import subprocess
import sys

import pytest

import ppattn  # noqa: F401
from ppattn.engine import ConfigError, check_config, load_config, parse_overrides
from ppattn.engine import known_keys
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
    assert "AttnCSPResNet: unknown key 'atn' (did you mean 'attn'?); accepted: " in message
    assert "attn" in message.split("accepted: ")[1]


def test_unknown_key_of_an_injected_component_is_named():
    message = _problems(ECA, "PPYOLOEHead.nms.nms_treshold=0.5")
    assert ("PPYOLOEHead.nms (MultiClassNMS): unknown key 'nms_treshold' (did you mean "
            "'nms_threshold'?)") in message


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
         str(tmp_path / "out"), "-o", "AttnCSPResNet.attn=sse", "TrainDataset.dataset_dir=/no",
         "epochs=1"],
        capture_output=True, text=True, cwd=str(tmp_path), timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode != 0
    assert "unknown attention 'sse'" in result.stderr
    assert "dataset_dir '/no' does not exist" in result.stderr
    assert "unknown top-level key 'epochs' (did you mean 'epoch'?)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


SHIPPED = sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "configs/**/*.yml"),
                                                recursive=True)
    if "_base_" not in p and "/datasets/" not in p and "reader" not in p
    and os.path.basename(p) not in ("runtime.yml", "shapes_detection.yml")
    # m, l and x differ from s only in depth_mult and width_mult
    and not any(f"_crn_{size}_" in p for size in "mlx"))


@pytest.mark.parametrize("path", SHIPPED)
def test_every_shipped_config_passes_every_key_check(path):
    check_config(load_config(os.path.join(ROOT, path)))


@pytest.mark.parametrize("option, problem", [
    ("epochs=1", "unknown top-level key 'epochs' (did you mean 'epoch'?)"),
    ("epochz=3", "unknown top-level key 'epochz' (did you mean 'epoch'?)"),
    ("TrainReader.batchsize=2", "TrainReader: unknown key 'batchsize' (did you mean "
                                "'batch_size'?); accepted: batch_size, batch_transforms"),
    ("TrainReader.batch_szie=4", "TrainReader: unknown key 'batch_szie' (did you mean "
                                 "'batch_size'?)"),
    ("EvalReader.shufle=true", "EvalReader: unknown key 'shufle' (did you mean 'shuffle'?)"),
    ("export.nmss=true", "export: unknown key 'nmss' (did you mean 'nms'?)"),
    ("OptimizerBuilder.optimizer.type=AdamWW",
     "OptimizerBuilder.optimizer: unknown optimizer type 'AdamWW' (did you mean 'AdamW'?)"),
    ("OptimizerBuilder.optimizer.momentm=0.8", "OptimizerBuilder.optimizer Momentum: unknown "
                                               "argument 'momentm' (did you mean 'momentum'?)"),
    ("OptimizerBuilder.optimizer.weight_decay=0.01", "weight_decay is ignored for Momentum"),
    ("OptimizerBuilder.regularizer.type=L3", "OptimizerBuilder.regularizer: unknown type 'L3'"),
    ("AttnCSPResNett.attn=se", "unknown component 'AttnCSPResNett' (did you mean "
                               "'AttnCSPResNet'?)"),
])
def test_misspelt_key_is_named_with_the_closest_accepted_one(option, problem):
    assert problem in _problems(ECA, option)


def _with(**sections):
    """The ECA config with whole sections replaced (lists are not merged by -o)."""
    return load_config(ECA, sections)


def _problems_of(cfg):
    with pytest.raises(ConfigError) as error:
        check_config(cfg)
    return str(error.value)


def test_misspelt_transform_and_transform_argument_are_named():
    message = _problems_of(_with(TrainReader={"sample_transforms": [
        {"Decod": {}}, {"RandomFlip": {"probb": 0.5}}]}))
    assert ("TrainReader.sample_transforms[0]: unknown transform 'Decod' (did you mean "
            "'Decode'?); accepted: the ") in message
    assert ("TrainReader.sample_transforms[1] RandomFlip: unknown argument 'probb' (did you "
            "mean 'prob'?); accepted: prob") in message


def test_misspelt_scheduler_and_scheduler_argument_are_named():
    message = _problems_of(_with(LearningRate={"schedulers": [
        {"name": "CosineDecayy", "max_epochs": 3}, {"name": "LinearWarmup", "step": 5}]}))
    assert ("LearningRate.schedulers[0]: unknown scheduler 'CosineDecayy' (did you mean "
            "'CosineDecay'?); accepted: CosineDecay, ExpWarmup, LinearWarmup, "
            "PiecewiseDecay") in message
    assert "LearningRate.schedulers[1] LinearWarmup: unknown argument 'step'" in message


@pytest.mark.parametrize("option, problem", [
    ("epoch=-1", "epoch must be an integer >= 1, got -1"),
    ("epoch=0", "epoch must be an integer >= 1, got 0"),
    ("epoch=2.5", "epoch must be an integer >= 1, got 2.5"),
    ("snapshot_epoch=0", "snapshot_epoch must be an integer >= 1, got 0"),
    ("num_classes=0", "num_classes must be an integer >= 1, got 0"),
    ("num_classes=three", "num_classes must be an integer >= 1, got 'three'"),
    ("TrainReader.batch_size=abc", "TrainReader.batch_size must be an integer >= 1, got 'abc'"),
    ("TrainReader.batch_size=0", "TrainReader.batch_size must be an integer >= 1, got 0"),
    ("EvalReader.batch_size=true", "EvalReader.batch_size must be an integer >= 1, got True"),
    ("LearningRate.base_lr=0", "LearningRate.base_lr must be a number > 0, got 0"),
    ("LearningRate.base_lr=fast", "LearningRate.base_lr must be a number > 0, got 'fast'"),
])
def test_value_of_the_wrong_type_or_range_is_named(option, problem):
    assert problem in _problems(ECA, option)


def test_wrong_typed_block_argument_names_the_key_and_the_block():
    message = _problems(ECA, "AttnCSPResNet.attn.gamma=two")
    assert ("AttnCSPResNet.attn: ECALayer argument 'gamma' must be float, got 'two' (str)"
            in message)


def test_wrong_typed_block_argument_in_a_resnet_plugin_is_named():
    message = _problems(RCNN_SE, "AttnResNet.plugins=[{attn: {name: se, reduction: 2.5}, "
                                 "position: before_add}]")
    assert ("AttnResNet.plugins[0].attn: SELayer argument 'reduction' must be int, got 2.5 "
            "(float)") in message


def test_wrong_typed_block_argument_in_a_neck_is_named():
    neck = os.path.join(ROOT, "configs/ppyoloe/ppyoloe_crn_s_neck_eca_pan_300e_coco.yml")
    message = _problems(neck, "AttnCustomCSPPAN.pan_attn.gamma=two")
    assert ("AttnCustomCSPPAN.pan_attn: ECALayer argument 'gamma' must be float, got 'two' "
            "(str)") in message


def test_every_top_level_key_the_trainer_reads_is_accepted():
    """The keys ppdet 2.6.0's Trainer and callbacks read from the config, found in their
    source, are all accepted or deliberately left out (so an upgrade that reads a new key
    fails here rather than in a user's run)."""
    import ppdet.engine.callbacks as callbacks
    import ppdet.engine.trainer as trainer
    patterns = [r"cfg\.get\(\s*['\"](\w+)['\"]", r"cfg\[\s*['\"](\w+)['\"]\s*\]",
                r"\bcfg\.([a-z_]\w*)\b(?!\s*\()", r"['\"](\w+)['\"]\s+(?:not\s+)?in\s+"
                                                   r"(?:self\.)?cfg\b"]
    read = set()
    for module in (trainer, callbacks):
        source = open(module.__file__).read()
        for pattern in patterns:
            read |= {match.group(1) for match in re.finditer(pattern, source)}
    not_keys = {"ppyoloe", "tinypose", "QAT",      # substrings of filename / slim_type
                "fuse_conv_bn", "inputs_def",        # sub-keys of export / TestReader
                "imid2path", "model"}                # set by the Trainer itself
    unsupported = {"slim", "slim_type", "quant_batch_num",                  # PaddleSlim
                   "EvalMOTDataset", "FairMOTEmbeddingHead", "JDEEmbeddingHead",  # tracking
                   "num_joints"}                                            # keypoints
    sections = {"EvalDataset", "TestDataset", "EvalReader", "TestReader"}
    assert read - known_keys.ENGINE_KEYS - not_keys - unsupported - sections == set()


@pytest.mark.parametrize("option, problem", [
    ("width_mult=0", "width_mult must be a number > 0, got 0"),
    ("depth_mult=-1", "depth_mult must be a number > 0, got -1"),
    ("AttnCSPResNet.layers=[0, 1, 1, 1]",
     "AttnCSPResNet.layers must be integers >= 1 (blocks per stage), got [0, 1, 1, 1]"),
    ("norm_type=gn2", "norm_type must be one of bn, sync_bn, gn, got 'gn2'"),
    ("AttnCSPResNet.act=swishh", "AttnCSPResNet.act: unknown activation 'swishh' (did you "
                                 "mean 'swish'?)"),
])
def test_backbone_arguments_are_named_before_the_backbone_is_built(option, problem):
    assert problem in _problems(ECA, option)
