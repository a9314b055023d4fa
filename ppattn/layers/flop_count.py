"""The counting rules behind every block's `flops(input_shape)`.

One convention for all blocks, so their numbers compare:
- a conv or linear layer costs its multiply-adds (one per weight use), plus one per output
  element for a bias;
- a reduction (mean, max, sum over an axis) costs one per input element;
- an elementwise op (activation, gate, multiply, add, concat-free reshape costs nothing) costs one
  per output element;
- batch norm in evaluation costs 2 per element (a folded scale and shift); group and layer norm
  cost 5 per element (mean, variance, subtract, divide, affine); softmax costs 3 per element.
"""
from typing import Sequence

import paddle.nn as nn


def numel(shape: Sequence[int]) -> int:
    """Number of elements of a tensor of `shape`."""
    total = 1
    for size in shape:
        total *= int(size)
    return total


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a conv along one axis."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_output_shape(conv: nn.Conv2D, input_shape: Sequence[int]) -> list:
    """[N, C_out, H_out, W_out] of a Conv2D on an [N, C_in, H, W] input."""
    n, _, h, w = (int(d) for d in input_shape)
    kh, kw = conv._kernel_size
    sh, sw = conv._stride
    ph, pw = _pair_padding(conv._padding)
    dh, dw = conv._dilation
    return [n, conv._out_channels, conv_output_size(h, kh, sh, ph, dh),
            conv_output_size(w, kw, sw, pw, dw)]


def conv_flops(conv: nn.Conv2D, input_shape: Sequence[int]) -> int:
    """Multiply-adds (+ bias adds) of a Conv2D on an [N, C_in, H, W] input."""
    kh, kw = conv._kernel_size
    outputs = numel(conv_output_shape(conv, input_shape))
    per_output = (conv._in_channels // conv._groups) * kh * kw
    return outputs * per_output + (outputs if conv.bias is not None else 0)


def linear_flops(linear: nn.Linear, rows: int) -> int:
    """Multiply-adds (+ bias adds) of a Linear layer on `rows` input vectors."""
    in_features, out_features = linear.weight.shape
    return rows * (in_features * out_features + (out_features if linear.bias is not None else 0))


def _pair_padding(padding) -> tuple:
    if isinstance(padding, int):
        return padding, padding
    padding = list(padding)
    if len(padding) == 2:
        return int(padding[0]), int(padding[1])
    if len(padding) == 4:            # [top, bottom, left, right]: count the top/left side twice
        return int(padding[0]), int(padding[2])
    raise ValueError(f"unsupported conv padding {padding!r}")
