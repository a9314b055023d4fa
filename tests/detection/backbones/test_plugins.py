"""AttnResNet plugins: every position x block x stage builds and trains; naming; order; errors."""
import numpy as np
import paddle
import pytest

# most models here keep ppdet's freeze_at=0; the warning about frozen plugins is tested elsewhere
pytestmark = pytest.mark.filterwarnings("ignore:AttnResNet. plugins.* frozen by freeze_at")

from ppattn import ATTENTIONS
from ppattn.detection.backbones import AttnResNet

IN_PLACE = ["after_conv1", "after_conv2", "before_add", "after_add"]
GATES = sorted(set(ATTENTIONS) - {"psa"})


def _cases():
    """(depth, position, block) for every combination; each case enables one stage, cycling."""
    combos = [(18, pos, name) for pos in IN_PLACE for name in sorted(ATTENTIONS)]
    combos += [(50, "after_conv3", name) for name in sorted(ATTENTIONS)]
    combos += [(50, "after_conv1", "eca"), (50, "after_conv2", "se"), (18, "replace_conv2", "psa"),
               (50, "replace_conv2", "psa")]
    # ResNet-50 cases use stages 0 and 1 (the ResNet-18 ones cover all four): a block on the
    # 1024 or 2048 channels of stages 2 and 3 costs seconds
    return [(depth, pos, name, i % (4 if depth == 18 else 2))
            for i, (depth, pos, name) in enumerate(combos)]


