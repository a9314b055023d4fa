"""CoordAttention against a float64 NumPy restatement of the authors' code, golden mip, format,
errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS, conv1x1
from ppattn.layers import CoordAttention
from ppattn.layers.coord_attention import ca_mip
from ppattn.layers.protocol import IDENTITY_GATE
from train_mode import assert_matches_reference_in_training, batch_norm

sigmoid = ACTIVATIONS["sigmoid"]


def coord_attention(x, w, act="hardswish", training=False):
    """Hou et al., CVPR 2021, as houqb/CoordAttention@a3f3490 coordatt.py computes it.

    x_h = mean_w x ([N, C, H, 1]); x_w = mean_h x as [N, C, W, 1];
    t = act(bn1(conv1(cat[x_h, x_w] along axis 2)))  ([N, mip, H + W, 1]);
    a_h = sigmoid(conv_h(t[:, :, :H]))               ([N, C, H, 1]);
    a_w = sigmoid(conv_w(t[:, :, H:] as [N, mip, 1, W]))   ([N, C, 1, W]);
    y = x * a_w * a_h.
    """
    height = x.shape[2]
    x_h = x.mean(axis=3)[..., None]
    x_w = x.mean(axis=2)[..., None]
    t = conv1x1(np.concatenate([x_h, x_w], axis=2), w["conv1.weight"], w["conv1.bias"])
    t = ACTIVATIONS[act](batch_norm(t, w, "bn1", training))
    a_h = sigmoid(conv1x1(t[:, :, :height], w["conv_h.weight"], w["conv_h.bias"]))
    a_w = sigmoid(conv1x1(t[:, :, height:].transpose(0, 1, 3, 2), w["conv_w.weight"],
                          w["conv_w.bias"]))
    return x * a_w * a_h


CASES = [
    (16, (1, 16, 7, 9), {}),                                 # mip = max(8, 16 // 32) = 8
    (64, (3, 64, 13, 13), {"reduction": 4}),                 # mip = 16
    (24, (3, 24, 7, 9), {"min_channels": 4, "reduction": 8, "act": "relu"}),    # mip = 4
    (32, (1, 32, 13, 13), {"act": "swish"}),
]


@pytest.mark.parametrize("channels, shape, kwargs", CASES)
def test_coord_attention_matches_numpy_reference_in_eval(parity, rng, channels, shape, kwargs):
    block = CoordAttention(channels, **kwargs)
    block.eval()
    parity.assert_matches_reference(block, coord_attention, shape, rng,
                                    act=kwargs.get("act", "hardswish"))


@pytest.mark.parametrize("shape", [(3, 8, 7, 9), (1, 8, 13, 13)])
def test_coord_attention_matches_numpy_reference_in_training(parity, rng, shape):
    # bn1 normalises H and W positions of the whole batch together
    assert_matches_reference_in_training(parity, CoordAttention(8), coord_attention, shape, rng)


def test_coord_attention_keeps_h_and_w_apart_on_a_non_square_map(parity, rng):
    # with conv_h and conv_w swapped (a common copying error) the output would differ
    block = CoordAttention(8)
    block.eval()
    weights = parity.random_weights(block, rng)
    parity.load_weights(block, weights)
    x = parity.random_input(rng, (1, 8, 5, 11))
    swapped = dict(weights)
    for key in ("weight", "bias"):
        swapped[f"conv_h.{key}"], swapped[f"conv_w.{key}"] = weights[f"conv_w.{key}"], \
            weights[f"conv_h.{key}"]
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    parity.assert_close(y, coord_attention(x, weights))
    assert parity.relative_error(y, coord_attention(x, swapped)) > 1e-2


@pytest.mark.parametrize("channels, kwargs, mip", [
    (64, {}, 8), (512, {}, 16), (256, {}, 8), (1024, {}, 32), (48, {}, 8),
    (64, {"reduction": 4}, 16), (64, {"min_channels": 16}, 16)])
def test_coord_attention_mip_golden_values(channels, kwargs, mip):
    assert ca_mip(channels, **kwargs) == mip
    assert CoordAttention(channels, **kwargs).state_dict()["conv1.weight"].shape == [mip, channels,
                                                                                     1, 1]


def test_coord_attention_weight_format():
    assert {k: list(v.shape) for k, v in CoordAttention(64).state_dict().items()} == {
        "conv1.weight": [8, 64, 1, 1], "conv1.bias": [8],
        "bn1.weight": [8], "bn1.bias": [8], "bn1._mean": [8], "bn1._variance": [8],
        "conv_h.weight": [64, 8, 1, 1], "conv_h.bias": [64],
        "conv_w.weight": [64, 8, 1, 1], "conv_w.bias": [64]}


def test_coord_attention_maps_are_the_gates_of_the_forward_pass(parity, rng):
    block = CoordAttention(16)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.eval()
    x = paddle.to_tensor(parity.random_input(rng, (3, 16, 7, 9)).astype("float32"))
    maps = block.attention_maps(x)
    assert maps["height"].shape == [3, 16, 7, 1] and maps["width"].shape == [3, 16, 1, 9]
    parity.assert_close(block(x).numpy(), (x * maps["width"] * maps["height"]).numpy())
    assert maps["spatial"].shape == [3, 16, 7, 9]
    parity.assert_close(block(x).numpy(), (x * maps["spatial"]).numpy())


@pytest.mark.parametrize("training", [False, True])
def test_coord_attention_init_identity_passes_the_input_through(parity, rng, training):
    block = CoordAttention(16)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.init_identity()
    block.train() if training else block.eval()
    x = parity.random_input(rng, (3, 16, 7, 9))
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    np.testing.assert_allclose(y, IDENTITY_GATE * x, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(y - x) <= (1 - IDENTITY_GATE) * np.abs(x) + 1e-5)


def test_coord_attention_flops_follow_the_counting_rules():
    n, c, h, w, mip = 2, 64, 5, 7, 8
    elements, length = n * c * h * w, h + w
    want = (2 * elements + n * length * (c * mip + mip) + 3 * n * mip * length
            + n * length * (mip * c + c) + n * c * length + 2 * elements)
    assert CoordAttention(c).flops([n, c, h, w]) == want


@pytest.mark.parametrize("kwargs, match", [
    ({"reduction": 0}, "CoordAttention: reduction must be a positive int, got 0"),
    ({"min_channels": -1}, "CoordAttention: min_channels must be a positive int, got -1"),
    ({"act": "h_swish"}, "CoordAttention: unknown act 'h_swish'; known: "),
])
def test_coord_attention_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CoordAttention(16, **kwargs)


def test_coord_attention_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="CoordAttention: input has 8 channels, but the block "
                                         "was built for 16"):
        CoordAttention(16)(paddle.zeros([1, 8, 5, 5]))
