"""ShuffleAttention against a float64 NumPy restatement of the authors' sa_layer, the grouping on
C = 8 by hand, format, errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS
from ppattn.layers import ShuffleAttention
from ppattn.layers.protocol import IDENTITY_GATE
from ppattn.layers.shuffle_attention import sa_groups_for

sigmoid = ACTIVATIONS["sigmoid"]
GN_EPS = 1e-5


def shuffle_attention(x, w, groups=64):
    """Zhang & Yang, ICASSP 2021, as wofmanaf/SA-Net@032f169 sa_layer computes it.

    gx = x as [N G, C / G, H, W]; x0, x1 = its first and second halves of channels;
    x0' = x0 * sigmoid(cweight * mean_hw x0 + cbias);
    x1' = x1 * sigmoid(sweight * GN(x1) + sbias), GN normalising each channel over H, W;
    out = cat[x0', x1'] as [N, C, H, W], then channel shuffle with 2 groups:
    [N, 2, C / 2, H, W] -> transpose the two channel axes -> [N, C, H, W].
    """
    n, c, h, wd = x.shape
    gx = x.reshape(n * groups, c // groups, h, wd)
    half = c // (2 * groups)
    x0, x1 = gx[:, :half], gx[:, half:]
    x0 = x0 * sigmoid(w["cweight"] * x0.mean(axis=(2, 3), keepdims=True) + w["cbias"])
    norm = (x1 - x1.mean(axis=(2, 3), keepdims=True)) / np.sqrt(
        x1.var(axis=(2, 3), keepdims=True) + GN_EPS)
    norm = norm * w["gn.weight"].reshape(1, -1, 1, 1) + w["gn.bias"].reshape(1, -1, 1, 1)
    x1 = x1 * sigmoid(w["sweight"] * norm + w["sbias"])
    out = np.concatenate([x0, x1], axis=1).reshape(n, c, h, wd)
    return out.reshape(n, 2, c // 2, h, wd).transpose(0, 2, 1, 3, 4).reshape(n, c, h, wd)


CASES = [(8, (1, 8, 7, 9), 2), (24, (3, 24, 13, 13), 3), (16, (3, 16, 7, 9), 1),
         (32, (1, 32, 13, 13), 4), (128, (1, 128, 7, 9), 64)]


@pytest.mark.parametrize("channels, shape, groups", CASES)
def test_shuffle_attention_matches_numpy_reference(parity, rng, channels, shape, groups):
    parity.assert_matches_reference(ShuffleAttention(channels, groups=groups), shuffle_attention,
                                    shape, rng, groups=groups)


def test_shuffle_attention_groups_and_shuffles_c8_as_by_hand():
    # C = 8, G = 2: groups {0..3} and {4..7}; halves x0 = {0, 1}, {4, 5} and x1 = {2, 3}, {6, 7}.
    # Zero weights: the channel gate is sigmoid(cbias), the spatial gate sigmoid(sbias).
    block = ShuffleAttention(8, groups=2)
    assert block.cweight.shape == [1, 2, 1, 1]
    block.cbias.set_value(paddle.zeros([1, 2, 1, 1]))                       # gate 1/2
    block.sbias.set_value(paddle.full([1, 2, 1, 1], float(np.log(3.0))))   # gate 3/4
    x = paddle.to_tensor(np.arange(1, 9, dtype="float32").reshape(1, 8, 1, 1) * np.ones(
        (1, 1, 3, 3), "float32"))
    y = block(x).numpy()[0, :, 0, 0]
    # before the shuffle: [1/2, 2/2, 3*3/4, 4*3/4, 5/2, 6/2, 7*3/4, 8*3/4];
    # the shuffle takes channels in the order 0, 4, 1, 5, 2, 6, 3, 7
    np.testing.assert_allclose(y, [0.5, 2.5, 1.0, 3.0, 2.25, 5.25, 3.0, 6.0], rtol=1e-6)


@pytest.mark.parametrize("channels, groups", [(8, [1, 2, 4]), (48, [1, 2, 3, 4, 6, 8, 12, 24]),
                                              (64, [1, 2, 4, 8, 16, 32]), (9, [])])
def test_shuffle_attention_accepted_groups_golden_values(channels, groups):
    assert sa_groups_for(channels) == groups


def test_shuffle_attention_weight_format_and_initial_values():
    block = ShuffleAttention(256, groups=64)
    assert {k: list(v.shape) for k, v in block.state_dict().items()} == {
        "cweight": [1, 2, 1, 1], "cbias": [1, 2, 1, 1], "sweight": [1, 2, 1, 1],
        "sbias": [1, 2, 1, 1], "gn.weight": [2], "gn.bias": [2]}
    assert block.gn._num_groups == 2
    for name, value in (("cweight", 0), ("cbias", 1), ("sweight", 0), ("sbias", 1)):
        np.testing.assert_array_equal(getattr(block, name).numpy(), value)


def test_shuffle_attention_maps_are_the_gates_of_the_forward_pass(parity, rng):
    block = ShuffleAttention(16, groups=2)
    parity.load_weights(block, parity.random_weights(block, rng))
    x = parity.random_input(rng, (3, 16, 7, 9))
    maps = block.attention_maps(paddle.to_tensor(x.astype("float32")))
    assert maps["channel"].shape == [6, 4, 1, 1] and maps["spatial"].shape == [6, 4, 7, 9]
    gx = x.reshape(6, 8, 7, 9)
    gated = np.concatenate([gx[:, :4] * maps["channel"].numpy(),
                            gx[:, 4:] * maps["spatial"].numpy()], axis=1)
    shuffled = gated.reshape(3, 2, 8, 7, 9).transpose(0, 2, 1, 3, 4).reshape(x.shape)
    parity.assert_close(block(paddle.to_tensor(x.astype("float32"))).numpy(), shuffled)


def test_shuffle_attention_init_identity_gates_by_identity_gate_and_only_shuffles(parity, rng):
    # the shuffle permutes channels, so the output is the shuffled input, not the input
    block = ShuffleAttention(16, groups=2)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.init_identity()
    x = parity.random_input(rng, (3, 16, 7, 9))
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    shuffled = x.reshape(3, 2, 8, 7, 9).transpose(0, 2, 1, 3, 4).reshape(x.shape)
    np.testing.assert_allclose(y, IDENTITY_GATE * shuffled, rtol=1e-5, atol=1e-6)


def test_shuffle_attention_flops_follow_the_counting_rules():
    n, c, h, w = 2, 16, 5, 7
    half = n * c * h * w // 2
    want = half + 3 * n * c // 2 + half + 5 * half + 4 * half
    assert ShuffleAttention(c, groups=2).flops([n, c, h, w]) == want


@pytest.mark.parametrize("channels, groups, match", [
    (48, 64, "ShuffleAttention: channels 48 must be divisible by 2 \\* groups = 128; groups "
             "that work: 1, 2, 3, 4, 6, 8, 12, 24"),
    (64, 64, "channels 64 must be divisible by 2 \\* groups = 128; groups that work: 1, 2, 4, "
             "8, 16, 32"),
    (9, 1, "channels 9 must be divisible by 2 \\* groups = 2; no groups do, C must be even"),
    (16, 0, "ShuffleAttention: groups must be a positive int, got 0"),
])
def test_shuffle_attention_rejects_channels_its_groups_do_not_divide(channels, groups, match):
    with pytest.raises(ValueError, match=match):
        ShuffleAttention(channels, groups=groups)


def test_shuffle_attention_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="ShuffleAttention: input has 8 channels, but the block "
                                         "was built for 16"):
        ShuffleAttention(16, groups=2)(paddle.zeros([1, 8, 5, 5]))
