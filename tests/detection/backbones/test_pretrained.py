"""load_pretrained: exact names with prefix handling, a full report, and ppdet's Trainer hook."""
import logging
from types import SimpleNamespace

import numpy as np
import paddle
import paddle.nn as nn
import ppdet.engine.trainer as trainer
import ppdet.utils.checkpoint as checkpoint
import pytest

from ppattn.detection.backbones import AttnCSPResNet, load_pretrained
from ppattn.detection.backbones import pretrained

TINY = dict(width_mult=0.25, depth_mult=0.33)


class Detector(nn.Layer):
    """A backbone and a head, named as ppdet's architectures name them."""

    def __init__(self, backbone: nn.Layer):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Conv2D(64, 4, 1)


def _imagenet_checkpoint(tmp_path, backbone: nn.Layer) -> str:
    """Bare backbone keys plus a classifier `fc`, saved as backbone-only ImageNet weights."""
    state = {k: paddle.randn(v.shape) for k, v in backbone.state_dict().items()}
    state["fc.weight"] = paddle.randn([256, 1000])
    state["fc.bias"] = paddle.randn([1000])
    path = str(tmp_path / "imagenet.pdparams")
    paddle.save(state, path)
    return path


@pytest.fixture
def log_lines():
    """Collect what load_pretrained logs (ppdet's loggers do not propagate to caplog)."""
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    pretrained.logger.addHandler(handler)
    yield lines
    pretrained.logger.removeHandler(handler)


def test_swapped_blocks_load_everything_else_and_list_the_rest(tmp_path, log_lines):
    path = _imagenet_checkpoint(tmp_path, AttnCSPResNet(**TINY))      # stock: ESE in every stage
    model = Detector(AttnCSPResNet(**TINY, attn="eca"))
    report = load_pretrained(model, path)
    stage_ese = [f"stages.{i}.attn.fc.{p}" for i in range(4) for p in ("weight", "bias")]
    assert sorted(report.newly_initialized) == sorted(
        [f"backbone.stages.{i}.attn.conv.weight" for i in range(4)] + ["head.weight", "head.bias"])
    assert sorted(report.unused) == sorted(stage_ese + ["fc.weight", "fc.bias"])
    assert not report.shape_mismatched
    saved = paddle.load(path)
    for key, value in model.backbone.state_dict().items():
        if ".attn." not in key:
            np.testing.assert_array_equal(value.numpy(), saved[key].numpy(), err_msg=key)
    text = "\n".join(log_lines)
    assert "backbone.stages.3.attn.conv.weight" in text and "'fc.weight'" in text


def test_detector_checkpoint_loads_into_a_detector_and_a_bare_backbone(tmp_path):
    source = Detector(AttnCSPResNet(**TINY))
    path = str(tmp_path / "detector.pdparams")
    paddle.save(source.state_dict(), path)
    detector = Detector(AttnCSPResNet(**TINY))
    assert not load_pretrained(detector, path[:-len(".pdparams")]).newly_initialized
    backbone = AttnCSPResNet(**TINY)
    report = load_pretrained(backbone, path)
    assert not report.newly_initialized and report.unused == ["head.weight", "head.bias"]
    np.testing.assert_array_equal(backbone.stem.conv1.conv.weight.numpy(),
                                  source.backbone.stem.conv1.conv.weight.numpy())


def test_shape_mismatch_keeps_the_initialisation_and_is_reported():
    model = AttnCSPResNet(**TINY)
    state = model.state_dict()
    before = state["stages.0.attn.fc.weight"].numpy().copy()
    checkpoint_state = dict(state, **{"stages.0.attn.fc.weight": paddle.zeros([1, 1, 1, 1])})
    report = load_pretrained(model, checkpoint_state)
    assert report.shape_mismatched == [("stages.0.attn.fc.weight", "stages.0.attn.fc.weight",
                                        [1, 1, 1, 1], [24, 24, 1, 1])]
    np.testing.assert_array_equal(model.stages[0].attn.fc.weight.numpy(), before)


def test_ppdet_suffix_matching_would_misplace_the_classifier_fc():
    """Why load_pretrained exists: ppdet maps `fc.weight` onto every `...attn.fc.weight`."""
    model = AttnCSPResNet(**TINY, attn=["eca", "eca", "eca", "ese"])
    state = {"fc.weight": paddle.zeros([192, 192, 1, 1]), "fc.bias": paddle.zeros([192])}
    matched = checkpoint.match_state_dict(model.state_dict(), state)
    assert "stages.3.attn.fc.weight" in matched                 # a classifier in an ESE slot
    with pytest.raises(ValueError, match="none of the"):
        load_pretrained(model, state)


def test_weights_matching_no_parameter_are_an_error_and_change_nothing():
    model = AttnCSPResNet(**TINY)
    before = model.stem.conv1.conv.weight.numpy().copy()
    state = {"classifier.weight": paddle.zeros([4, 4]), "classifier.bias": paddle.zeros([4])}
    with pytest.raises(ValueError, match=r"none of the \d+ parameters of AttnCSPResNet matches "
                                         r"a state dict \(2 entries"):
        load_pretrained(model, state)
    np.testing.assert_array_equal(model.stem.conv1.conv.weight.numpy(), before)


def test_truncated_pretrained_file_is_named(tmp_path):
    path = tmp_path / "cut.pdparams"
    paddle.save({"a": paddle.ones([1000])}, str(path))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"cannot read '.*cut.pdparams' \(100 bytes"):
        load_pretrained(AttnCSPResNet(**TINY), str(path))


def test_trainer_pretrain_weights_path_uses_exact_loading(tmp_path):
    path = _imagenet_checkpoint(tmp_path, AttnCSPResNet(**TINY))
    model = Detector(AttnCSPResNet(**TINY, attn="eca"))
    fake_trainer = SimpleNamespace(is_loaded_weights=False, model=model)
    trainer.Trainer.load_weights(fake_trainer, path)            # tools/train.py's pretrain_weights
    np.testing.assert_array_equal(model.backbone.stem.conv1.conv.weight.numpy(),
                                  paddle.load(path)["stem.conv1.conv.weight"].numpy())


def test_models_without_our_backbone_keep_ppdets_suffix_matching(tmp_path):
    model = nn.Sequential(("block", nn.Sequential(("conv", nn.Conv2D(2, 2, 1)))))
    path = str(tmp_path / "plain.pdparams")
    paddle.save({"conv.weight": paddle.ones([2, 2, 1, 1]), "conv.bias": paddle.ones([2])}, path)
    trainer.load_pretrain_weight(model, path)
    assert float(model.block.conv.weight.min()) == 1.0          # loaded by suffix, as ppdet does
