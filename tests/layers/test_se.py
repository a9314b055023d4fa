"""SELayer and EffectiveSELayer against float64 NumPy and against ppdet's own layers."""
import numpy as np
import paddle
import pytest

import numpy_reference as ref
from ppattn.layers import EffectiveSELayer, SELayer

# (channels, input shape, SELayer kwargs); odd H, W, batches 1 and 3, rd from 1 up.
SE_CASES = [
    (4, (1, 4, 7, 9), {}),                                             # rd = max(1, 4 // 16)
    (20, (3, 20, 13, 13), {"reduction": 4}),
    (64, (3, 64, 7, 9), {"fc": "linear"}),
    (20, (1, 20, 7, 9), {"rd_channels": 7, "act": "swish", "gate": "hardsigmoid"}),
    (32, (1, 32, 13, 13), {"fc": "linear", "rd_channels": 5, "act": "hardsigmoid"}),
    (4, (3, 4, 13, 13), {"reduction": 2, "act": "silu", "gate": "tanh"}),
]


@pytest.mark.parametrize("channels, shape, kwargs", SE_CASES)
def test_se_matches_numpy_reference(parity, rng, channels, shape, kwargs):
    block = SELayer(channels, **kwargs)
    parity.assert_matches_reference(
        block, ref.se, shape, rng, act=kwargs.get("act", "relu"),
        gate=kwargs.get("gate", "sigmoid"), fc=kwargs.get("fc", "conv"))


@pytest.mark.parametrize("channels, shape, act", [
    (4, (1, 4, 7, 9), "hardsigmoid"),
    (20, (3, 20, 13, 13), "hardsigmoid"),
    (64, (1, 64, 7, 9), "sigmoid"),
])
def test_effective_se_matches_numpy_reference(parity, rng, channels, shape, act):
    parity.assert_matches_reference(EffectiveSELayer(channels, act=act), ref.effective_se, shape,
                                    rng, act=act)


def _assert_same_as_ppdet(parity, rng, ours, theirs, shape):
    """Load our random weights into ppdet's layer by key and compare outputs and input grads."""
    weights = parity.random_weights(ours, rng)
    parity.load_weights(ours, weights)
    parity.load_weights(theirs, weights)                       # same keys, same shapes
    x = parity.random_input(rng, shape)
    r = rng.normal(size=shape)
    y, dx = parity.forward_backward(ours, x, r)
    y_ppdet, dx_ppdet = parity.forward_backward(theirs, x, r)
    parity.assert_close(y, y_ppdet, "output vs ppdet")
    parity.assert_close(dx, dx_ppdet, "input gradient vs ppdet")


@pytest.mark.parametrize("channels, shape", [(20, (3, 20, 7, 9)), (64, (1, 64, 13, 13))])
def test_effective_se_matches_ppdet_cspresnet(parity, rng, channels, shape):
    from ppdet.modeling.backbones.cspresnet import EffectiveSELayer as PPDetESE
    _assert_same_as_ppdet(parity, rng, EffectiveSELayer(channels), PPDetESE(channels), shape)


@pytest.mark.parametrize("channels, reduction, shape", [(64, 16, (3, 64, 7, 9)),
                                                        (20, 4, (1, 20, 13, 13))])
def test_se_linear_matches_ppdet_resnet(parity, rng, channels, reduction, shape):
    from ppdet.modeling.backbones.resnet import SELayer as PPDetSE
    _assert_same_as_ppdet(parity, rng, SELayer(channels, reduction=reduction, fc="linear"),
                          PPDetSE(channels, reduction_ratio=reduction), shape)


def test_se_golden_values_on_a_1x2x2x2_input():
    # p = (mean[1, 2, 3, 4], mean[-1, -1, -1, -1]) = (2.5, -1)
    # hidden = relu(1 * 2.5 + 1 * -1 + 0) = 1.5
    # z = (3 * 1.5 - 3, -1 * 1.5 + 0) = (1.5, -1.5); hardsigmoid(z) = z / 6 + 1/2 = (0.75, 0.25)
    block = SELayer(2, rd_channels=1, gate="hardsigmoid")
    block.set_state_dict({
        "fc1.weight": paddle.to_tensor([[[[1.0]], [[1.0]]]]),
        "fc1.bias": paddle.to_tensor([0.0]),
        "fc2.weight": paddle.to_tensor([[[[3.0]]], [[[-1.0]]]]),
        "fc2.bias": paddle.to_tensor([-3.0, 0.0]),
    })
    x = paddle.to_tensor([[[[1.0, 2.0], [3.0, 4.0]], [[-1.0, -1.0], [-1.0, -1.0]]]])
    want = [[[[0.75, 1.5], [2.25, 3.0]], [[-0.25, -0.25], [-0.25, -0.25]]]]
    np.testing.assert_allclose(block(x).numpy(), want, rtol=1e-6)   # 1/6 is inexact in float32


