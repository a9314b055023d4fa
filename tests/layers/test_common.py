"""The shared squeeze and scale helpers, and that the channel blocks squeeze through them."""
import numpy as np
import paddle
import pytest

import ppattn.layers.eca
import ppattn.layers.gather_excite
import ppattn.layers.se
from ppattn import build_attention
from ppattn.layers.common import channel_scale, spatial_mean

SQUEEZING = (ppattn.layers.se, ppattn.layers.eca, ppattn.layers.gather_excite)


@pytest.fixture
def squeezes(monkeypatch):
    """Record the dtype of every tensor the blocks squeeze, still squeezing it as before."""
    seen = []

    def spy(x):
        seen.append(x.dtype)
        return spatial_mean(x)
    for module in SQUEEZING:
        monkeypatch.setattr(module, "spatial_mean", spy)
    return seen


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (3, 16, 9, 11)])
def test_spatial_mean_is_the_mean_over_h_and_w(shape, parity, rng):
    x = parity.random_input(rng, shape)
    got = spatial_mean(paddle.to_tensor(x, "float32"))
    assert got.shape == list(shape[:2])
    parity.assert_close(got.numpy(), x.mean(axis=(2, 3)))


def test_spatial_mean_of_float16_is_accumulated_in_float32(rng):
    x = (1000 + rng.normal(size=(1, 2, 64, 64))).astype("float16")   # sum ~ 4e6 > float16 max
    y = spatial_mean(paddle.to_tensor(x))
    assert y.dtype == paddle.float16
    want = x.astype(np.float32).mean(axis=(2, 3)).astype(np.float16)
    np.testing.assert_array_equal(y.numpy(), want)


@pytest.mark.parametrize("spec", ["se", {"name": "se", "fc": "linear"}, "ese", "eca", "ge",
                                  {"name": "psa", "reduction": 4}], ids=str)
def test_channel_blocks_squeeze_through_spatial_mean(spec, squeezes):
    # the float32 accumulation above then holds for every block under AMP
    block = build_attention(spec, 64)
    block(paddle.randn([2, 64, 4, 4]))
    assert squeezes == [paddle.float32]


@pytest.mark.parametrize("gate_shape", ["n_c", "n_1_1_c", "n_c_1_1"])
def test_channel_scale_is_the_broadcast_multiply(gate_shape, rng):
    n, c = 3, 16
    x = paddle.to_tensor(rng.normal(size=(n, c, 9, 11)), "float32")
    gate = paddle.to_tensor(rng.uniform(size=(n, c)), "float32")
    as_given = {"n_c": [n, c], "n_1_1_c": [n, 1, 1, c], "n_c_1_1": [n, c, 1, 1]}[gate_shape]
    got = channel_scale(x, gate.reshape(as_given))
    np.testing.assert_array_equal(got.numpy(), (x * gate.reshape([n, c, 1, 1])).numpy())


@pytest.mark.parametrize("shape", [[1, 8, 0, 4], [1, 8, 4, 0], [0, 8, 4, 4]])
def test_an_empty_input_is_named_not_divided_by(shape):
    block = build_attention("eca", 8)
    with pytest.raises(ValueError, match=r"ECALayer: input of shape \[.*\] is empty; N, H and W "
                                         r"must be at least 1"):
        block(paddle.zeros(shape))


@pytest.mark.parametrize("dtype", ["float64", "int32", "int64"])
def test_an_input_of_another_dtype_names_the_accepted_ones(dtype):
    block = build_attention("se", 8)
    with pytest.raises(ValueError, match=f"SELayer: input dtype {dtype} does not fit the "
                                         f"block's float32 weights; accepted: float32, float16, "
                                         f"bfloat16"):
        block(paddle.zeros([1, 8, 4, 4], dtype=dtype))


@pytest.mark.parametrize("spec", [{"name": "cbam", "spatial": "no"},
                                  {"name": "triplet", "spatial": "false"},
                                  {"name": "ge", "use_mlp": "no"},
                                  {"name": "ge", "add_maxpool": 1}])
def test_a_string_or_number_is_not_taken_as_a_flag(spec):
    key = [k for k in spec if k != "name"][0]
    with pytest.raises(TypeError, match=f"{key} must be True or False, got {spec[key]!r}"):
        build_attention(spec, 64)


@pytest.mark.parametrize("name", ["se", "eca", "ge", "cbam"])
def test_a_numpy_integer_channel_count_is_accepted(name):
    block = build_attention(name, np.int64(64))
    assert block(paddle.randn([1, 64, 4, 4])).shape == [1, 64, 4, 4]
