"""ContextBlock (GCNet) against a float64 NumPy restatement of mmcv's, golden P, format, errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS, conv1x1
from ppattn.layers import ContextBlock
from ppattn.layers.protocol import IDENTITY_GATE

sigmoid, relu = ACTIVATIONS["sigmoid"], ACTIVATIONS["relu"]
LN_EPS = 1e-5


def _transform(context, w, prefix):
    """conv0 (C -> P), LayerNorm over the P values (affine), ReLU, conv3 (P -> C); [N, C]."""
    h = context @ w[f"{prefix}.0.weight"][:, :, 0, 0].T + w[f"{prefix}.0.bias"]
    h = (h - h.mean(axis=1, keepdims=True)) / np.sqrt(h.var(axis=1, keepdims=True) + LN_EPS)
    h = relu(h * w[f"{prefix}.1.weight"] + w[f"{prefix}.1.bias"])
    return h @ w[f"{prefix}.3.weight"][:, :, 0, 0].T + w[f"{prefix}.3.bias"]


def context_block(x, w, pooling="att", fusions=("channel_add",)):
    """Cao et al. (GCNet), as mmcv@1d7b818 cnn/bricks/context_block.py computes it.

    'att': a = softmax over H W of conv_mask(x) ([N, 1, H, W]), context = sum_hw x * a;
    'avg': context = mean_hw x.  out = x; mul: out = out * sigmoid(T_mul(context));
    add: out = out + T_add(context).
    """
    if pooling == "att":
        logits = conv1x1(x, w["conv_mask.weight"], w["conv_mask.bias"])
        a = np.exp(logits - logits.max(axis=(2, 3), keepdims=True))
        a = a / a.sum(axis=(2, 3), keepdims=True)
        context = (x * a).sum(axis=(2, 3))
    else:
        context = x.mean(axis=(2, 3))
    out = x
    if "channel_mul" in fusions:
        out = out * sigmoid(_transform(context, w, "channel_mul_conv"))[:, :, None, None]
    if "channel_add" in fusions:
        out = out + _transform(context, w, "channel_add_conv")[:, :, None, None]
    return out


CASES = [
    (16, (1, 16, 7, 9), {}),                                                    # P = 1
    (32, (3, 32, 13, 13), {"ratio": 0.25}),
    (32, (3, 32, 7, 9), {"fusions": ["channel_mul"], "ratio": 0.125}),
    (24, (1, 24, 13, 13), {"fusions": ("channel_add", "channel_mul"), "ratio": 0.25}),
    (24, (3, 24, 7, 9), {"pooling": "avg", "fusions": ["channel_mul", "channel_add"],
                         "ratio": 0.5}),
]


@pytest.mark.parametrize("channels, shape, kwargs", CASES)
def test_context_block_matches_numpy_reference(parity, rng, channels, shape, kwargs):
    reference_kwargs = {k: v for k, v in kwargs.items() if k != "ratio"}
    parity.assert_matches_reference(ContextBlock(channels, **kwargs), context_block, shape, rng,
                                    **reference_kwargs)


@pytest.mark.parametrize("channels, ratio, planes", [(64, 1 / 16, 4), (256, 1 / 4, 64),
                                                     (48, 1 / 16, 3), (10, 1 / 4, 2),
                                                     (2048, 1 / 4, 512), (12, 1 / 16, 1)])
def test_context_block_planes_golden_values(channels, ratio, planes):
    block = ContextBlock(channels, ratio=ratio)
    assert block.planes == planes
    assert block.state_dict()["channel_add_conv.0.weight"].shape == [planes, channels, 1, 1]


def test_context_block_weight_format():
    shapes = {k: list(v.shape) for k, v in ContextBlock(
        64, fusions=["channel_add", "channel_mul"]).state_dict().items()}
    want = {"conv_mask.weight": [1, 64, 1, 1], "conv_mask.bias": [1]}
    for fusion in ("channel_add", "channel_mul"):
        want.update({f"{fusion}_conv.0.weight": [4, 64, 1, 1], f"{fusion}_conv.0.bias": [4],
                     f"{fusion}_conv.1.weight": [4], f"{fusion}_conv.1.bias": [4],
                     f"{fusion}_conv.3.weight": [64, 4, 1, 1], f"{fusion}_conv.3.bias": [64]})
    assert shapes == want
    assert "conv_mask.weight" not in ContextBlock(64, pooling="avg").state_dict()


def test_context_block_starts_with_zero_last_convs_so_channel_add_is_the_identity(parity, rng):
    block = ContextBlock(32, fusions=["channel_add", "channel_mul"])
    for fusion in (block.channel_add_conv, block.channel_mul_conv):
        assert not fusion[3].weight.numpy().any() and not fusion[3].bias.numpy().any()
    x = parity.random_input(rng, (2, 32, 7, 9)).astype("float32")
    np.testing.assert_array_equal(ContextBlock(32)(paddle.to_tensor(x)).numpy(), x)


@pytest.mark.parametrize("fusions", [["channel_add"], ["channel_mul"],
                                     ["channel_add", "channel_mul"]])
def test_context_block_init_identity_passes_the_input_through(parity, rng, fusions):
    block = ContextBlock(32, ratio=0.25, fusions=fusions)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.init_identity()
    x = parity.random_input(rng, (3, 32, 7, 9))
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    gate = IDENTITY_GATE if "channel_mul" in fusions else 1.0
    np.testing.assert_allclose(y, gate * x, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(y - x) <= (1 - IDENTITY_GATE) * np.abs(x) + 1e-5)


def test_context_block_maps_are_what_the_forward_pass_applies(parity, rng):
    block = ContextBlock(16, ratio=0.25, fusions=["channel_add", "channel_mul"])
    parity.load_weights(block, parity.random_weights(block, rng))
    x = paddle.to_tensor(parity.random_input(rng, (3, 16, 7, 9)).astype("float32"))
    maps = block.attention_maps(x)
    assert {k: v.shape for k, v in maps.items()} == {
        "spatial": [3, 1, 7, 9], "channel_mul": [3, 16, 1, 1], "channel_add": [3, 16, 1, 1]}
    np.testing.assert_allclose(maps["spatial"].numpy().sum(axis=(2, 3)), 1.0, rtol=1e-6)
    parity.assert_close(block(x).numpy(),
                        (x * maps["channel_mul"] + maps["channel_add"]).numpy())


def test_context_block_flops_follow_the_counting_rules():
    n, c, h, w, p = 2, 64, 5, 7, 16
    elements = n * c * h * w
    fusion = n * (c * p + p) + 6 * n * p + n * (p * c + c) + elements
    att = n * h * w * (c + 1) + 3 * n * h * w + elements
    assert ContextBlock(c, ratio=0.25).flops([n, c, h, w]) == att + fusion
    both = ContextBlock(c, ratio=0.25, pooling="avg", fusions=["channel_add", "channel_mul"])
    assert both.flops([n, c, h, w]) == elements + 2 * fusion + n * c


@pytest.mark.parametrize("kwargs, match", [
    ({"pooling": "max"}, "ContextBlock: unknown pooling 'max'; known: att, avg"),
    ({"fusions": ["channel_sub"]}, "ContextBlock: unknown fusion 'channel_sub'; known: "
                                   "channel_add, channel_mul"),
    ({"fusions": []}, r"ContextBlock: fusions must be a non-empty list from channel_add, "
                      r"channel_mul, got \[\]"),
    ({"ratio": 0}, "ContextBlock: ratio must be a positive number, got 0"),
    ({"ratio": "1/4"}, "ContextBlock: ratio must be a positive number, got '1/4'"),
])
def test_context_block_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ContextBlock(16, **kwargs)


def test_context_block_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="ContextBlock: input has 8 channels, but the block was "
                                         "built for 16"):
        ContextBlock(16)(paddle.zeros([1, 8, 5, 5]))
