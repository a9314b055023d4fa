"""Every shipped config loads with its _BASE_ chain, passes the checks, builds its model and runs
a forward pass on a small input; each leaf builds the attention block its name promises."""
import glob
import os

import numpy as np
import paddle
import pytest
from ppdet.core.workspace import create

import ppattn
from ppattn.engine import check_config, load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# leaves: the files a user passes to -c (shared bases live in _base_/, datasets/, runtime.yml)
LEAVES = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "configs/**/*.yml"),
                                                            recursive=True)
                if "_base_" not in p and "/datasets/" not in p
                and os.path.basename(p) not in ("runtime.yml", "shapes_detection.yml",
                                                "shapes_reader.yml"))
PRETRAINED = "https://paddledet.bj.bcebos.com/models/pretrained/"
SIZE = 64

# block class each leaf must put in its backbone, by the name the file ends in
EXPECTED_BLOCK = {"se": "SELayer", "eca": "ECALayer", "ge": "GatherExcite", "psa": "PSAModule",
                  "cbam": "CBAM", "ca": "CoordAttention", "simam": "SimAM", "gc": "ContextBlock",
                  "sa": "ShuffleAttention", "triplet": "TripletAttention",
                  "ema": "EfficientMultiScaleAttention"}
# '..._neck_<block>_<slot>_...': what follows is the neck's block and the slot it fills
NECK_MARK = "_neck_"


def _load(leaf, overrides=None):
    return load_config(os.path.join(ROOT, leaf), overrides)


def _block_names(model):
    return {type(layer).__name__ for layer in model.backbone.sublayers()}


def _expected_block(leaf):
    stem = os.path.basename(leaf).split(NECK_MARK)[0] + "_"   # the backbone's part of the name
    if "epsanet" in stem:
        return "PSAModule"
    for key, cls in EXPECTED_BLOCK.items():
        if f"_{key}_" in stem:
            return cls
    if "_none_" in stem:
        return None
    return "EffectiveSELayer" if "ppyoloe" in stem else None


def test_every_model_family_is_shipped():
    stems = {os.path.basename(p)[:-4] for p in LEAVES}
    for size in "smlx":
        for attn in ("", "se_", "eca_", "ge_", "psa_", "none_"):
            assert f"ppyoloe_crn_{size}_{attn}300e_coco" in stems
    for attn in ("", "se_", "eca_", "ge_"):
        assert f"faster_rcnn_r50_vd_{attn}fpn_1x_coco" in stems
    assert "faster_rcnn_epsanet50_fpn_1x_coco" in stems


@pytest.mark.parametrize("leaf", LEAVES)
def test_config_is_named_after_its_file_and_saves_under_it(leaf):
    cfg = _load(leaf)
    assert cfg.filename == os.path.basename(leaf)[:-4]
    assert cfg.weights.startswith(f"output/{cfg.filename}/"), cfg.weights


@pytest.mark.parametrize("leaf", [p for p in LEAVES if "demo" not in p])
def test_coco_config_points_at_paddledetection_weights_and_coco(leaf):
    cfg = _load(leaf)
    assert cfg.pretrain_weights.startswith(PRETRAINED), cfg.pretrain_weights
    assert cfg.num_classes == 80
    assert cfg.TrainDataset["dataset_dir"] == "dataset/coco"


def _inputs(training: bool):
    inputs = {"image": paddle.rand([1, 3, SIZE, SIZE]),
              "im_shape": paddle.to_tensor([[SIZE, SIZE]], "float32"),
              "scale_factor": paddle.to_tensor([[1.0, 1.0]], "float32")}
    if training:
        inputs.update(gt_bbox=[paddle.to_tensor([[8.0, 8.0, 40.0, 48.0]])],
                      gt_class=[paddle.to_tensor([[3]], "int32")],
                      is_crowd=[paddle.to_tensor([[0]], "int32")])
    return inputs


def _expected_neck_blocks(leaf):
    """(slot, block class name) the leaf's name promises in its neck, or None."""
    stem = os.path.basename(leaf)
    if NECK_MARK not in stem:
        return None
    block, slot = stem.split(NECK_MARK)[1].split("_")[:2]
    return f"{slot}_attn", ppattn.ATTENTIONS[block].__name__


def _check_neck_blocks(leaf, neck, attention):
    expected = _expected_neck_blocks(leaf)
    if expected is None:
        names = {type(layer).__name__ for layer in neck.sublayers()}
        assert not names & attention, f"{leaf} should have no neck attention, has {names}"
        return
    slot, block = expected
    blocks = [type(layer).__name__ for layer in getattr(neck, slot).children()]
    assert blocks and set(blocks) == {block}, f"{leaf}: neck {slot} has {blocks}, not {block}"


@pytest.mark.parametrize("leaf", LEAVES)
def test_config_builds_model_with_its_block_and_runs_forward(leaf):
    cfg = _load(leaf, {"eval_size": [SIZE, SIZE]})   # PP-YOLOE precomputes anchors for it
    check_config(cfg)   # builds the backbone alone, checking its attention specs
    model = create(cfg.architecture)
    names = _block_names(model)
    block = _expected_block(leaf)
    attention = {cls.__name__ for cls in ppattn.ATTENTIONS.values()}
    if block is None:
        assert not names & attention, f"{leaf} should have no attention, has {names & attention}"
    else:
        assert block in names, f"{leaf} should build {block}; has {names & attention}"
        if block != "EffectiveSELayer":
            assert "EffectiveSELayer" not in names, f"{leaf} still has PP-YOLOE's ESE"
    _check_neck_blocks(leaf, model.neck, attention)
    model.eval()
    with paddle.no_grad():
        boxes = model(_inputs(training=False))["bbox"].numpy()
    assert boxes.ndim == 2 and boxes.shape[1] == 6
    assert np.isfinite(boxes).all()


@pytest.mark.parametrize("leaf", [p for p in LEAVES if "rcnn" in p])
def test_rcnn_config_computes_finite_training_loss(leaf):
    cfg = _load(leaf)
    model = create(cfg.architecture)
    model.train()
    loss = model(_inputs(training=True))["loss"]
    assert np.isfinite(float(loss)), f"{leaf}: loss {float(loss)}"
