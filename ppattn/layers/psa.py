"""Pyramid Split Attention, the multi-scale block of EPSANet."""
from typing import Dict, Optional, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import check_input, check_positive
from .flop_count import conv_flops, conv_output_shape, numel
from .protocol import AttentionBlock
from .se import SELayer

_BRANCHES = 4


def _check_divisible(in_channels: int, out_channels: int, conv_groups: Sequence[int],
                     reduction: int) -> None:
    if out_channels % _BRANCHES:
        raise ValueError(f"PSAModule: out_channels must be divisible by {_BRANCHES}, "
                         f"got {out_channels}")
    split = out_channels // _BRANCHES
    for groups in conv_groups:
        check_positive("PSAModule", "conv_groups entry", groups)
        if in_channels % groups or split % groups:
            raise ValueError(f"PSAModule: conv_groups entry {groups} must divide in_channels "
                             f"({in_channels}) and out_channels / 4 ({split})")
    if split // reduction < 1:
        raise ValueError(f"PSAModule: out_channels / 4 ({split}) must be at least "
                         f"reduction ({reduction})")


class PSAModule(AttentionBlock):
    """Pyramid Split Attention.

    Zhang et al., "EPSANet: An Efficient Pyramid Squeeze Attention Block on Convolutional
    Neural Network", arXiv 2021. https://arxiv.org/abs/2105.14447

    Branch i is a conv of kernel k_i and groups g_i (padding k_i // 2, the given stride) with
    out / 4 channels. One SE module, shared by all branches, scores each branch; a softmax over
    the four branches, per channel, weights them. The weighted branches are concatenated in
    reverse order (4, 3, 2, 1), as the authors' code does
    (https://github.com/murufeng/EPSANet/blob/8f502931eda70e3770bbc0cb07d6d60082b27094/models/epsanet.py),
    so their published weights load unchanged.

    Args:
        in_channels: C_in, channels of the input.
        out_channels: C_out, divisible by 4; defaults to C_in.
        conv_kernels: the four kernel sizes.
        stride: stride of every branch conv.
        conv_groups: the four group counts; each divides C_in and C_out / 4.
        reduction: the shared SE maps C_out / 4 -> C_out / 4 // reduction -> C_out / 4.

    Shape:
        x: [N, C_in, H, W] -> [N, C_out, ceil(H / stride), ceil(W / stride)]
        attention_maps(x): {'branch': [N, 4, C_out / 4, 1, 1]}, the softmax weight of each
        branch (in branch order 1..4) per channel.
    """

    replaces_conv = True

    def __init__(self, in_channels: int, out_channels: Optional[int] = None,
                 conv_kernels: Sequence[int] = (3, 5, 7, 9), stride: int = 1,
                 conv_groups: Sequence[int] = (1, 4, 8, 16), reduction: int = 16):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("stride", stride), ("reduction", reduction)):
            check_positive("PSAModule", name, value)
        for name, value in (("conv_kernels", conv_kernels), ("conv_groups", conv_groups)):
            if len(value) != _BRANCHES:
                raise ValueError(f"PSAModule: {name} needs {_BRANCHES} entries, got {list(value)}")
        _check_divisible(in_channels, out_channels, conv_groups, reduction)
        self.in_channels, self.out_channels = in_channels, out_channels
        split = out_channels // _BRANCHES
        for i, (kernel, groups) in enumerate(zip(conv_kernels, conv_groups), start=1):
            check_positive("PSAModule", "conv_kernels entry", kernel)
            if kernel % 2 == 0:
                raise ValueError(f"PSAModule: conv_kernels must be odd (padding k // 2 keeps the "
                                 f"size only for odd k), got {list(conv_kernels)}")
            self.add_sublayer(f"conv_{i}", nn.Conv2D(
                in_channels, split, kernel, stride=stride, padding=kernel // 2, groups=groups,
                bias_attr=False))
        self.se = SELayer(split, reduction=reduction)

    def _branches_and_weights(self, x: paddle.Tensor):
        check_input("PSAModule", x, self.in_channels)
        convs = (self.conv_1, self.conv_2, self.conv_3, self.conv_4)
        branches = paddle.stack([conv(x) for conv in convs], axis=1)        # [N, 4, C/4, H, W]
        scores = self.se.scale(branches.flatten(0, 1))                      # [N*4, C/4, 1, 1]
        weights = F.softmax(scores.reshape([-1, _BRANCHES, self.out_channels // _BRANCHES, 1, 1]),
                            axis=1)
        return branches, weights

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        branches, weights = self._branches_and_weights(x)
        weighted = branches * weights                                       # [N, 4, C/4, H, W]
        return weighted.flip(axis=1).flatten(1, 2)                          # order 4, 3, 2, 1

    def flops(self, input_shape: Sequence[int]) -> int:
        convs = (self.conv_1, self.conv_2, self.conv_3, self.conv_4)
        branch = conv_output_shape(self.conv_1, input_shape)               # [N, C/4, H', W']
        se = self.se.scale_flops([branch[0] * _BRANCHES, *branch[1:]])
        weights = branch[0] * self.out_channels
        # convs, the shared SE's scores, softmax at 3 per weight, the weighting multiply
        return (sum(conv_flops(conv, input_shape) for conv in convs) + se + 3 * weights +
                _BRANCHES * numel(branch))

    def init_identity(self) -> None:
        raise ValueError("init 'identity' is not meaningful for PSAModule, which replaces a conv "
                         "rather than gating one")

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        return {"branch": self._branches_and_weights(x)[1]}
