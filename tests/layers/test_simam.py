"""SimAM against a float64 NumPy restatement of the authors' code, the 1x1 map, errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS
from ppattn.layers import SimAM

sigmoid = ACTIVATIONS["sigmoid"]


def simam(x, w, e_lambda=1e-4):
    """Yang et al., ICML 2021, as ZjjConan/SimAM simam_module computes it.

    n = H W - 1; d = (x - mean_hw x)^2; y = x * sigmoid(d / (4 (sum_hw d / n + lambda)) + 0.5).
    """
    n = x.shape[2] * x.shape[3] - 1
    d = (x - x.mean(axis=(2, 3), keepdims=True)) ** 2
    return x * sigmoid(d / (4 * (d.sum(axis=(2, 3), keepdims=True) / n + e_lambda)) + 0.5)


@pytest.mark.parametrize("channels, shape, e_lambda", [
    (8, (1, 8, 7, 9), 1e-4), (16, (3, 16, 13, 13), 1e-4), (4, (3, 4, 7, 9), 0.5),
    (4, (1, 4, 1, 2), 1e-4)])
def test_simam_matches_numpy_reference(parity, rng, channels, shape, e_lambda):
    parity.assert_matches_reference(SimAM(channels, e_lambda=e_lambda), simam, shape, rng,
                                    e_lambda=e_lambda)


def test_simam_on_a_1x1_map_gates_by_sigmoid_of_one_half(parity, rng):
    # the authors' n = H W - 1 is 0 there (NaN); ours is clamped to 1, so d = 0 gives 0.5
    x = parity.random_input(rng, (3, 8, 1, 1))
    xt = paddle.to_tensor(x.astype("float32"), stop_gradient=False)
    y = SimAM(8)(xt)
    np.testing.assert_allclose(y.numpy(), sigmoid(0.5) * x, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), np.full(x.shape, sigmoid(0.5)), rtol=1e-6)


def test_simam_has_no_parameters_and_refuses_identity_init():
    block = SimAM(16)
    assert block.state_dict() == {} and not block.parameters()
    with pytest.raises(ValueError, match="SimAM has no identity initialisation: it has no "
                                         "parameters"):
        block.init_identity()


def test_simam_attention_map_is_the_gate_of_the_forward_pass(parity, rng):
    x = paddle.to_tensor(parity.random_input(rng, (3, 8, 7, 9)).astype("float32"))
    gate = SimAM(8).attention_maps(x)["spatial"]
    assert gate.shape == [3, 8, 7, 9]
    parity.assert_close(SimAM(8)(x).numpy(), (x * gate).numpy())
    assert float(gate.min()) >= sigmoid(0.5) - 1e-6


def test_simam_flops_follow_the_counting_rules():
    assert SimAM(8).flops([2, 8, 5, 7]) == 8 * 2 * 8 * 5 * 7


@pytest.mark.parametrize("e_lambda", [0, -1e-4, "small", True])
def test_simam_rejects_a_non_positive_lambda(e_lambda):
    with pytest.raises(ValueError, match=f"SimAM: e_lambda must be a positive number, "
                                         f"got {e_lambda!r}"):
        SimAM(8, e_lambda=e_lambda)


def test_simam_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="SimAM: input has 4 channels, but the block was built "
                                         "for 8"):
        SimAM(8)(paddle.zeros([1, 4, 5, 5]))
