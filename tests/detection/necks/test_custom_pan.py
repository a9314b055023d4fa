"""AttnCustomCSPPAN: ppdet's CustomCSPPAN at default specs, and each slot where it is documented."""
import copy

import numpy as np
import paddle
import pytest
from ppdet.modeling.necks.custom_pan import CustomCSPPAN

from ppattn import ATTENTIONS, build_attention
from ppattn.detection.backbones import IDENTITY_GATE
from ppattn.detection.necks import AttnCustomCSPPAN

SLOTS = ("input_attn", "fpn_attn", "pan_attn")


def _copy_of(reference, nk, **specs):
    """Our neck with `reference`'s arguments and weights (randomised BN statistics included)."""
    neck = AttnCustomCSPPAN(**reference.kwargs, **specs)
    nk.copy_weights(neck, reference)
    return neck


def _reference(rng, nk, **kwargs):
    paddle.seed(3)
    reference = CustomCSPPAN(**kwargs)
    nk.randomize_bn_stats(reference, rng)
    reference.kwargs = kwargs
    return reference


def test_default_specs_give_ppyoloe_s_keys_shapes_and_outputs(rng, nk, parity):
    reference = _reference(rng, nk, **nk.PPYOLOE_S_PAN)
    for specs in ({}, {slot: "none" for slot in SLOTS}, {slot: None for slot in SLOTS}):
        neck = AttnCustomCSPPAN(**nk.PPYOLOE_S_PAN, **specs)
        nk.assert_same_keys_and_shapes(neck, reference)
    neck = _copy_of(reference, nk)
    feats = nk.pyramid(rng, [128, 256, 512], 16)
    want, got = nk.outputs(reference, feats), nk.outputs(neck, feats)
    assert [w.shape[1] for w in want] == [384, 192, 96]
    for i, (g, w) in enumerate(zip(got, want)):
        parity.assert_close(g, w, f"output {i}", rtol=1e-6)
    assert [s.channels for s in neck.out_shape] == [s.channels for s in reference.out_shape]


@pytest.mark.parametrize("options", [dict(use_trans=True), dict(stage_num=2, drop_block=True)],
                         ids=["use_trans", "stage_num2_drop_block"])
def test_default_specs_match_ppdet_with_other_options(options, rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_PAN, **options)
    neck = _copy_of(reference, nk)
    nk.assert_same_keys_and_shapes(neck, reference)
    feats = nk.pyramid(rng, nk.TINY_PAN["in_channels"], 16)
    for i, (g, w) in enumerate(zip(nk.outputs(neck, feats), nk.outputs(reference, feats))):
        parity.assert_close(g, w, f"output {i}", rtol=1e-6)


def test_each_slot_has_a_block_per_level_with_that_levels_channels(nk):
    neck = nk.tiny_pan(input_attn="se", fpn_attn="se", pan_attn="se")
    expected = {"input_attn": [16, 32, 64], "fpn_attn": [64, 32, 16], "pan_attn": [64, 32, 16]}
    for slot, channels in expected.items():
        blocks = dict(getattr(neck, slot).named_children())
        assert sorted(blocks) == ["0", "1", "2"], slot
        assert [blocks[str(i)].channels for i in range(3)] == channels, slot


def test_list_spec_puts_one_block_on_each_listed_level(nk):
    neck = nk.tiny_pan(input_attn=["se", None, {"name": "eca", "kernel_size": 3}],
                       pan_attn=["none", "ge", "none"])
    assert {k: type(v).__name__ for k, v in neck.input_attn.named_children()} == \
        {"0": "SELayer", "2": "ECALayer"}
    assert {k: type(v).__name__ for k, v in neck.pan_attn.named_children()} == \
        {"1": "GatherExcite"}
    assert not nk.slot_keys(neck, "fpn_attn")
    plain = [k for k in neck.state_dict() if not k.startswith(SLOTS)]
    assert plain == list(CustomCSPPAN(**nk.TINY_PAN).state_dict())


def test_input_block_sees_the_backbone_feature(rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_PAN)
    neck = _copy_of(reference, nk, input_attn=[None, "se", None])
    feats = nk.pyramid(rng, nk.TINY_PAN["in_channels"], 16)
    neck.eval()
    with paddle.no_grad():
        attended = [feats[0], neck.input_attn(feats[1], 1), feats[2]]
    want = nk.outputs(reference, attended)
    for i, (g, w) in enumerate(zip(nk.outputs(neck, feats), want)):
        parity.assert_close(g, w, f"output {i}", rtol=1e-6)


