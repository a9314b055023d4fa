"""ppattn/benchmark/models.py: detectors built from configs/, their FLOPs and their weights."""
import paddle
import pytest

from ppattn.benchmark.models import STOCK, build_model, fixed_rois, model_flops, model_inputs, \
    variant_configs
from ppattn.benchmark.runner import CONFIG_DIR
from ppattn.benchmark.shapes import cspresnet_slot_shapes
from ppattn.engine.config import load_config
from ppdet.core.workspace import create


@pytest.fixture(scope="module")
def ppyoloe_s():
    return variant_configs("ppyoloe_s", CONFIG_DIR)


def _flops(model, size):
    inputs = model_inputs(1, size)
    with paddle.no_grad():
        return model_flops(model, lambda: model(inputs))


def test_variants_are_the_sibling_configs(ppyoloe_s):
    assert {STOCK, "none", "eca", "se", "ge", "psa"} <= set(ppyoloe_s)
    assert ppyoloe_s["eca"].endswith("ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml")
    faster = variant_configs("faster_rcnn_r50", CONFIG_DIR)
    assert faster[STOCK].endswith("faster_rcnn/faster_rcnn_r50_vd_fpn_1x_coco.yml")


def test_a_models_flops_grow_by_exactly_its_blocks_flops(ppyoloe_s):
    eca, none = build_model(ppyoloe_s["eca"]), build_model(ppyoloe_s["none"])
    slots = [stage.attn for stage in eca.backbone.stages]
    by_hand = sum(block.flops([1, s.channels, s.size, s.size])
                  for block, s in zip(slots, cspresnet_slot_shapes(64, 0.5)))
    assert _flops(eca, 64) - _flops(none, 64) == by_hand


def test_stock_config_has_ppdets_own_keys_and_shapes(ppyoloe_s):
    ours = build_model(ppyoloe_s[STOCK])
    backbone = dict(layers=[3, 6, 6, 3], channels=[64, 128, 256, 512, 1024],
                    return_idx=[1, 2, 3], use_large_stem=True)
    cfg = load_config(ppyoloe_s[STOCK], {"YOLOv3": {"backbone": "CSPResNet"},
                                         "CSPResNet": backbone, "norm_type": "bn"})
    ppdet_model = create(cfg.architecture)
    shapes = {key: list(value.shape) for key, value in ours.state_dict().items()}
    assert shapes == {key: list(value.shape) for key, value in ppdet_model.state_dict().items()}


def test_ppyoloe_runs_without_nms():
    model = build_model(variant_configs("ppyoloe_s", CONFIG_DIR)["eca"])
    with paddle.no_grad():
        out = model(model_inputs(1, 64))
    assert out["bbox"].shape[:2] == [1, 8 * 8 + 4 * 4 + 2 * 2]   # every anchor, no NMS


def test_faster_rcnn_box_head_sees_the_fixed_rois():
    model = build_model(variant_configs("faster_rcnn_r50", CONFIG_DIR)[STOCK])
    model.num_rois = 8
    with paddle.no_grad():
        deltas, scores = model(model_inputs(2, 64))
    assert deltas.shape == [16, 4 * 80] and scores.shape == [16, 81]


def test_fixed_rois_are_the_same_every_call_and_inside_the_image():
    (a, num), (b, _) = fixed_rois(2, 48, 64, 5), fixed_rois(2, 48, 64, 5)
    assert num.numpy().tolist() == [5, 5]
    boxes = a[1].numpy()
    assert (a[0].numpy() == b[0].numpy()).all()
    assert (boxes[:, [0, 2]] <= 64).all() and (boxes[:, [1, 3]] <= 48).all() and (boxes >= 0).all()
