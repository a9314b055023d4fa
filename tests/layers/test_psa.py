"""PSAModule against float64 NumPy (EPSANet, authors' branch order), weight format and errors."""
import numpy as np
import paddle
import pytest

import numpy_reference as ref
from ppattn.layers import PSAModule

# (in_channels, input shape, PSAModule kwargs)
PSA_CASES = {
    "default-kernels-groups": (16, (1, 16, 7, 9), {"out_channels": 64}),
    "default-stride2": (16, (3, 16, 13, 13), {"out_channels": 64, "stride": 2}),
    "in-equals-out": (64, (1, 64, 7, 9), {"out_channels": 64}),
    "custom-kernels": (8, (3, 8, 7, 9), {"out_channels": 16, "conv_kernels": (1, 3, 5, 7),
                                         "conv_groups": (1, 2, 2, 4), "reduction": 2}),
    "custom-stride2": (8, (3, 8, 7, 9), {"out_channels": 32, "stride": 2,
                                         "conv_groups": (1, 2, 4, 8), "reduction": 4}),
    "wide-in-narrow-out": (20, (1, 20, 13, 13), {"out_channels": 8, "conv_kernels": (3, 3, 5, 5),
                                                 "conv_groups": (1, 2, 2, 2), "reduction": 1}),
}


@pytest.mark.parametrize("in_channels, shape, kwargs", PSA_CASES.values(), ids=PSA_CASES.keys())
def test_psa_matches_numpy_reference(parity, rng, in_channels, shape, kwargs):
    block = PSAModule(in_channels, **kwargs)
    geometry = {k: v for k, v in kwargs.items() if k in ("conv_kernels", "conv_groups", "stride")}
    weights = parity.random_weights(block, rng)
    parity.load_weights(block, weights)
    x = parity.random_input(rng, shape)
    feats = ref.psa_branches(x, weights, **geometry)
    want = ref.psa_head(feats, weights)
    r = parity.float32_exact(rng.normal(size=want.shape))
    y, dx = parity.forward_backward(block, x, r)
    parity.assert_close(y, want, "output")
    # Central differences through the convs cost minutes, so they stop at the branch features F;
    # the linear convs are then undone exactly by their adjoint (checked below).
    feats_grad = parity.central_difference_grad(lambda f: ref.psa_head(f, weights), feats, r)
    parity.assert_close(dx, ref.psa_input_grad(feats_grad, weights, x.shape, **geometry),
                        "input gradient")


@pytest.mark.parametrize("stride", [1, 2])
def test_tiny_psa_matches_numpy_reference_differenced_end_to_end(parity, rng, stride):
    # small enough to difference through the convs too, so no hand-written backward is involved
    geometry = {"conv_kernels": (1, 3, 3, 5), "conv_groups": (1, 1, 2, 2), "stride": stride}
    block = PSAModule(4, 8, reduction=1, **geometry)
    parity.assert_matches_reference(block, ref.psa, (1, 4, 7, 9), rng, **geometry)


