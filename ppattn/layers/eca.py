"""Efficient Channel Attention: a 1-D convolution across pooled channels."""
import math
from typing import Optional

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import channel_scale, check_input, check_positive, spatial_mean


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """Return the paper's adaptive kernel size k = odd(|(log2 C + b) / gamma|).

    An even t rounds up to t + 1, as the paper's code does; there is no minimum, so C = 4 gives 1.
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


class ECALayer(nn.Layer):
    """Efficient Channel Attention.

    Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional
    Neural Networks", CVPR 2020. https://arxiv.org/abs/1910.03151

    y = x * sigmoid(conv1d_k(mean_hw(x))), a cross-correlation along channels with zero
    padding (k - 1) / 2 and no bias.

    Args:
        channels: C, channels of the input.
        gamma, b: map C to the kernel size k = odd(|(log2 C + b) / gamma|).
        kernel_size: use this k instead of the mapping; must be odd.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
    """

    def __init__(self, channels: int, gamma: float = 2, b: float = 1,
                 kernel_size: Optional[int] = None):
        super().__init__()
        check_positive("ECALayer", "channels", channels)
        if kernel_size is None:
            kernel_size = eca_kernel_size(channels, gamma, b)
        check_positive("ECALayer", "kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"ECALayer: kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.kernel_size = kernel_size
        self.conv = nn.Conv1D(1, 1, kernel_size, padding=(kernel_size - 1) // 2,
                              bias_attr=False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        check_input("ECALayer", x, self.channels)
        pooled = spatial_mean(x)                      # [N, C]
        # the 1-D conv as a 2-D one over a [N, 1, 1, C] row: Paddle's Conv1D adds transposes
        # and costs several times more; the weight stays `conv.weight` [1, 1, k]
        row = pooled.reshape([0, 1, 1, -1])
        pad = (self.kernel_size - 1) // 2
        scale = F.conv2d(row, self.conv.weight.unsqueeze(2), padding=[0, pad])
        return channel_scale(x, F.sigmoid(scale))     # scale: [N, 1, 1, C]
