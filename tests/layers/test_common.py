"""The shared squeeze and scale helpers: their fast eager CPU paths give the plain ops' numbers."""
import numpy as np
import paddle
import pytest

from ppattn.layers.common import channel_scale, spatial_mean


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (3, 16, 9, 11)])
def test_spatial_mean_is_the_mean_over_h_and_w(shape, parity, rng):
    x = parity.random_input(rng, shape)
    got = spatial_mean(paddle.to_tensor(x, "float32"))
    assert got.shape == list(shape[:2])
    parity.assert_close(got.numpy(), x.mean(axis=(2, 3)))


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (3, 16, 9, 11)])
@pytest.mark.parametrize("gate_shape", ["n_c", "n_1_1_c", "n_c_1_1"])
def test_channel_scale_without_gradient_is_exactly_the_multiply(shape, gate_shape, rng):
    n, c = shape[:2]
    x = paddle.to_tensor(rng.normal(size=shape), "float32")
    gate = paddle.to_tensor(rng.uniform(size=(n, c)), "float32")
    want = (x * gate.reshape([n, c, 1, 1])).numpy()
    as_given = {"n_c": [n, c], "n_1_1_c": [n, 1, 1, c], "n_c_1_1": [n, c, 1, 1]}[gate_shape]
    with paddle.no_grad():
        got = channel_scale(x, gate.reshape(as_given))
    np.testing.assert_array_equal(got.numpy(), want)


def test_channel_scale_with_gradient_gives_the_multiply_gradients(rng):
    x_np, gate_np = rng.normal(size=(2, 6, 5, 4)), rng.uniform(size=(2, 6))
    dy = paddle.to_tensor(rng.normal(size=(2, 6, 5, 4)), "float32")
    results = []
    for scale in (channel_scale, lambda x, g: x * g.reshape([2, 6, 1, 1])):
        x = paddle.to_tensor(x_np, "float32", stop_gradient=False)
        gate = paddle.to_tensor(gate_np, "float32", stop_gradient=False)
        y = scale(x, gate)
        (y * dy).sum().backward()
        results.append([y.numpy(), x.grad.numpy(), gate.grad.numpy()])
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)


def test_channel_scale_keeps_float64(rng):
    x = paddle.to_tensor(rng.normal(size=(2, 3, 4, 5)), "float64")
    gate = paddle.to_tensor(rng.uniform(size=(2, 3)), "float64")
    with paddle.no_grad():
        got = channel_scale(x, gate)
    assert got.dtype == paddle.float64
    np.testing.assert_array_equal(got.numpy(), x.numpy() * gate.numpy()[:, :, None, None])
