"""ECALayer and eca_kernel_size against float64 NumPy, golden kernel sizes, format and errors."""
import paddle
import pytest

import numpy_reference as ref
from ppattn.layers import ECALayer, eca_kernel_size

# (channels, input shape, ECALayer kwargs, expected k)
ECA_CASES = [
    (4, (1, 4, 7, 9), {}, 1),                                  # (2 + 1) / 2 -> 1, no minimum
    (20, (3, 20, 13, 13), {}, 3),                              # (4.32 + 1) / 2 -> 2 -> 3
    (64, (3, 64, 7, 9), {}, 3),
    (20, (1, 20, 7, 9), {"gamma": 1, "b": 1}, 5),              # 5.32 -> 5
    (64, (1, 64, 7, 9), {"gamma": 1.5, "b": 0.5}, 5),          # 6.5 / 1.5 = 4.33 -> 4 -> 5
    (20, (3, 20, 7, 9), {"kernel_size": 7}, 7),
    (4, (1, 4, 13, 13), {"kernel_size": 7}, 7),                # k > C: padding covers it all
]


@pytest.mark.parametrize("channels, shape, kwargs, k", ECA_CASES)
def test_eca_matches_numpy_reference(parity, rng, channels, shape, kwargs, k):
    block = ECALayer(channels, **kwargs)
    weights = parity.assert_matches_reference(block, ref.eca, shape, rng)
    assert weights["conv.weight"].shape == (1, 1, k)


@pytest.mark.parametrize("channels, k", [(4, 1), (64, 3), (256, 5), (512, 5)])
def test_eca_kernel_size_golden_values(channels, k):
    assert eca_kernel_size(channels) == k
    assert ECALayer(channels).state_dict()["conv.weight"].shape == [1, 1, k]


@pytest.mark.parametrize("gamma, b", [(2, 1), (1, 1), (3, 2), (1.5, 0.5), (2, 0)])
def test_eca_kernel_size_follows_the_paper_for_every_width(gamma, b):
    for channels in range(1, 2049):
        assert eca_kernel_size(channels, gamma, b) == ref.eca_kernel_size(channels, gamma, b), \
            f"C={channels}, gamma={gamma}, b={b}"


def test_eca_weight_format_has_no_bias():
    assert {k: list(v.shape) for k, v in ECALayer(64).state_dict().items()} == {
        "conv.weight": [1, 1, 3]}


@pytest.mark.parametrize("kernel_size", [2, 4])
def test_eca_rejects_even_kernel_size(kernel_size):
    with pytest.raises(ValueError, match=f"ECALayer: kernel_size must be odd, got {kernel_size}"):
        ECALayer(64, kernel_size=kernel_size)


def test_eca_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="input has 32 channels, but the block was built for 64"):
        ECALayer(64)(paddle.zeros([1, 32, 5, 5]))


def test_eca_accepts_float16_input(parity, rng):
    parity.assert_float16_matches(ECALayer(20), ref.eca, (1, 20, 7, 9), rng, ("conv2d", "sigmoid"))


def test_eca_flops_by_hand_on_1x64x4x4():
    # k = 3; mean 1024, the 3-tap conv at 64 channels, sigmoid 64, scale 1024
    assert ECALayer(64).flops([1, 64, 4, 4]) == 1024 + 64 * 3 + 64 + 1024


def test_eca_refuses_identity_init_and_says_why():
    with pytest.raises(ValueError, match="impossible for ECALayer: its conv has no bias"):
        ECALayer(64).init_identity()


def test_gamma_zero_is_named_not_divided_by():
    with pytest.raises(ValueError, match="ECALayer: gamma must be a finite number > 0, got 0"):
        ECALayer(64, gamma=0)


def test_a_b_mapping_to_a_kernel_wider_than_the_channels_is_refused():
    # b=1e9 maps C=64 to k=500000003: a [1, 1, k] weight of 2 GB
    with pytest.raises(ValueError, match=r"gamma=2, b=1000000000.0 map C=64 to kernel_size "
                                         r"500000003, wider than the 2C - 1 = 127 taps"):
        ECALayer(64, b=1e9)
