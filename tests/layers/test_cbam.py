"""CBAM against a float64 NumPy restatement of the authors' code, golden widths, format, errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS, conv2d
from ppattn.layers import CBAM
from ppattn.layers.protocol import IDENTITY_GATE
from train_mode import assert_matches_reference_in_training, batch_norm

sigmoid, relu = ACTIVATIONS["sigmoid"], ACTIVATIONS["relu"]


def cbam(x, w, pool_types=("avg", "max"), spatial=True, kernel_size=7, reduction=None,
         training=False):
    """Woo et al., ECCV 2018, as Jongchan/attention-module@e4ee180 MODELS/cbam.py computes it.

    MLP(p) = W2 relu(W1 p + b1) + b2, shared by the pools;
    x1 = x * sigmoid(sum over pool_types of MLP(pool_hw x)), 'avg' = mean, 'max' = max;
    y = x1 * sigmoid(BN(conv_k(cat[max_c x1, mean_c x1]))), padding (k - 1) / 2, no conv bias.
    The widths come from the weights, so `reduction` is unused.
    """
    w1, b1 = w["channel.fc1.weight"][:, :, 0, 0], w["channel.fc1.bias"]
    w2, b2 = w["channel.fc2.weight"][:, :, 0, 0], w["channel.fc2.bias"]
    pools = {"avg": x.mean(axis=(2, 3)), "max": x.max(axis=(2, 3))}
    logits = sum(relu(pools[kind] @ w1.T + b1) @ w2.T + b2 for kind in pool_types)
    x1 = x * sigmoid(logits)[:, :, None, None]
    if not spatial:
        return x1
    z = np.concatenate([x1.max(axis=1, keepdims=True), x1.mean(axis=1, keepdims=True)], axis=1)
    s = conv2d(z, w["spatial.conv.weight"], padding=(kernel_size - 1) // 2)
    return x1 * sigmoid(batch_norm(s, w, "spatial.bn", training))


CASES = [
    (8, (1, 8, 7, 9), {}),                                             # rd = max(1, 8 // 16) = 1
    (32, (3, 32, 13, 13), {"reduction": 4}),
    (16, (3, 16, 7, 9), {"pool_types": ["max"], "kernel_size": 3}),
    (16, (1, 16, 13, 13), {"pool_types": ("avg",), "spatial": False}),
    (12, (3, 12, 7, 9), {"pool_types": ["max", "avg"], "kernel_size": 5, "reduction": 2}),
]


@pytest.mark.parametrize("channels, shape, kwargs", CASES)
def test_cbam_matches_numpy_reference_in_eval(parity, rng, channels, shape, kwargs):
    block = CBAM(channels, **kwargs)
    block.eval()
    parity.assert_matches_reference(block, cbam, shape, rng, **kwargs)


@pytest.mark.parametrize("shape, kwargs", [((3, 8, 7, 9), {}),
                                           ((1, 8, 13, 13), {"kernel_size": 3})])
def test_cbam_matches_numpy_reference_in_training(parity, rng, shape, kwargs):
    # the spatial BN normalises with the batch's statistics
    assert_matches_reference_in_training(parity, CBAM(shape[1], **kwargs), cbam, shape, rng,
                                         **kwargs)


@pytest.mark.parametrize("channels, reduction, rd", [(8, 16, 1), (48, 16, 3), (64, 16, 4),
                                                     (512, 16, 32), (64, 3, 21)])
def test_cbam_rd_golden_values(channels, reduction, rd):
    assert CBAM(channels, reduction=reduction).rd_channels == rd


def test_cbam_spatial_pool_puts_max_first():
    # a conv that reads only input channel 0 must see the channel max, not the mean
    block = CBAM(4, pool_types=["avg"])
    block.eval()
    block.channel.fc2.weight.set_value(paddle.zeros([4, 1, 1, 1]))
    block.channel.fc2.bias.set_value(paddle.full([4], 50.0))            # channel gate = 1
    kernel = np.zeros([1, 2, 7, 7], "float32")
    kernel[0, 0, 3, 3] = 1.0
    block.spatial.conv.weight.set_value(paddle.to_tensor(kernel))
    x = paddle.to_tensor(np.arange(4, dtype="float32").reshape(1, 4, 1, 1) * np.ones((1, 1, 2, 2),
                                                                                     "float32"))
    gate = block.attention_maps(x)["spatial"].numpy()
    bn_scale = 1 / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(gate, 1 / (1 + np.exp(-3.0 * bn_scale)) * np.ones_like(gate),
                               rtol=1e-6)                               # max = 3, mean = 1.5


def test_cbam_weight_format():
    assert {k: list(v.shape) for k, v in CBAM(64).state_dict().items()} == {
        "channel.fc1.weight": [4, 64, 1, 1], "channel.fc1.bias": [4],
        "channel.fc2.weight": [64, 4, 1, 1], "channel.fc2.bias": [64],
        "spatial.conv.weight": [1, 2, 7, 7],
        "spatial.bn.weight": [1], "spatial.bn.bias": [1], "spatial.bn._mean": [1],
        "spatial.bn._variance": [1]}
    assert {k for k in CBAM(64, spatial=False).state_dict()} == {
        "channel.fc1.weight", "channel.fc1.bias", "channel.fc2.weight", "channel.fc2.bias"}


def test_cbam_spatial_bn_has_the_authors_momentum():
    assert CBAM(16).spatial.bn._momentum == pytest.approx(0.99)


def test_cbam_attention_maps_are_the_gates_of_the_forward_pass(parity, rng):
    block = CBAM(16)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.eval()
    x = paddle.to_tensor(parity.random_input(rng, (3, 16, 7, 9)).astype("float32"))
    maps = block.attention_maps(x)
    assert maps["channel"].shape == [3, 16, 1, 1] and maps["spatial"].shape == [3, 1, 7, 9]
    parity.assert_close(block(x).numpy(), (x * maps["channel"] * maps["spatial"]).numpy())


@pytest.mark.parametrize("kwargs", [{}, {"spatial": False}, {"pool_types": ["max"]}])
@pytest.mark.parametrize("training", [False, True])
def test_cbam_init_identity_passes_the_input_through(parity, rng, kwargs, training):
    block = CBAM(16, **kwargs)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.init_identity()
    block.train() if training else block.eval()
    x = parity.random_input(rng, (3, 16, 7, 9))
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    np.testing.assert_allclose(y, IDENTITY_GATE * x, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(y - x) <= (1 - IDENTITY_GATE) * np.abs(x) + 1e-5)


def test_cbam_flops_follow_the_counting_rules():
    n, c, h, w, rd, k = 2, 32, 5, 7, 2, 7
    elements = n * c * h * w
    channel = 2 * (elements + n * (c * rd + rd) + n * rd + n * (rd * c + c)) + n * c + n * c \
        + elements
    spatial = 2 * elements + n * h * w * 2 * k * k + 3 * n * h * w + elements
    assert CBAM(c).flops([n, c, h, w]) == channel + spatial
    assert CBAM(c, spatial=False).flops([n, c, h, w]) == channel


@pytest.mark.parametrize("kwargs, match", [
    ({"pool_types": ["avg", "lp"]}, "CBAM: unknown pool type 'lp' in pool_types; known: avg, max"),
    ({"pool_types": []}, r"CBAM: pool_types must be a non-empty list of 'avg' and 'max', got \[\]"),
    ({"pool_types": "avg"}, "CBAM: pool_types must be a non-empty list of 'avg' and 'max', "
                            "got 'avg'"),
    ({"kernel_size": 4}, "CBAM: kernel_size must be odd, got 4"),
    ({"reduction": 0}, "CBAM: reduction must be a positive int, got 0"),
])
def test_cbam_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CBAM(16, **kwargs)


def test_cbam_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="CBAM: input has 8 channels, but the block was built "
                                         "for 16"):
        CBAM(16)(paddle.zeros([1, 8, 5, 5]))
