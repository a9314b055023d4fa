"""Efficient Multi-Scale Attention: per channel group, a 1x1 and a 3x3 branch weight each other."""
from typing import Dict, Sequence, Tuple

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import check_input, check_positive
from .flop_count import conv_flops, numel
from .protocol import AttentionBlock, identity_bias
from .shuffle_attention import group_norm_per_channel


class EfficientMultiScaleAttention(AttentionBlock):
    """Efficient Multi-Scale Attention.

    Ouyang et al., "Efficient Multi-Scale Attention Module with Cross-Spatial Learning",
    ICASSP 2023. https://arxiv.org/abs/2305.13563

    Follows the authors' `EMA` (https://github.com/YOLOonMe/EMA-attention-module/blob/71f92d1/
    EMA_attention_module): x is regrouped to gx = [N factor, g, H, W] with g = C / factor. As in
    Coordinate Attention, mean_w gx ([.., H, 1]) and mean_h gx (transposed to [.., W, 1]) go
    through conv1x1 together and are split at the runtime H; x1 = GN(gx * sigmoid(H part) *
    sigmoid(W part, transposed back)) (GN with one group per channel) and x2 = conv3x3(gx).
    weights = softmax_g(mean_hw x1) @ x2 + softmax_g(mean_hw x2) @ x1 ([.., 1, H, W]) and
    y = gx * sigmoid(weights), reshaped to [N, C, H, W]. The class is not called `EMA`:
    PaddleDetection uses that name for the model's exponential moving average.

    Args:
        channels: C, channels of the input; divisible by `factor`.
        factor: the number of channel groups.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W], L = H + W, M = N factor: 2 N C H W (directional means) + conv1x1 on
    [M, g, L, 1] + N C L (sigmoids) + 2 N C H W (two products) + 5 N C H W (GN) + conv3x3 on
    [M, g, H, W] + 2 N C H W (two spatial means) + 6 N C (softmaxes) + 2 N C H W + M H W (the
    two matrix products, one multiply-add per element, and their sum) + M H W (sigmoid) +
    N C H W (scale).
    """

    def __init__(self, channels: int, factor: int = 32):
        super().__init__()
        check_positive("EfficientMultiScaleAttention", "channels", channels)
        check_positive("EfficientMultiScaleAttention", "factor", factor)
        if channels % factor:
            working = [f for f in range(1, channels + 1) if channels % f == 0]
            raise ValueError(f"EfficientMultiScaleAttention: channels {channels} must be "
                             f"divisible by factor {factor}; factors that divide it: "
                             f"{', '.join(map(str, working))}")
        self.channels, self.factor = channels, factor
        self.group_channels = g = channels // factor
        self.gn = nn.GroupNorm(g, g)
        self.conv1x1 = nn.Conv2D(g, g, 1)
        self.conv3x3 = nn.Conv2D(g, g, 3, padding=1)

    def _weights(self, x: paddle.Tensor) -> Tuple[paddle.Tensor, paddle.Tensor]:
        """Return (gx [N factor, g, H, W], the pre-sigmoid weights [N factor, 1, H, W])."""
        check_input("EfficientMultiScaleAttention", x, self.channels)
        size = paddle.shape(x)          # tensors, so a traced graph follows the runtime H, W
        height = size[2]
        gx = x.reshape([-1, self.group_channels, size[2], size[3]])
        x_h = gx.mean(axis=3, keepdim=True)
        x_w = gx.mean(axis=2, keepdim=True).transpose([0, 1, 3, 2])
        hw = self.conv1x1(paddle.concat([x_h, x_w], axis=2))
        gate_h = F.sigmoid(hw[:, :, :height])
        gate_w = F.sigmoid(hw[:, :, height:].transpose([0, 1, 3, 2]))
        x1 = group_norm_per_channel(gx * gate_h * gate_w, self.gn)
        x2 = self.conv3x3(gx)
        x11 = F.softmax(x1.mean(axis=[2, 3]), axis=1).unsqueeze(1)        # [M, 1, g]
        x21 = F.softmax(x2.mean(axis=[2, 3]), axis=1).unsqueeze(1)
        weights = paddle.matmul(x11, x2.flatten(2)) + paddle.matmul(x21, x1.flatten(2))
        return gx, weights.reshape([0, 1, size[2], size[3]])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        gx, weights = self._weights(x)
        return (gx * F.sigmoid(weights)).reshape(paddle.shape(x))

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'spatial': [N, factor, H, W]}: one gate per group and position."""
        _, weights = self._weights(x)
        size = paddle.shape(x)
        return {"spatial": F.sigmoid(weights).reshape([size[0], self.factor, size[2], size[3]])}

    def init_identity(self) -> None:
        """Zero GN's affine and conv3x3's weight, and set conv3x3's bias so the gate is
        IDENTITY_GATE: x1 = 0 and x2 = b, so weights = mean_g(b) + 0 = b."""
        for param in (self.gn.weight, self.gn.bias, self.conv3x3.weight):
            param.set_value(paddle.zeros_like(param))
        bias = identity_bias(F.sigmoid, "EfficientMultiScaleAttention")
        self.conv3x3.bias.set_value(paddle.full_like(self.conv3x3.bias, bias))

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c, h, w = input_shape
        m, g = n * self.factor, self.group_channels
        elements = numel(input_shape)
        return (2 * elements + conv_flops(self.conv1x1, [m, g, h + w, 1]) + n * c * (h + w)
                + 2 * elements + 5 * elements + conv_flops(self.conv3x3, [m, g, h, w])
                + 2 * elements + 6 * n * c + 2 * elements + m * h * w + m * h * w + elements)