def test_se_golden_values_with_zero_weights_halve_the_input():
    block = SELayer(2, rd_channels=1)
    block.set_state_dict({k: paddle.zeros(v.shape) for k, v in block.state_dict().items()})
    x = paddle.to_tensor([[[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.0], [5.0, 6.0]]]])
    np.testing.assert_array_equal(block(x).numpy(), x.numpy() / 2)   # sigmoid(0) = 1/2


def _shapes(block):
    return {key: list(value.shape) for key, value in block.state_dict().items()}


def test_se_conv_weight_format():
    assert _shapes(SELayer(64)) == {"fc1.weight": [4, 64, 1, 1], "fc1.bias": [4],
                                    "fc2.weight": [64, 4, 1, 1], "fc2.bias": [64]}


def test_se_linear_weight_format_is_ppdet_resnets():
    assert _shapes(SELayer(64, rd_channels=8, fc="linear")) == {
        "squeeze.weight": [64, 8], "squeeze.bias": [8],
        "extract.weight": [8, 64], "extract.bias": [64]}


def test_se_rd_channels_is_at_least_one():
    assert _shapes(SELayer(4))["fc1.bias"] == [1]


def test_effective_se_weight_format():
    assert _shapes(EffectiveSELayer(20)) == {"fc.weight": [20, 20, 1, 1], "fc.bias": [20]}


@pytest.mark.parametrize("argument, bad", [("act", "rleu"), ("gate", "sigmod")])
def test_se_rejects_unknown_activation_names(argument, bad):
    with pytest.raises(ValueError, match=f"SELayer: unknown {argument} '{bad}'; known: .*relu"):
        SELayer(16, **{argument: bad})


def test_effective_se_rejects_unknown_activation_name():
    with pytest.raises(ValueError, match="EffectiveSELayer: unknown act 'hard_sigmoid'; known: "):
        EffectiveSELayer(16, act="hard_sigmoid")


def test_se_rejects_unknown_fc_kind():
    with pytest.raises(ValueError, match="SELayer: fc must be one of conv, linear, got 'dense'"):
        SELayer(16, fc="dense")


@pytest.mark.parametrize("block", [SELayer(8), SELayer(8, fc="linear"), EffectiveSELayer(8)],
                         ids=["se-conv", "se-linear", "ese"])
def test_rejects_input_with_wrong_channel_count(block):
    with pytest.raises(ValueError, match="input has 6 channels, but the block was built for 8"):
        block(paddle.zeros([1, 6, 5, 5]))


@pytest.mark.parametrize("make, reference, ops", [
    (lambda: SELayer(20, reduction=4), ref.se, ("conv2d", "sigmoid")),
    (lambda: SELayer(20, reduction=4, fc="linear"),
     lambda x, w: ref.se(x, w, fc="linear"), ("linear", "sigmoid")),
    (lambda: EffectiveSELayer(20), ref.effective_se, ("conv2d",)),
], ids=["se-conv", "se-linear", "ese"])
def test_accepts_float16_input(parity, rng, make, reference, ops):
    parity.assert_float16_matches(make(), reference, (1, 20, 7, 9), rng, ops)


@pytest.mark.parametrize("fc", ["conv", "linear"])
def test_se_flops_by_hand_on_2x32x4x4(fc):
    # rd = 2; mean 1024, fc1 2 * (32*2 + 2), relu 4, fc2 2 * (2*32 + 32), sigmoid 64, scale 1024
    assert SELayer(32, fc=fc).flops([2, 32, 4, 4]) == 1024 + 132 + 4 + 192 + 64 + 1024


def test_se_attention_map_is_the_channel_gate():
    block = SELayer(32)
    x = paddle.randn([2, 32, 4, 4])
    gate = block.attention_maps(x)["channel"]
    assert gate.shape == [2, 32, 1, 1]
    np.testing.assert_allclose((x * gate).numpy(), block(x).numpy(), rtol=1e-6, atol=1e-7)


def test_ese_identity_init_sets_its_gate_to_the_identity_gate():
    block = EffectiveSELayer(8)
    block.init_identity()
    gate = block.attention_maps(paddle.randn([1, 8, 3, 3]))["channel"]
    np.testing.assert_allclose(gate.numpy(), 0.9975, rtol=1e-6)
