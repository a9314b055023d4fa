"""ppattn/benchmark/shapes.py: the feature-map shapes the blocks are timed at."""
import paddle
from ppdet.modeling.backbones.cspresnet import CSPResNet
from ppdet.modeling.backbones.resnet import ResNet

from ppattn.benchmark.shapes import cspresnet_slot_shapes, resnet50_stage_shapes, size_at_stride


def test_ppyoloe_s_slot_shapes_at_640():
    shapes = [(s.channels, s.size) for s in cspresnet_slot_shapes(640)]
    assert shapes == [(48, 160), (96, 80), (192, 40), (384, 20)]


def test_resnet50_stage_shapes_at_640():
    shapes = [(s.channels, s.size) for s in resnet50_stage_shapes(640)]
    assert shapes == [(256, 160), (512, 80), (1024, 40), (2048, 20)]


def test_size_at_stride_rounds_up_at_every_halving():
    assert size_at_stride(100, 8) == 13   # 100 -> 50 -> 25 -> 13
    assert size_at_stride(640, 32) == 20


def test_slot_shapes_match_ppdet_cspresnet():
    backbone = CSPResNet(layers=[3, 6, 6, 3], channels=[64, 128, 256, 512, 1024],
                         return_idx=[0, 1, 2, 3], use_large_stem=True, width_mult=0.5,
                         depth_mult=0.33)
    backbone.eval()
    seen = []
    for stage in backbone.stages:
        stage.attn.register_forward_pre_hook(lambda layer, inputs: seen.append(inputs[0].shape))
    with paddle.no_grad():
        backbone({"image": paddle.randn([1, 3, 72, 72])})
    assert seen == [[1, s.channels, s.size, s.size] for s in cspresnet_slot_shapes(72, 0.5)]


def test_stage_shapes_match_ppdet_resnet50():
    backbone = ResNet(depth=50, variant="d", return_idx=[0, 1, 2, 3])
    backbone.eval()
    with paddle.no_grad():
        outs = backbone({"image": paddle.randn([1, 3, 72, 72])})
    assert [o.shape for o in outs] == [[1, s.channels, s.size, s.size]
                                       for s in resnet50_stage_shapes(72)]
