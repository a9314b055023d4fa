"""ppattn/benchmark/models.py: the whole detectors, with blocks swapped into ppdet's backbones."""
import paddle

import ppattn
from ppattn.benchmark.flops import count_flops
from ppattn.benchmark.models import (MODEL_COUNTERS, build_faster_rcnn_r50, build_ppyoloe_s,
                                     fixed_rois, model_inputs, swap_cspresnet, swap_resnet)
from ppattn.benchmark.shapes import cspresnet_slot_shapes
from ppdet.modeling.backbones.cspresnet import EffectiveSELayer as PpdetESE

CSP = dict(layers=[1, 1, 1, 1], channels=[64, 128, 256, 512, 1024], return_idx=[1, 2, 3],
           width_mult=0.5, depth_mult=0.33)


def test_stock_cspresnet_keeps_ppdet_ese():
    backbone = swap_cspresnet("stock", **CSP)
    assert all(isinstance(stage.attn, PpdetESE) for stage in backbone.stages)


def test_cspresnet_slots_get_the_block_at_their_channels():
    backbone = swap_cspresnet({"name": "eca", "kernel_size": 3}, **CSP)
    assert [stage.attn.channels for stage in backbone.stages] == [
        s.channels for s in cspresnet_slot_shapes()]
    assert all(isinstance(stage.attn, ppattn.ECALayer) for stage in backbone.stages)


def test_cspresnet_without_attention():
    backbone = swap_cspresnet("none", **CSP)
    assert all(stage.attn is None for stage in backbone.stages)


def test_resnet_gets_a_block_after_every_conv3():
    backbone = swap_resnet("se", depth=50, variant="d")
    blocks = [b for stage in backbone.res_layers for b in stage.blocks]
    assert len(blocks) == 16
    assert all(isinstance(b.se, ppattn.SELayer) and b.se.channels == b.branch2c.conv._out_channels
               for b in blocks)


def test_psa_replaces_resnet_conv2_with_its_stride():
    backbone = swap_resnet("psa", depth=50, variant="d")
    blocks = [b for stage in backbone.res_layers for b in stage.blocks]
    assert all(isinstance(b.branch2b.conv, ppattn.PSAModule) and not b.std_senet for b in blocks)
    strides = [b.branch2b.conv.conv_1._stride[0] for b in blocks]
    assert strides == [1] * 3 + [2] + [1] * 3 + [2] + [1] * 5 + [2] + [1] * 2


def test_ppyoloe_s_forward_and_flops_of_eca_vs_stock():
    inputs = model_inputs(1, 64)
    counts = {}
    for spec in ("stock", "eca"):
        model = build_ppyoloe_s(spec)
        with paddle.no_grad():
            out = model(inputs)
            counts[spec] = count_flops(model, lambda: model(inputs), MODEL_COUNTERS)
        assert out["bbox"].shape[:2] == [1, 8 * 8 + 4 * 4 + 2 * 2]
    # ESE's 1x1 convs are gone, the pooling and scaling stay
    assert counts["eca"].macs < counts["stock"].macs
    assert counts["eca"].elementwise > 0


def test_faster_rcnn_box_head_sees_the_fixed_rois():
    model = build_faster_rcnn_r50("stock", num_rois=8)
    with paddle.no_grad():
        deltas, scores = model(model_inputs(2, 64))
    assert deltas.shape == [16, 4 * 80] and scores.shape == [16, 81]


def test_fixed_rois_are_the_same_every_call_and_inside_the_image():
    (a, num), (b, _) = fixed_rois(2, 48, 64, 5), fixed_rois(2, 48, 64, 5)
    assert num.numpy().tolist() == [5, 5]
    boxes = a[1].numpy()
    assert (a[0].numpy() == b[0].numpy()).all()
    assert (boxes[:, [0, 2]] <= 64).all() and (boxes[:, [1, 3]] <= 48).all() and (boxes >= 0).all()


def test_ppattn_and_ppdet_backbones_build_the_same_model():
    from ppattn.benchmark.models import BACKBONES
    sizes = {}
    for impl, fns in BACKBONES.items():
        model = build_ppyoloe_s("se", backbone_fn=fns["ppyoloe_s"])
        sizes[impl] = sum(p.size for p in model.parameters())
    assert sizes["ppattn"] == sizes["ppdet"]
