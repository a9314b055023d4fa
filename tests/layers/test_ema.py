"""EfficientMultiScaleAttention against a float64 NumPy restatement of the authors' EMA, golden
group widths, format, errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS, conv1x1, conv2d
from ppattn.layers import EfficientMultiScaleAttention
from ppattn.layers.protocol import IDENTITY_GATE

sigmoid = ACTIVATIONS["sigmoid"]
GN_EPS = 1e-5


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ema(x, w, factor=32):
    """Ouyang et al., ICASSP 2023, as YOLOonMe/EMA-attention-module@71f92d1 computes it.

    gx = x as [M, g, H, W] (M = N factor, g = C / factor);
    t = conv1x1(cat[mean_w gx, mean_h gx as [M, g, W, 1]] along axis 2);
    x1 = GN(gx * sigmoid(t[:, :, :H]) * sigmoid(t[:, :, H:] as [M, g, 1, W])), one group per
    channel; x2 = conv3x3(gx), padding 1;
    weights[m, p] = sum_c softmax_c(mean_hw x1)[m, c] x2[m, c, p]
                  + sum_c softmax_c(mean_hw x2)[m, c] x1[m, c, p];
    y = gx * sigmoid(weights), back to [N, C, H, W].
    """
    n, c, h, wd = x.shape
    g = c // factor
    gx = x.reshape(n * factor, g, h, wd)
    t = conv1x1(np.concatenate([gx.mean(axis=3)[..., None], gx.mean(axis=2)[..., None]], axis=2),
                w["conv1x1.weight"], w["conv1x1.bias"])
    a_h, a_w = sigmoid(t[:, :, :h]), sigmoid(t[:, :, h:].transpose(0, 1, 3, 2))
    z = gx * a_h * a_w
    x1 = (z - z.mean(axis=(2, 3), keepdims=True)) / np.sqrt(z.var(axis=(2, 3), keepdims=True)
                                                            + GN_EPS)
    x1 = x1 * w["gn.weight"].reshape(1, -1, 1, 1) + w["gn.bias"].reshape(1, -1, 1, 1)
    x2 = conv2d(gx, w["conv3x3.weight"], w["conv3x3.bias"], padding=1)
    weights = (np.einsum("mc,mchw->mhw", _softmax(x1.mean(axis=(2, 3))), x2)
               + np.einsum("mc,mchw->mhw", _softmax(x2.mean(axis=(2, 3))), x1))
    return (gx * sigmoid(weights)[:, None]).reshape(n, c, h, wd)


CASES = [(64, (1, 64, 7, 9), 32), (16, (3, 16, 13, 13), 4), (24, (3, 24, 7, 9), 8),
         (8, (1, 8, 13, 13), 8), (12, (1, 12, 7, 9), 1)]


@pytest.mark.parametrize("channels, shape, factor", CASES)
def test_ema_matches_numpy_reference(parity, rng, channels, shape, factor):
    parity.assert_matches_reference(EfficientMultiScaleAttention(channels, factor=factor), ema,
                                    shape, rng, factor=factor)


@pytest.mark.parametrize("channels, factor, g", [(64, 32, 2), (512, 32, 16), (48, 16, 3),
                                                 (384, 16, 24), (32, 32, 1)])
def test_ema_group_width_golden_values(channels, factor, g):
    block = EfficientMultiScaleAttention(channels, factor=factor)
    assert block.group_channels == g
    assert block.state_dict()["conv3x3.weight"].shape == [g, g, 3, 3]


def test_ema_weight_format():
    block = EfficientMultiScaleAttention(64)
    assert {k: list(v.shape) for k, v in block.state_dict().items()} == {
        "gn.weight": [2], "gn.bias": [2], "conv1x1.weight": [2, 2, 1, 1], "conv1x1.bias": [2],
        "conv3x3.weight": [2, 2, 3, 3], "conv3x3.bias": [2]}
    assert block.gn._num_groups == 2


def test_ema_attention_map_is_the_gate_of_the_forward_pass(parity, rng):
    block = EfficientMultiScaleAttention(16, factor=4)
    parity.load_weights(block, parity.random_weights(block, rng))
    x = parity.random_input(rng, (3, 16, 7, 9))
    gate = block.attention_maps(paddle.to_tensor(x.astype("float32")))["spatial"].numpy()
    assert gate.shape == (3, 4, 7, 9)
    want = (x.reshape(3, 4, 4, 7, 9) * gate[:, :, None]).reshape(x.shape)
    parity.assert_close(block(paddle.to_tensor(x.astype("float32"))).numpy(), want)


def test_ema_init_identity_passes_the_input_through(parity, rng):
    block = EfficientMultiScaleAttention(16, factor=4)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.init_identity()
    x = parity.random_input(rng, (3, 16, 7, 9))
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    np.testing.assert_allclose(y, IDENTITY_GATE * x, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(y - x) <= (1 - IDENTITY_GATE) * np.abs(x) + 1e-5)


def test_ema_flops_follow_the_counting_rules():
    n, c, h, w, factor = 2, 16, 5, 7, 4
    m, g, elements = n * factor, c // factor, n * c * h * w
    conv1x1_flops = m * g * (h + w) * g + m * g * (h + w)
    conv3x3_flops = m * g * h * w * g * 9 + m * g * h * w
    matmuls = 2 * m * g * h * w + m * h * w           # two [1, g] x [g, HW] products and a sum
    want = (2 * elements + conv1x1_flops + n * c * (h + w) + 2 * elements + 5 * elements
            + conv3x3_flops + 2 * elements + 6 * n * c + matmuls + m * h * w + elements)
    assert EfficientMultiScaleAttention(c, factor=factor).flops([n, c, h, w]) == want


@pytest.mark.parametrize("channels, factor, match", [
    (48, 32, "EfficientMultiScaleAttention: channels 48 must be divisible by factor 32; factors "
             "that divide it: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48"),
    (24, 0, "EfficientMultiScaleAttention: factor must be a positive int, got 0"),
])
def test_ema_rejects_channels_its_factor_does_not_divide(channels, factor, match):
    with pytest.raises(ValueError, match=match):
        EfficientMultiScaleAttention(channels, factor=factor)


def test_ema_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="EfficientMultiScaleAttention: input has 32 channels, "
                                         "but the block was built for 64"):
        EfficientMultiScaleAttention(64)(paddle.zeros([1, 32, 5, 5]))