@pytest.mark.parametrize("stride, padding, groups", [(1, 1, 1), (2, 2, 2), (2, 0, 4)])
def test_reference_conv_input_grad_is_the_adjoint_of_conv(rng, stride, padding, groups):
    # <conv(x), g> == <x, conv^T(g)> for every x, g: the identity that defines the adjoint
    x = rng.normal(size=(2, 8, 7, 9))
    weight = rng.normal(size=(4, 8 // groups, 3, 5))
    out = ref.conv2d(x, weight, stride=stride, padding=padding, groups=groups)
    g = rng.normal(size=out.shape)
    back = ref.conv2d_input_grad(g, weight, x.shape, stride=stride, padding=padding,
                                 groups=groups)
    np.testing.assert_allclose((out * g).sum(), (x * back).sum(), rtol=1e-12)


@pytest.mark.parametrize("stride, height, width, out_h, out_w", [
    (1, 7, 9, 7, 9), (2, 7, 9, 4, 5), (2, 13, 13, 7, 7), (2, 8, 10, 4, 5)])
def test_psa_output_shape_follows_the_stride(stride, height, width, out_h, out_w):
    block = PSAModule(16, 64, stride=stride)
    assert block(paddle.zeros([3, 16, height, width])).shape == [3, 64, out_h, out_w]


def test_psa_weight_format():
    shapes = {k: list(v.shape) for k, v in PSAModule(64, 64).state_dict().items()}
    assert shapes == {
        "conv_1.weight": [16, 64, 3, 3], "conv_2.weight": [16, 16, 5, 5],
        "conv_3.weight": [16, 8, 7, 7], "conv_4.weight": [16, 4, 9, 9],
        "se.fc1.weight": [1, 16, 1, 1], "se.fc1.bias": [1],
        "se.fc2.weight": [16, 1, 1, 1], "se.fc2.bias": [16]}


@pytest.mark.parametrize("out_channels", [30, 66])
def test_psa_rejects_out_channels_not_divisible_by_four(out_channels):
    with pytest.raises(ValueError, match=f"PSAModule: out_channels must be divisible by 4, "
                                         f"got {out_channels}"):
        PSAModule(64, out_channels)


@pytest.mark.parametrize("in_channels, out_channels, groups, bad", [
    (12, 64, (1, 4, 8, 16), 8),          # 8 does not divide in_channels 12
    (64, 32, (1, 4, 8, 16), 16),         # 16 does not divide out_channels / 4 = 8
])
def test_psa_rejects_groups_that_do_not_divide(in_channels, out_channels, groups, bad):
    with pytest.raises(ValueError, match=rf"PSAModule: conv_groups entry {bad} must divide "
                                         rf"in_channels \({in_channels}\) and out_channels / 4"):
        PSAModule(in_channels, out_channels, conv_groups=groups, reduction=1)


def test_psa_rejects_reduction_larger_than_a_branch():
    with pytest.raises(ValueError, match=r"PSAModule: out_channels / 4 \(8\) must be at least "
                                         r"reduction \(16\)"):
        PSAModule(32, 32, conv_groups=(1, 2, 4, 8))


@pytest.mark.parametrize("argument", ["conv_kernels", "conv_groups"])
def test_psa_rejects_a_wrong_number_of_branches(argument):
    with pytest.raises(ValueError,
                       match=rf"PSAModule: {argument} needs 4 entries, got \[1, 1, 1\]"):
        PSAModule(16, 64, **{argument: (1, 1, 1)})


def test_psa_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="input has 32 channels, but the block was built for 16"):
        PSAModule(16, 64)(paddle.zeros([1, 32, 7, 7]))


def test_psa_accepts_float16_input(parity, rng):
    block = PSAModule(8, 16, conv_groups=(1, 2, 2, 4), reduction=2)
    parity.assert_float16_matches(block, ref.psa, (1, 8, 7, 9), rng,
                                  ("conv2d", "sigmoid", "softmax"), conv_groups=(1, 2, 2, 4))


def test_stride_2_flops_equal_those_at_the_output_size():
    # the branch convs cost per output, so [1, 64, 8, 8] at stride 2 costs what 4x4 does at 1
    # (hand-counted in tests/test_summary.py)
    assert PSAModule(64, stride=2).flops([1, 64, 8, 8]) == PSAModule(64).flops([1, 64, 4, 4])


def test_branch_weights_sum_to_one_over_the_branches():
    maps = PSAModule(64).attention_maps(paddle.randn([2, 64, 4, 4]))
    assert maps["branch"].shape == [2, 4, 16, 1, 1]
    np.testing.assert_allclose(maps["branch"].sum(axis=1).numpy(), 1.0, rtol=1e-6)


def test_psa_refuses_identity_init():
    with pytest.raises(ValueError, match="not meaningful for PSAModule, which replaces a conv"):
        PSAModule(64).init_identity()


def test_an_even_kernel_is_refused_when_built():
    with pytest.raises(ValueError, match=r"PSAModule: conv_kernels must be odd .* got "
                                         r"\[3, 4, 5, 7\]"):
        PSAModule(64, conv_kernels=(3, 4, 5, 7))
