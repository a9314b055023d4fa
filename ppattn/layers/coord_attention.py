"""Coordinate Attention: gates along H and along W from direction-aware pooled features."""
import math
from typing import Dict, Sequence, Tuple

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import Activation, check_input, check_positive, get_activation
from .flop_count import conv_flops, numel
from .protocol import IDENTITY_GATE, AttentionBlock


def ca_mip(channels: int, reduction: int = 32, min_channels: int = 8) -> int:
    """Return the width of the shared 1x1 conv: mip = max(min_channels, C // reduction)."""
    return max(min_channels, channels // reduction)


class CoordAttention(AttentionBlock):
    """Coordinate Attention.

    Hou et al., "Coordinate Attention for Efficient Mobile Network Design", CVPR 2021.
    https://arxiv.org/abs/2103.02907

    Follows the authors' `CoordAtt`
    (https://github.com/houqb/CoordAttention/blob/a3f3490/coordatt.py): x_h = mean_w x
    ([N, C, H, 1]) and x_w = mean_h x transposed to [N, C, W, 1] are concatenated along axis 2,
    go through conv1, bn1 and act together, and are split back at the runtime H;
    y = x * sigmoid(conv_w(W part, transposed to [N, mip, 1, W])) * sigmoid(conv_h(H part)).
    The authors' h_swish is Paddle's hardswish. Their released MobileNetV2 weights name
    `conv_h` and `conv_w` `conv2` and `conv3`; rename those keys to load them.

    Args:
        channels: C, channels of the input.
        reduction, min_channels: the shared conv has mip = max(min_channels, C // reduction)
            output channels.
        act: the activation after bn1 (a Paddle activation name or a callable).

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W], L = H + W: 2 N C H W (two directional means) + N L (2 C mip + mip)
    (conv1) + 3 N mip L (bn1, act) + N L (mip C + C) (conv_h on H, conv_w on W) + N C L (sigmoids) +
    2 N C H W (two scales).
    """

    def __init__(self, channels: int, reduction: int = 32, min_channels: int = 8,
                 act: Activation = "hardswish"):
        super().__init__()
        check_positive("CoordAttention", "channels", channels)
        check_positive("CoordAttention", "reduction", reduction)
        check_positive("CoordAttention", "min_channels", min_channels)
        self.channels = channels
        self.mip = ca_mip(channels, reduction, min_channels)
        self.conv1 = nn.Conv2D(channels, self.mip, 1)
        self.bn1 = nn.BatchNorm2D(self.mip)   # Paddle momentum 0.9 = torch's default 0.1
        self.act = get_activation(act, "CoordAttention", "act")
        self.conv_h = nn.Conv2D(self.mip, channels, 1)
        self.conv_w = nn.Conv2D(self.mip, channels, 1)

    def gates(self, x: paddle.Tensor) -> Tuple[paddle.Tensor, paddle.Tensor]:
        """Return the gates along H ([N, C, H, 1]) and along W ([N, C, 1, W])."""
        check_input("CoordAttention", x, self.channels)
        height = paddle.shape(x)[2]        # a tensor, so a traced graph splits at the runtime H
        x_h = x.mean(axis=3, keepdim=True)
        x_w = x.mean(axis=2, keepdim=True).transpose([0, 1, 3, 2])
        y = self.act(self.bn1(self.conv1(paddle.concat([x_h, x_w], axis=2))))
        gate_h = F.sigmoid(self.conv_h(y[:, :, :height]))
        # a 1x1 conv commutes with the transpose, so the W part is transposed after conv_w
        gate_w = F.sigmoid(self.conv_w(y[:, :, height:])).transpose([0, 1, 3, 2])
        return gate_h, gate_w

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        gate_h, gate_w = self.gates(x)
        return x * gate_w * gate_h

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'height': [N, C, H, 1], 'width': [N, C, 1, W], 'spatial': [N, C, H, W]}: the two
        gates, and their product, the factor each position of each channel is multiplied by."""
        gate_h, gate_w = self.gates(x)
        return {"height": gate_h, "width": gate_w, "spatial": gate_h * gate_w}

    def init_identity(self) -> None:
        """Zero conv_h's and conv_w's weights and start both gates at sqrt(IDENTITY_GATE), so
        y = IDENTITY_GATE * x for every input."""
        gate = IDENTITY_GATE ** 0.5
        for conv in (self.conv_h, self.conv_w):
            conv.weight.set_value(paddle.zeros_like(conv.weight))
            conv.bias.set_value(paddle.full_like(conv.bias, math.log(gate / (1.0 - gate))))

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c, h, w = input_shape
        length = h + w
        return (2 * numel(input_shape) + conv_flops(self.conv1, [n, c, length, 1])
                + 3 * n * self.mip * length + conv_flops(self.conv_h, [n, self.mip, h, 1])
                + conv_flops(self.conv_w, [n, self.mip, w, 1]) + n * c * length
                + 2 * numel(input_shape))
