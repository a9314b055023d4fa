"""AttnCSPResNet: ppdet CSPResNet parity, the stage and block slots, and their errors."""
import numpy as np
import paddle
import pytest
from ppdet.modeling.backbones.cspresnet import CSPResNet

from ppattn import ATTENTIONS
from ppattn.detection.backbones import AttnCSPResNet

TINY = dict(width_mult=0.25, depth_mult=0.33)
# PSA needs groups that divide the small stage widths (ch_mid = 24, 48, 96, 192)
SPECS = {name: name for name in ATTENTIONS}
SPECS["psa"] = {"name": "psa", "conv_groups": [1, 2, 3, 6], "reduction": 2}
# the tiny model's 12 to 96 channels: defaults that need C divisible by 32 or 128 don't fit
SPECS["ema"] = {"name": "ema", "factor": 4}
SPECS["sa"] = {"name": "sa", "groups": 2}


@pytest.mark.parametrize("kwargs", [dict(), dict(use_large_stem=True, use_alpha=True,
                                                 act="relu", return_idx=[0, 3])])
def test_default_is_ppdet_cspresnet(kwargs, bb, parity, rng):
    paddle.seed(1)
    reference = CSPResNet(**TINY, **kwargs)
    model = AttnCSPResNet(**TINY, **kwargs)
    bb.assert_state_dicts_match(model, reference)
    bb.randomize_bn_stats(reference, rng)
    bb.assert_same_outputs(model, reference, bb.image(rng), parity)


def test_stage_slot_is_named_attn_whatever_the_block():
    ese = AttnCSPResNet(**TINY).state_dict()
    eca = AttnCSPResNet(**TINY, attn="eca").state_dict()
    assert [k for k in ese if ".attn." not in k] == [k for k in eca if ".attn." not in k]
    assert "stages.0.attn.conv.weight" in eca and "stages.0.attn.fc.weight" in ese


def test_per_stage_list_picks_each_stage_block():
    model = AttnCSPResNet(**TINY, attn=["ese", "none", {"name": "se", "reduction": 4}, "eca"])
    kinds = [type(stage.attn).__name__ if stage.attn is not None else None
             for stage in model.stages]
    assert kinds == ["EffectiveSELayer", None, "SELayer", "ECALayer"]


def test_block_attn_sits_in_every_basic_block_before_the_add(rng):
    model = AttnCSPResNet(**TINY, block_attn={"name": "se", "reduction": 2})
    keys = model.state_dict()
    for i, stage in enumerate(model.stages):
        for j in range(len(stage.blocks)):
            assert f"stages.{i}.blocks.{j}.attn.fc1.weight" in keys
    block = model.stages[0].blocks[0]
    block.eval()
    x = paddle.to_tensor(rng.normal(size=(1, 12, 8, 8)).astype("float32"))  # ch_mid / 2
    want = x + block.attn(block.conv2(block.conv1(x)))
    np.testing.assert_allclose(block(x).numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
def test_every_block_in_both_slots_runs_forward_and_backward(name, bb, rng):
    model = AttnCSPResNet(**TINY, attn=SPECS[name], block_attn=["none", SPECS[name], "none",
                                                               "none"])
    outs = model({"image": bb.image(rng, 32, batch=2)})
    assert [list(o.shape) for o in outs] == [[2, 64, 4, 4], [2, 128, 2, 2], [2, 256, 1, 1]]
    sum(o.mean() for o in outs).backward()
    slots = [stage.attn for stage in model.stages] + [b.attn for b in model.stages[1].blocks]
    for slot in slots:   # BN running statistics are parameters too, but never learn
        assert all(p.grad is not None for p in slot.parameters() if not p.stop_gradient), name


def test_spec_dicts_are_not_mutated():
    spec = {"name": "se", "reduction": 4, "init": "identity"}
    act = {"name": "swish"}
    AttnCSPResNet(**TINY, attn=spec, block_attn=[spec] * 4, act=act)
    assert spec == {"name": "se", "reduction": 4, "init": "identity"} and act == {"name": "swish"}


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(attn="sse"), ValueError, r"stage 0 attn: unknown attention 'sse'; known: "),
    (dict(attn=["ese"] * 3), ValueError, r"list of 3 specs, expected one per stage \(4\)"),
    (dict(block_attn=["ese"] * 5), ValueError, r"block_attn: got a list of 5 specs.*\(4\)"),
    (dict(attn={"name": "eca", "ratio": 2}), TypeError, r"unexpected argument 'ratio'; accepted"),
    (dict(attn={"name": "se", "init": "ones"}), ValueError, r"unknown init 'ones'; known: "),
    (dict(attn={"name": "psa", "stride": 2}), ValueError, r"PSAModule with stride=2.*changes"),
    (dict(return_idx=[4]), ValueError, r"return_idx \[4\] has \[4\]"),
    (dict(layers=[1, 1]), ValueError, r"layers needs .* 4 entries, got \[1, 1\]"),
])
def test_bad_arguments_fail_at_construction_naming_the_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        AttnCSPResNet(**{**TINY, **kwargs})


def test_unknown_argument_is_an_error_unlike_ppdet():
    with pytest.raises(TypeError, match="freeze_at"):
        AttnCSPResNet(**TINY, freeze_at=0)


def test_use_checkpoint_leaves_the_global_random_generator_alone():
    draws = []
    for seed in (1, 2):
        paddle.seed(seed)
        AttnCSPResNet(width_mult=0.25, depth_mult=0.33, use_checkpoint=True)
        draws.append(paddle.randn([4]).numpy())
    assert not np.array_equal(*draws)          # a reseed to 0 would make them equal


@pytest.mark.parametrize("kwargs, message", [
    ({"width_mult": 0}, "width_mult must be a number > 0, got 0"),
    ({"depth_mult": -0.5}, "depth_mult must be a number > 0, got -0.5"),
    ({"width_mult": "half"}, "width_mult must be a number > 0, got 'half'"),
    ({"layers": [0, 1, 1, 1]}, r"every entry of layers must be an int >= 1, got \[0, 1, 1, 1\]"),
])
def test_sizes_that_rounding_would_hide_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AttnCSPResNet(**kwargs)
