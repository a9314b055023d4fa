"""AttnResNet: ppdet ResNet parity (plain, std_senet, variants, DCN), EPSANet, freezing."""
import paddle
import pytest
from ppdet.modeling.backbones.resnet import ResNet

from ppattn.detection.backbones import AttnResNet

SE_BEFORE_ADD = {"attn": {"name": "se", "fc": "linear", "reduction": 16}, "position": "before_add"}


@pytest.mark.parametrize("depth", [18, 50])
@pytest.mark.parametrize("std_senet", [False, True])
def test_matches_ppdet_resnet(depth, std_senet, bb, parity, rng):
    paddle.seed(2)
    reference = ResNet(depth=depth, std_senet=std_senet)
    model = AttnResNet(depth=depth, std_senet=std_senet)
    bb.assert_state_dicts_match(model, reference)
    bb.randomize_bn_stats(reference, rng)
    bb.assert_same_outputs(model, reference, bb.image(rng), parity, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:AttnResNet. plugins.0. .* frozen by freeze_at")
@pytest.mark.parametrize("depth", [18, 50])
def test_se_plugin_before_add_is_ppdet_std_senet(depth, bb, parity, rng):
    paddle.seed(3)
    kwargs = dict(depth=depth, num_stages=2, return_idx=[0, 1])
    reference = ResNet(std_senet=True, **kwargs)
    model = AttnResNet(plugins=[SE_BEFORE_ADD], **kwargs)
    bb.assert_state_dicts_match(model, reference)
    bb.assert_same_outputs(model, reference, bb.image(rng), parity)


@pytest.mark.parametrize("kwargs", [
    dict(depth=50, variant="a", dcn_v2_stages=[1]),
    dict(depth=50, variant="c", groups=32, base_width=4),
    dict(depth=50, variant="d", dcn_v2_stages=1, lr_mult_list=[0.1, 0.2, 0.3, 0.4]),
    dict(depth=34, variant="d", freeze_at=-1, freeze_norm=False, dcn_v2_stages=[0, 1]),
])
def test_variants_groups_and_dcn_match_ppdet(kwargs, bb, parity, rng):
    paddle.seed(4)
    kwargs = dict(num_stages=2, return_idx=[0, 1], **kwargs)
    reference = ResNet(**kwargs)
    model = AttnResNet(**kwargs)
    bb.assert_state_dicts_match(model, reference)
    bb.randomize_bn_stats(reference, rng)
    bb.assert_same_outputs(model, reference, bb.image(rng), parity)
    assert ([p.stop_gradient for p in model.parameters()]
            == [p.stop_gradient for p in reference.parameters()])


def test_epsanet50_is_expressible(rng, bb):
    model = AttnResNet(depth=50, variant="b", freeze_at=-1,
                       plugins=[{"attn": "psa", "position": "replace_conv2"}])
    keys = model.state_dict()
    assert "res3.res3a.branch2b.conv.conv_4.weight" in keys
    assert keys["res3.res3a.branch2b.conv.conv_4.weight"].shape == [32, 8, 9, 9]
    assert "res3.res3a.branch2b.norm.weight" in keys          # conv2's BN keeps its name
    assert "res3.res3a.branch2b.conv.weight" not in keys
    outs = bb.outputs(model, bb.image(rng))
    assert [list(o.shape) for o in outs] == [[1, 256, 16, 16], [1, 512, 8, 8], [1, 1024, 4, 4],
                                             [1, 2048, 2, 2]]


def test_freeze_at_freezes_plugins_in_frozen_stages_and_warns():
    with pytest.warns(UserWarning, match="frozen by freeze_at=0"):
        model = AttnResNet(depth=18, num_stages=2, return_idx=[1], freeze_at=0,
                           plugins=[{"attn": "ese", "position": "after_add"}])
    assert all(p.stop_gradient for p in model.res2.res2a.attn_add.parameters())
    assert not any(p.stop_gradient for p in model.res3.res3a.attn_add.parameters())


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(depth=20), ValueError, r"unknown depth 20; known: 18, 34, 50, 101, 152"),
    (dict(variant="e"), ValueError, r"unknown variant 'e'; known: a, b, c, d"),
    (dict(num_stages=5), ValueError, r"num_stages must be 1 to 4, got 5"),
    (dict(return_idx=[3], num_stages=3), ValueError, r"return_idx \[3\] names a stage"),
    (dict(lr_mult_list=[1.0]), ValueError, r"lr_mult_list needs 4 entries"),
    (dict(depth=18, groups=32, base_width=4), ValueError, r"needs groups=1 and base_width=64"),
])
def test_bad_arguments_raise_naming_the_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        AttnResNet(**kwargs)


def test_block_factory_refuses_std_senet_instead_of_dropping_it():
    from ppattn.detection.backbones.resnet_blocks import AttnBottleNeck, BlockFactory
    factory = BlockFactory(AttnBottleNeck, [], "AttnResNet stage 0")
    with pytest.raises(ValueError, match="AttnResNet stage 0: std_senet reaches AttnResNet's "
                                         "blocks as a plugin"):
        factory(std_senet=True, ch_in=64, ch_out=64, stride=1, shortcut=False)