@pytest.mark.parametrize("depth, position, name, stage", _cases())
def test_every_position_block_and_stage_runs_forward_and_backward(depth, position, name, stage):
    num_stages = 4 if depth == 18 else stage + 1        # keep the ResNet-50 cases small
    stages = [i == stage for i in range(num_stages)]
    # ResNet-18's 64 channels: ShuffleAttention's default 64 groups need 128
    spec = {"name": "sa", "groups": 8} if name == "sa" else name
    model = AttnResNet(depth=depth, num_stages=num_stages, return_idx=[num_stages - 1],
                       freeze_at=-1, plugins=[{"attn": spec, "position": position,
                                               "stages": stages}])
    x = paddle.randn([2, 3, 32, 32])
    out = model({"image": x})[-1]
    assert out.shape == [2, model._out_channels[num_stages - 1], 32 // 2**(num_stages + 1),
                         32 // 2**(num_stages + 1)]
    out.mean().backward()
    stage_layer = model.res_layers[stage]
    slot = "branch2b.conv" if position == "replace_conv2" else None
    inserted = [layer for key, layer in stage_layer.named_sublayers()
                if key.endswith(slot or ("se", "attn_conv1", "attn_conv2", "attn_add"))]
    assert inserted, f"no block at {position} in stage {stage}"
    for layer in inserted:
        # BN running statistics are parameters too, but never learn
        learning = [p for p in layer.parameters() if not p.stop_gradient]
        assert all(p.grad is not None for p in learning), f"{name} at {position}"
    others = [k for k in model.state_dict() if ".se." in k or ".attn_" in k or "conv.conv_" in k]
    assert all(k.startswith(f"res{stage + 2}.") for k in others)


def test_names_follow_the_slot_and_rank_not_the_block():
    plugins = [{"attn": "eca", "position": "after_conv3"},
               {"attn": "ese", "position": "before_add", "stages": [False, True]},
               {"attn": "se", "position": "after_add"},
               {"attn": "ge", "position": "after_conv1"},
               {"attn": "eca", "position": "after_conv2"}]
    model = AttnResNet(depth=50, num_stages=2, return_idx=[1], plugins=plugins)
    block = model.res3.res3a
    assert {name for name, _ in block.named_children()} >= {"se", "se_1", "attn_add",
                                                            "attn_conv1", "attn_conv2"}
    assert not hasattr(model.res2.res2a, "se_1")         # ranks ignore which stages are on
    swapped = [dict(p, attn="se" if i == 0 else p["attn"]) for i, p in enumerate(plugins)]
    other = AttnResNet(depth=50, num_stages=2, return_idx=[1], plugins=swapped)
    keep = [k for k in model.state_dict() if ".se." not in k]
    assert keep == [k for k in other.state_dict() if ".se." not in k]


def test_basic_block_se_slot_is_after_conv2():
    model = AttnResNet(depth=18, num_stages=1, return_idx=[0],
                       plugins=[{"attn": "eca", "position": "after_conv2"},
                                {"attn": "se", "position": "before_add"}])
    assert type(model.res2.res2a.se).__name__ == "ECALayer"
    assert type(model.res2.res2a.se_1).__name__ == "SELayer"


def test_several_blocks_at_one_position_apply_in_list_order(rng):
    model = AttnResNet(depth=18, num_stages=1, return_idx=[0],
                       plugins=[{"attn": "ese", "position": "after_add"},
                                {"attn": "eca", "position": "after_add"},
                                {"attn": {"name": "se", "reduction": 4}, "position": "after_add"}])
    model.eval()
    block = model.res2.res2b
    calls = []
    for name in ("attn_add", "attn_add_1", "attn_add_2"):
        getattr(block, name).register_forward_post_hook(
            lambda layer, inputs, output, name=name: calls.append(name))
    x = paddle.to_tensor(rng.normal(size=(1, 64, 8, 8)).astype("float32"))
    y = block(x)
    assert calls == ["attn_add", "attn_add_1", "attn_add_2"]
    base = paddle.nn.functional.relu(block.branch2b(block.branch2a(x)) + x)
    want = block.attn_add_2(block.attn_add_1(block.attn_add(base)))
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("plugins, error, match", [
    ([{"attn": "sse", "position": "after_add"}], ValueError,
     r"plugins\[0\]: unknown attention 'sse'; known: "),
    ([{"attn": "se", "position": "after_conv4"}], ValueError,
     r"unknown position 'after_conv4'; known: after_conv1, "),
    ([{"attn": "se", "position": "after_add", "stages": [True] * 3}], ValueError,
     r"stages must be a list of 4 bools .*got \[True, True, True\]"),
    ([{"attn": {"name": "se", "ratio": 4}, "position": "after_add"}], TypeError,
     r"unexpected argument 'ratio'; accepted: "),
    ([{"attn": "se", "position": "after_add", "stage": [True] * 4}], TypeError,
     r"unknown key 'stage'; accepted: attn, position, stages"),
    ([{"attn": "se"}], ValueError, r"has no 'position'"),
    ([{"attn": "se", "position": "after_conv3"}], ValueError,
     r"'after_conv3' needs a BottleNeck \(depth >= 50\), got depth 18"),
    ([{"attn": "se", "position": "replace_conv2"}], ValueError,
     r"SELayer keeps its input shape and cannot replace a conv; accepted: psa"),
    ([{"attn": "psa", "position": "replace_conv2"}] * 2, ValueError,
     r"stage 0 has more than one replace_conv2"),
    ([{"attn": {"name": "psa", "stride": 2}, "position": "replace_conv2"}], TypeError,
     r"stride of a replacement is set by the backbone"),
    ([{"attn": {"name": "eca", "init": "identity"}, "position": "after_add"}], ValueError,
     r"init 'identity' is impossible for ECALayer"),
    ([{"attn": {"name": "psa", "init": "identity"}, "position": "replace_conv2"}], ValueError,
     r"init 'identity' is not meaningful for PSAModule"),
])
def test_bad_plugins_fail_at_construction_naming_the_value(plugins, error, match):
    with pytest.raises(error, match=match):
        AttnResNet(depth=18, plugins=plugins)


def test_replace_conv2_refuses_a_deformable_stage():
    with pytest.raises(ValueError, match="cannot replace a deformable conv"):
        AttnResNet(depth=50, num_stages=1, return_idx=[0], dcn_v2_stages=[0],
                   plugins=[{"attn": "psa", "position": "replace_conv2"}])


def test_plugins_are_not_mutated():
    plugins = [{"attn": {"name": "se", "init": "identity"}, "position": "before_add"}]
    AttnResNet(depth=18, num_stages=1, return_idx=[0], freeze_at=-1, plugins=plugins)
    assert plugins == [{"attn": {"name": "se", "init": "identity"}, "position": "before_add"}]
