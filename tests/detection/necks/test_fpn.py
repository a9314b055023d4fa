"""AttnFPN: ppdet's FPN at default specs, and each slot where it is documented."""
import paddle
import paddle.nn.functional as F
import pytest
from ppdet.modeling.necks.fpn import FPN

from ppattn import ATTENTIONS
from ppattn.detection.necks import AttnFPN

SLOTS = ("input_attn", "output_attn")


def _reference(rng, nk, **kwargs):
    paddle.seed(3)
    reference = FPN(**kwargs)
    nk.randomize_bn_stats(reference, rng)
    reference.kwargs = kwargs
    return reference


def _copy_of(reference, nk, **specs):
    """Our neck with `reference`'s arguments and weights."""
    neck = AttnFPN(**reference.kwargs, **specs)
    nk.copy_weights(neck, reference)
    return neck


def test_default_specs_give_r50_fpn_keys_shapes_and_outputs(rng, nk, parity):
    reference = _reference(rng, nk, **nk.R50_FPN)
    for specs in ({}, {slot: "none" for slot in SLOTS}, {slot: None for slot in SLOTS}):
        nk.assert_same_keys_and_shapes(AttnFPN(**nk.R50_FPN, **specs), reference)
    neck = _copy_of(reference, nk)
    feats = nk.pyramid(rng, nk.R50_FPN["in_channels"], 16)
    want, got = nk.outputs(reference, feats), nk.outputs(neck, feats)
    assert [w.shape[-1] for w in want] == [16, 8, 4, 2, 1]
    for i, (g, w) in enumerate(zip(got, want)):
        parity.assert_close(g, w, f"output {i}", rtol=1e-6)
    assert [(s.channels, s.stride) for s in neck.out_shape] == \
        [(s.channels, s.stride) for s in reference.out_shape]


@pytest.mark.parametrize("options", [
    dict(has_extra_convs=True, extra_stage=2),
    dict(has_extra_convs=True, extra_stage=2, use_c5=False, relu_before_extra_convs=False),
    dict(norm_type="bn", extra_stage=0),
], ids=["extra_convs_c5", "extra_convs_p5", "bn_no_extra"])
def test_default_specs_match_ppdet_with_other_options(options, rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_FPN, **options)
    neck = _copy_of(reference, nk)
    nk.assert_same_keys_and_shapes(neck, reference)
    feats = nk.pyramid(rng, nk.TINY_FPN["in_channels"], 16)
    want = nk.outputs(reference, feats)
    assert len(want) == 4 + options["extra_stage"]
    for i, (g, w) in enumerate(zip(nk.outputs(neck, feats), want)):
        parity.assert_close(g, w, f"output {i}", rtol=1e-6)


def test_each_slot_has_a_block_per_level_with_that_levels_channels(nk):
    neck = nk.tiny_fpn(input_attn="se", output_attn="se")
    inputs = dict(neck.input_attn.named_children())
    assert [inputs[str(i)].channels for i in range(4)] == [8, 16, 32, 64]
    outputs = dict(neck.output_attn.named_children())
    assert sorted(outputs) == ["0", "1", "2", "3", "4"]     # P2..P5 and the max-pooled P6
    assert {block.channels for block in outputs.values()} == {16}


def test_output_slot_counts_the_extra_conv_levels(nk):
    neck = AttnFPN(**nk.TINY_FPN, has_extra_convs=True, extra_stage=3, output_attn="eca")
    assert sorted(dict(neck.output_attn.named_children())) == [str(i) for i in range(7)]


def test_list_spec_puts_one_block_on_each_listed_level(nk):
    neck = nk.tiny_fpn(input_attn=[None, None, "se", "se"],
                       output_attn=["none", "eca", "none", "none", "ge"])
    assert {k: type(v).__name__ for k, v in neck.input_attn.named_children()} == \
        {"2": "SELayer", "3": "SELayer"}
    assert {k: type(v).__name__ for k, v in neck.output_attn.named_children()} == \
        {"1": "ECALayer", "4": "GatherExcite"}
    plain = [k for k in neck.state_dict() if not k.startswith(SLOTS)]
    assert plain == list(FPN(**nk.TINY_FPN).state_dict())


