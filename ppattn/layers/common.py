"""Pieces every attention block shares: activation lookup and the spatial squeeze."""
from typing import Callable, Union

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

Activation = Union[str, Callable[[paddle.Tensor], paddle.Tensor]]

_ALIASES = {"swish": "silu"}
_ACTIVATIONS = {
    "relu": F.relu,
    "relu6": F.relu6,
    "leaky_relu": F.leaky_relu,
    "sigmoid": F.sigmoid,
    "hardsigmoid": F.hardsigmoid,
    "silu": F.silu,
    "hardswish": F.hardswish,
    "gelu": F.gelu,
    "mish": F.mish,
    "tanh": F.tanh,
    "softsign": F.softsign,
    "identity": lambda x: x,
}


def get_activation(act: Activation, owner: str, argument: str) -> Callable:
    """Return the function named by `act` (a Paddle activation name) or `act` itself if callable.

    Paddle's `hardsigmoid` is used as is: slope 1/6, offset 0.5, as PP-YOLOE trains it.
    """
    if callable(act):
        return act
    if isinstance(act, str):
        key = _ALIASES.get(act.lower(), act.lower())
        if key in _ACTIVATIONS:
            return _ACTIVATIONS[key]
    known = ", ".join(sorted(set(_ACTIVATIONS) | set(_ALIASES)))
    raise ValueError(f"{owner}: unknown {argument} {act!r}; known: {known}, or a callable")


def spatial_mean(x: paddle.Tensor) -> paddle.Tensor:
    """Mean over H and W, accumulated in float32 so half-precision inputs keep their precision.

    In eager mode on the CPU the mean is a matrix-vector product with a 1 / HW vector: Paddle's
    CPU reduce-mean is several times slower than its GEMV (1.7 ms vs 0.2 ms for 1x48x160x160;
    see tools/benchmark.py). Elsewhere it is Paddle's mean: a traced graph (`to_static`, export)
    gets one plain op and no shape-dependent branch, and on the GPU the squeeze stays out of
    AMP's float16 matmul.

    Shape: [N, C, H, W] -> [N, C, 1, 1], in the dtype of `x`.
    """
    half = x.dtype in (paddle.float16, paddle.bfloat16)
    wide = x.astype("float32") if half else x
    if paddle.in_dynamic_mode() and paddle.get_device() == "cpu":
        _, channels, height, width = x.shape
        weights = paddle.full([height * width, 1], 1.0 / (height * width), dtype=wide.dtype)
        pooled = paddle.matmul(wide.reshape([-1, height * width]), weights)
        pooled = pooled.reshape([-1, channels, 1, 1])
    else:
        pooled = wide.mean(axis=[2, 3], keepdim=True)
    return pooled.astype(x.dtype) if half else pooled


def pointwise(conv: nn.Conv2D, pooled: paddle.Tensor) -> paddle.Tensor:
    """Apply a 1x1 `conv` to a [N, C_in, 1, 1] map as one matrix product (same weights).

    Paddle's conv kernel on a 1x1 map costs 2-3x a GEMM; the Conv2D layer stays so the weight
    format (`[C_out, C_in, 1, 1]` + bias) is unchanged.

    Shape: [N, C_in, 1, 1] -> [N, C_out, 1, 1]
    """
    out_channels = conv.weight.shape[0]
    weight = conv.weight.reshape([out_channels, -1])
    y = paddle.matmul(pooled.reshape([-1, weight.shape[1]]), weight, transpose_y=True)
    if conv.bias is not None:
        y = y + conv.bias
    return y.reshape([-1, out_channels, 1, 1])


def check_positive(owner: str, argument: str, value: int) -> None:
    """Raise a ValueError naming `argument` unless `value` is a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {argument} must be a positive int, got {value!r}")


def check_input(owner: str, x: paddle.Tensor, channels: int) -> None:
    """Raise a ValueError unless `x` is [N, channels, H, W]; unknown (-1) dims pass."""
    if len(x.shape) != 4:
        raise ValueError(f"{owner}: expected an NCHW input of rank 4, got shape {list(x.shape)}")
    if x.shape[1] not in (channels, -1):
        raise ValueError(
            f"{owner}: input has {x.shape[1]} channels, but the block was built for {channels}"
        )
