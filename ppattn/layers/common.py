"""Pieces every attention block shares: activation lookup, the spatial squeeze and the scale."""
from typing import Callable, Dict, Tuple, Union

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


def _eager_cpu() -> bool:
    """True when ops run one by one on the CPU: no traced graph, no GPU."""
    return paddle.in_dynamic_mode() and paddle.get_device() == "cpu"


_CONSTANTS: Dict[Tuple[str, int, paddle.dtype], paddle.Tensor] = {}


def _constant(kind: str, size: int, dtype: paddle.dtype) -> paddle.Tensor:
    """A cached constant for the eager CPU paths, made once per (kind, size, dtype).

    kind 'mean': the [size, 1] column of 1 / size; 'zeros' and 'ones': [size] vectors.
    """
    key = (kind, size, dtype)
    if key not in _CONSTANTS:
        value = {"mean": 1.0 / size, "zeros": 0.0, "ones": 1.0}[kind]
        shape = [size, 1] if kind == "mean" else [size]
        _CONSTANTS[key] = paddle.full(shape, value, dtype=dtype)
    return _CONSTANTS[key]


def spatial_mean(x: paddle.Tensor) -> paddle.Tensor:
    """Mean over H and W, accumulated in float32 so half-precision inputs keep their precision.

    The pooled vectors stay 2-D through the excitation (`pointwise`, the gate) up to
    `channel_scale`: on the CPU every reshape is a dispatched op worth several microseconds,
    about what the whole excitation costs at the small stage shapes.

    In eager mode on the CPU the mean is a matrix-vector product with a cached 1 / HW column:
    Paddle's CPU reduce-mean is several times slower than its GEMV (1.7 ms vs 0.2 ms for
    1x48x160x160; see tools/benchmark.py). Elsewhere it is Paddle's mean: a traced graph
    (`to_static`, export) gets one plain op and no shape-dependent branch, and on the GPU the
    squeeze stays out of AMP's float16 matmul.

    Shape: [N, C, H, W] -> [N, C], in the dtype of `x`.
    """
    half = x.dtype in (paddle.float16, paddle.bfloat16)
    wide = x.astype("float32") if half else x
    if _eager_cpu():
        batch, channels, height, width = x.shape
        column = _constant("mean", height * width, wide.dtype)
        pooled = paddle.matmul(wide.reshape([-1, height * width]), column)
        pooled = pooled.reshape([batch, channels])
    else:
        pooled = wide.mean(axis=[2, 3])
    return pooled.astype(x.dtype) if half else pooled


def pointwise(conv: nn.Conv2D, pooled: paddle.Tensor) -> paddle.Tensor:
    """Apply a 1x1 `conv` to pooled vectors as one matrix product (same weights).

    Paddle's conv kernel on a 1x1 map costs 2-3x a GEMM; the Conv2D layer stays so the weight
    format (`[C_out, C_in, 1, 1]` + bias) is unchanged.

    Shape: [N, C_in] -> [N, C_out]
    """
    weight = conv.weight.reshape([conv.weight.shape[0], -1])
    y = paddle.matmul(pooled, weight, transpose_y=True)
    return y if conv.bias is None else y + conv.bias


def channel_scale(x: paddle.Tensor, gate: paddle.Tensor) -> paddle.Tensor:
    """Return x * gate, each channel of `x` scaled by its gate value.

    In eager mode on the CPU, for float32 and with no gradient to record (evaluation, inference
    in dygraph), the product runs as Paddle's inference batch norm over N*C channels with mean 0,
    variance 1 and epsilon 0, which computes exactly x * gate (bit for bit) with a per-channel
    kernel: Paddle's CPU broadcast multiply is 1.7-2.5x slower at PP-YOLOE-s stage shapes (84 vs
    50 us at 1x384x20x20, 123 vs 57 us at 1x192x40x40). That batch norm has no working backward
    in Paddle 3.3, so training, traced graphs and the GPU use the multiply.

    Shape: x [N, C, H, W], gate [N, C] (or any shape holding the N*C values in (n, c) order)
    -> [N, C, H, W]
    """
    if _eager_cpu() and x.stop_gradient and gate.stop_gradient and x.dtype == paddle.float32:
        batch, channels, height, width = x.shape
        planes = batch * channels
        zeros, ones = _constant("zeros", planes, x.dtype), _constant("ones", planes, x.dtype)
        scaled = F.batch_norm(x.reshape([1, planes, height, width]), zeros, ones,
                              gate.reshape([planes]), training=False, epsilon=0.0)
        return scaled.reshape([batch, channels, height, width])
    return x * gate.reshape([0, -1, 1, 1])


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