def test_input_block_sees_the_backbone_level_before_its_lateral_conv(rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_FPN)
    neck = _copy_of(reference, nk, input_attn=[None, None, "se", None])
    feats = nk.pyramid(rng, nk.TINY_FPN["in_channels"], 16)
    neck.eval()
    with paddle.no_grad():
        attended = feats[:2] + [neck.input_attn(feats[2], 2), feats[3]]
    for i, (g, w) in enumerate(zip(nk.outputs(neck, feats), nk.outputs(reference, attended))):
        parity.assert_close(g, w, f"output {i}", rtol=1e-6)


def test_extra_level_is_pooled_from_the_attended_level_below(rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_FPN)
    neck = _copy_of(reference, nk, output_attn=[None, None, None, "se", None])
    feats = nk.pyramid(rng, nk.TINY_FPN["in_channels"], 16)
    want, got = nk.outputs(reference, feats), nk.outputs(neck, feats)
    for i in range(3):
        parity.assert_close(got[i], want[i], f"output {i}", rtol=1e-6)
    with paddle.no_grad():
        p5 = neck.output_attn(paddle.to_tensor(want[3]), 3)
        p6 = F.max_pool2d(p5, 1, stride=2)
    parity.assert_close(got[3], p5.numpy(), "output 3", rtol=1e-6)
    parity.assert_close(got[4], p6.numpy(), "output 4", rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
@pytest.mark.parametrize("slot", SLOTS)
def test_every_block_in_every_slot_keeps_shapes_and_learns(slot, name, rng, nk):
    neck = AttnFPN(**nk.WIDE_FPN, **{slot: name})
    neck.train()
    outs = neck(nk.pyramid(rng, nk.WIDE_FPN["in_channels"], 16, batch=2))
    assert [list(y.shape) for y in outs] == [[2, 128, s, s] for s in (16, 8, 4, 2, 1)]
    sum(y.mean() for y in outs).backward()
    blocks = getattr(neck, slot)
    assert len(dict(blocks.named_children())) == (4 if slot == "input_attn" else 5)
    # SimAM has no parameters
    assert all(p.grad is not None for p in blocks.parameters() if not p.stop_gradient)


def test_identity_init_keeps_the_pretrained_output(rng, nk, parity):
    reference = _reference(rng, nk, **nk.TINY_FPN)
    feats = nk.pyramid(rng, nk.TINY_FPN["in_channels"], 16)
    want = nk.outputs(reference, feats)
    errors = {}
    for init in ("identity", "default"):
        spec = {"name": "se", "init": init}
        neck = _copy_of(reference, nk, input_attn=spec, output_attn=spec)
        errors[init] = max(parity.relative_error(g, w)
                           for g, w in zip(nk.outputs(neck, feats), want))
    # two gates of 0.9975 on each path, and no nonlinearity between them in a plain FPN
    assert errors["identity"] < 0.01 < 0.3 < errors["default"], errors


def test_wrong_list_length_names_the_slot_and_the_level_count(nk):
    with pytest.raises(ValueError, match=r"^AttnFPN\.output_attn: got a list of 4 specs, "
                                         r"expected one per level \(5\)"):
        nk.tiny_fpn(output_attn=["eca"] * 4)


@pytest.mark.parametrize("slot, spec, error, match", [
    ("input_attn", ["se", "se", "sse", "se"], ValueError,
     r"AttnFPN\.input_attn level 2: unknown attention 'sse'; known: "),
    ("output_attn", {"name": "eca", "gama": 2}, TypeError,
     r"AttnFPN\.output_attn level 0: ECALayer got unexpected argument 'gama'"),
    ("output_attn", {"name": "se", "init": "ones"}, ValueError,
     r"AttnFPN\.output_attn level 0: .*unknown init 'ones'"),
    ("input_attn", {"reduction": 4}, ValueError, r"AttnFPN\.input_attn level 0: .*has no 'name'"),
])
def test_bad_spec_fails_at_build_naming_slot_and_level(slot, spec, error, match, nk):
    with pytest.raises(error, match=match):
        nk.tiny_fpn(**{slot: spec})


def test_more_than_one_pooled_level_is_refused_at_build(nk):
    with pytest.raises(ValueError, match=r"AttnFPN: extra_stage=2 needs has_extra_convs=True"):
        AttnFPN(**nk.TINY_FPN, extra_stage=2)
