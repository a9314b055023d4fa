"""Pieces every attention block shares: activation lookup, the spatial squeeze and the scale."""
import math
import numbers
from typing import Callable, Union

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

Activation = Union[str, Callable[[paddle.Tensor], paddle.Tensor]]

_ALIASES = {"swish": "silu"}
_DEFAULT_FLOAT = {"float32": paddle.float32, "float64": paddle.float64,
                  "float16": paddle.float16, "bfloat16": paddle.bfloat16}
_HALF = (paddle.float16, paddle.bfloat16)
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


def _dtype_name(dtype) -> str:
    return str(dtype).replace("paddle.", "")


def spatial_mean(x: paddle.Tensor) -> paddle.Tensor:
    """Mean over H and W, accumulated in float32 so half-precision inputs keep their precision.

    Computed as a global average pool, not `x.mean(axis=[2, 3])`: the same values, but Paddle
    3.3's CPU forward + backward of the mean is 6-9x slower (15.6 ms against 1.9 ms for
    8x96x32x32), and Paddle Inference runs the mean with oneDNN's reference reduction on the
    channels-last tensors its convs leave (40 ms for 1x48x160x160, 1.2x PP-YOLOE-s's whole time
    with SE at every stage), where the pool has a fast kernel.
    The pooled vectors stay 2-D through the excitation (`pointwise`, the gate): one matrix product
    per FC instead of a conv on 1x1 maps.

    Shape: [N, C, H, W] -> [N, C], in the dtype of `x`.
    """
    half = x.dtype in (paddle.float16, paddle.bfloat16)
    pooled = F.adaptive_avg_pool2d(x.astype("float32") if half else x, 1).reshape([0, -1])
    return pooled.astype(x.dtype) if half else pooled


def spatial_max(x: paddle.Tensor) -> paddle.Tensor:
    """Max over H and W, as a global max pool.

    Same values and gradients as `x.max(axis=[2, 3])`, but Paddle 3.3's CPU backward of that
    reduction takes seconds (8.4 s for 2x48x40x40, against 0.3 ms for the pool).

    Shape: [N, C, H, W] -> [N, C]
    """
    return F.adaptive_max_pool2d(x, 1).reshape([0, -1])


def max_along(x: paddle.Tensor, axis: int) -> paddle.Tensor:
    """Max over one axis, kept with size 1, as the top-1 along it.

    Same values and gradients as `x.max(axis=axis, keepdim=True)`, whose CPU backward Paddle 3.3
    runs 10-20x slower; the axis may be one whose size is known only at run time.

    Shape: e.g. axis 1: [N, C, H, W] -> [N, 1, H, W]
    """
    return paddle.topk(x, 1, axis=axis)[0]


def pointwise(conv: nn.Conv2D, pooled: paddle.Tensor) -> paddle.Tensor:
    """Apply a 1x1 `conv` to pooled vectors as one matrix product (same weights).

    Paddle's conv kernel on a 1x1 map costs 2-3x a GEMM; the Conv2D layer stays so the weight
    format (`[C_out, C_in, 1, 1]` + bias) is unchanged.

    Shape: [N, C_in] -> [N, C_out]
    """
    weight = conv.weight.reshape([conv.weight.shape[0], -1])
    y = _matmul_transposed(pooled, weight)
    return y if conv.bias is None else y + conv.bias


def dense(linear: nn.Linear, x: paddle.Tensor) -> paddle.Tensor:
    """`linear(x)` for [N, in] inputs, with an inner dimension of 1 as in `pointwise`.

    Shape: [N, in_features] -> [N, out_features]
    """
    if linear.weight.shape[0] != 1:   # Paddle's Linear weight is [in_features, out_features]
        return linear(x)
    y = x * linear.weight
    return y if linear.bias is None else y + linear.bias


def _matmul_transposed(x: paddle.Tensor, weight: paddle.Tensor) -> paddle.Tensor:
    """x @ weight.T for [N, K] x and [M, K] weight.

    An inner dimension K of 1 (a bottleneck of width 1) is an outer product, done as a broadcast
    multiply: the same values, and no K=1 matrix product for Paddle Inference to hand to oneDNN,
    whose fused K=1 matmul gave wrong values on AVX-512 CPUs (ppattn.deploy.paddle_inference).
    """
    if weight.shape[1] == 1:
        return x * weight.reshape([1, -1])
    return paddle.matmul(x, weight, transpose_y=True)


def channel_scale(x: paddle.Tensor, gate: paddle.Tensor) -> paddle.Tensor:
    """Return x * gate, each channel of `x` scaled by its gate value.

    Shape: x [N, C, H, W], gate [N, C] (or any shape holding the N*C values in (n, c) order)
    -> [N, C, H, W]
    """
    return x * gate.reshape([0, -1, 1, 1])


def check_positive(owner: str, argument: str, value: int) -> None:
    """Raise a ValueError naming `argument` unless `value` is a positive integer (a NumPy
    integer such as numpy.int64 counts; a bool does not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: {argument} must be a positive int, got {value!r} "
                         f"({type(value).__name__})")


def check_positive_number(owner: str, argument: str, value: float) -> None:
    """Raise a ValueError naming `argument` unless `value` is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}: {argument} must be a finite number > 0, got {value!r}")


def check_flag(owner: str, argument: str, value: bool) -> None:
    """Raise a TypeError naming `argument` unless `value` is True or False: a string such as
    'no' would otherwise count as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {argument} must be True or False, got {value!r} "
                        f"({type(value).__name__})")


def check_input(owner: str, x: paddle.Tensor, channels: int) -> None:
    """Raise a ValueError unless `x` is a floating-point [N, channels, H, W] tensor with H and
    W above 0, in the default float type or a half type (AMP); unknown (-1) dims pass."""
    if len(x.shape) != 4:
        raise ValueError(f"{owner}: expected an NCHW input of rank 4, got shape {list(x.shape)}")
    if x.shape[1] not in (channels, -1):
        raise ValueError(
            f"{owner}: input has {x.shape[1]} channels, but the block was built for {channels}"
        )
    if not paddle.in_dynamic_mode():
        return  # traced shapes hold tensors for dynamic dims; a graph has no empty input
    if 0 in x.shape:
        raise ValueError(f"{owner}: input of shape {list(x.shape)} is empty; N, H and W must "
                         f"be at least 1")
    if x.dtype not in (_DEFAULT_FLOAT[paddle.get_default_dtype()], *_HALF):
        raise ValueError(f"{owner}: input dtype {_dtype_name(x.dtype)} does not fit the block's "
                         f"{paddle.get_default_dtype()} weights; accepted: "
                         f"{paddle.get_default_dtype()}, float16, bfloat16 (cast with "
                         f"x.astype('{paddle.get_default_dtype()}'))")
