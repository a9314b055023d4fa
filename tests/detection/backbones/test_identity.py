"""init: identity: inserted gates start near 1, stay trainable, and keep a pretrained output."""
import numpy as np
import paddle
import pytest
from ppdet.modeling.backbones.cspresnet import CSPResNet
from ppdet.modeling.backbones.resnet import ResNet

from ppattn import build_attention
from ppattn.detection.backbones import IDENTITY_GATE, AttnCSPResNet, AttnResNet, init_as_identity, \
    load_pretrained

GATING = [{"name": "se"}, {"name": "se", "fc": "linear"}, {"name": "se", "gate": "hardsigmoid"},
          {"name": "ese"}, {"name": "ese", "act": "sigmoid"}, {"name": "ge"},
          {"name": "ge", "extent": 2, "extra_params": True, "use_mlp": False}]


@pytest.mark.parametrize("spec", GATING, ids=lambda s: "-".join(map(str, s.values())))
def test_gate_starts_at_identity_gate_and_still_learns(spec, rng):
    block = build_attention(spec, 16)
    init_as_identity(block, "test")
    x = paddle.to_tensor(rng.normal(size=(2, 16, 8, 8)).astype("float32"), stop_gradient=False)
    y = block(x)
    np.testing.assert_allclose(y.numpy(), IDENTITY_GATE * x.numpy(), rtol=1e-5, atol=1e-6)
    (y * paddle.to_tensor(rng.normal(size=y.shape).astype("float32"))).sum().backward()
    grads = [p.grad for p in block.parameters() if not p.stop_gradient]
    assert any(g is not None and float(g.abs().max()) > 0 for g in grads), "gate is dead"


def test_hardsigmoid_bias_stays_below_the_flat_part():
    block = build_attention("ese", 4)
    init_as_identity(block, "test")
    assert float(block.fc.bias.max()) < 3.0         # at 3 Paddle's hardsigmoid has no gradient


@pytest.mark.parametrize("spec, match", [
    ("eca", "impossible for ECALayer: its conv has no bias"),
    ("psa", "not meaningful for PSAModule"),
    ({"name": "ge", "use_mlp": False}, "GatherExcite with use_mlp=True"),
    ({"name": "se", "gate": "tanh"}, r"known inverse \(sigmoid, hardsigmoid, relu, relu6\)"),
])
def test_identity_refuses_blocks_without_an_openable_gate(spec, match):
    with pytest.raises(ValueError, match=match):
        init_as_identity(build_attention(spec, 64), "here")


def test_resnet_with_inserted_identity_blocks_keeps_the_pretrained_output(bb, parity, rng):
    paddle.seed(5)
    kwargs = dict(depth=18, num_stages=2, return_idx=[0, 1], freeze_at=-1)
    stock = ResNet(**kwargs)
    bb.randomize_bn_stats(stock, rng)
    x = bb.image(rng)
    want = bb.outputs(stock, x)
    errors = {}
    for init in ("identity", "default"):
        plugins = [{"attn": {"name": "se", "init": init}, "position": "before_add"},
                   {"attn": {"name": "ese", "init": init}, "position": "after_conv1"}]
        model = AttnResNet(plugins=plugins, **kwargs)
        load_pretrained(model, stock.state_dict())
        errors[init] = max(parity.relative_error(g, w) for g, w in zip(bb.outputs(model, x), want))
    assert errors["identity"] < 0.02, errors
    assert errors["default"] > 5 * errors["identity"], errors


def test_cspresnet_with_inserted_identity_blocks_keeps_the_pretrained_output(bb, parity, rng):
    paddle.seed(6)
    stock = CSPResNet(width_mult=0.25, depth_mult=0.33)
    bb.randomize_bn_stats(stock, rng)
    x = bb.image(rng)
    want = bb.outputs(stock, x)
    model = AttnCSPResNet(width_mult=0.25, depth_mult=0.33,
                          block_attn={"name": "se", "reduction": 4, "init": "identity"})
    report = load_pretrained(model, stock.state_dict())
    assert all(".blocks." in k and ".attn." in k for k in report.newly_initialized)
    err = max(parity.relative_error(g, w) for g, w in zip(bb.outputs(model, x), want))
    assert err < 0.02, err