def test_pan_block_on_the_returned_top_down_level_scales_that_output(rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_PAN)
    neck = _copy_of(reference, nk, pan_attn=[None, None, "se"])
    feats = nk.pyramid(rng, nk.TINY_PAN["in_channels"], 16)
    want = nk.outputs(reference, feats)
    got = nk.outputs(neck, feats)
    with paddle.no_grad():
        finest = neck.pan_attn(paddle.to_tensor(want[2]), 2).numpy()
    parity.assert_close(got[2], finest, "output 2", rtol=1e-6)
    # the bottom-up path starts from the attended level, so the coarser outputs change
    assert parity.relative_error(got[0], want[0]) > 1e-4


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
@pytest.mark.parametrize("slot", SLOTS)
def test_every_block_in_every_slot_keeps_shapes_and_learns(slot, name, rng, nk):
    neck = AttnCustomCSPPAN(**nk.WIDE_PAN, **{slot: name})
    neck.train()
    feats = nk.pyramid(rng, nk.WIDE_PAN["in_channels"], 8, batch=2)
    outs = neck(feats)
    assert [list(y.shape) for y in outs] == [[2, 128, 2, 2], [2, 128, 4, 4], [2, 128, 8, 8]]
    sum(y.mean() for y in outs).backward()
    blocks = getattr(neck, slot)
    assert sorted(dict(blocks.named_children())) == ["0", "1", "2"]
    # SimAM has no parameters
    assert all(p.grad is not None for p in blocks.parameters() if not p.stop_gradient)


def test_identity_init_keeps_the_pretrained_output(rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_PAN)
    feats = nk.pyramid(rng, nk.TINY_PAN["in_channels"], 16)
    want = nk.outputs(reference, feats)
    errors = {}
    for init in ("identity", "default"):
        spec = {"name": "se", "init": init}
        neck = _copy_of(reference, nk, input_attn=spec, fpn_attn=spec, pan_attn=spec)
        errors[init] = max(parity.relative_error(g, w)
                           for g, w in zip(nk.outputs(neck, feats), want))
    # gates of 0.9975 in series: up to six on a path through the three slots
    assert errors["identity"] < 0.05 < 0.5 < errors["default"], errors


def test_identity_init_opens_each_gate(rng, nk):
    neck = nk.tiny_pan(fpn_attn={"name": "ese", "init": "identity"})
    x = paddle.to_tensor(rng.normal(size=(1, 32, 4, 4)).astype("float32"))
    np.testing.assert_allclose(neck.fpn_attn(x, 1).numpy(), IDENTITY_GATE * x.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_wrong_list_length_names_the_slot_and_the_level_count(nk):
    with pytest.raises(ValueError, match=r"^AttnCustomCSPPAN\.fpn_attn: got a list of 2 specs, "
                                         r"expected one per level \(3\)"):
        nk.tiny_pan(fpn_attn=["eca", "eca"])


@pytest.mark.parametrize("slot, spec, error, match", [
    ("pan_attn", ["eca", "sse", "eca"], ValueError,
     r"AttnCustomCSPPAN\.pan_attn level 1: unknown attention 'sse'; known: "),
    ("input_attn", {"name": "se", "ratio": 4}, TypeError,
     r"AttnCustomCSPPAN\.input_attn level 0: SELayer got unexpected argument 'ratio'"),
    ("fpn_attn", {"name": "se", "init": "zeros"}, ValueError,
     r"AttnCustomCSPPAN\.fpn_attn level 0: .*unknown init 'zeros'; known: default, identity"),
    ("fpn_attn", {"name": "eca", "init": "identity"}, ValueError,
     r"AttnCustomCSPPAN\.fpn_attn level 0: .*ECALayer"),
    ("pan_attn", {"name": "psa", "stride": 2}, ValueError,
     r"AttnCustomCSPPAN\.pan_attn level 0: PSAModule with stride=2.* changes the shape"),
    ("input_attn", 3, TypeError, r"AttnCustomCSPPAN\.input_attn level 0: attention spec must be"),
])
def test_bad_spec_fails_at_build_naming_slot_and_level(slot, spec, error, match, nk):
    with pytest.raises(error, match=match):
        nk.tiny_pan(**{slot: spec})


def test_specs_given_are_left_unchanged(nk):
    spec = {"name": "se", "init": "identity", "reduction": 4}
    specs = [spec, "eca", dict(spec)]
    before = copy.deepcopy(specs)
    nk.tiny_pan(input_attn=specs, pan_attn=spec)
    assert specs == before


def test_specs_attach_no_block_to_ppdet_sublayers(nk):
    neck = nk.tiny_pan(input_attn="se", fpn_attn="eca", pan_attn="ge")
    names = [name for name, layer in neck.named_sublayers()
             if type(layer).__name__ in {cls.__name__ for cls in ATTENTIONS.values()}]
    assert names and all(name.split(".")[0] in SLOTS for name in names), names
