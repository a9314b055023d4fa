"""Efficient Channel Attention: a 1-D convolution across pooled channels."""
import math
import numbers
from typing import Dict, Optional, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import check_input, check_positive, check_positive_number, spatial_mean
from .flop_count import numel
from .protocol import AttentionBlock


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """Return the paper's adaptive kernel size k = odd(|(log2 C + b) / gamma|).

    An even t rounds up to t + 1, as the paper's code does; there is no minimum, so C = 4 gives 1.
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


def _mapped_kernel_size(channels: int, gamma: float, b: float) -> int:
    """`eca_kernel_size`, refusing a gamma or b that divides by zero or maps C to a kernel wider
    than the 2C - 1 taps that can reach a channel (b=1e9 would allocate gigabytes)."""
    check_positive_number("ECALayer", "gamma", gamma)
    if isinstance(b, bool) or not isinstance(b, numbers.Real) or not math.isfinite(b):
        raise ValueError(f"ECALayer: b must be a finite number, got {b!r}")
    kernel_size = eca_kernel_size(channels, gamma, b)
    if kernel_size > 2 * channels - 1:
        raise ValueError(f"ECALayer: gamma={gamma!r}, b={b!r} map C={channels} to kernel_size "
                         f"{kernel_size}, wider than the 2C - 1 = {2 * channels - 1} taps that "
                         f"can reach a channel; use gamma and b near the paper's (2, 1) or pass "
                         f"kernel_size")
    return kernel_size


class ECALayer(AttentionBlock):
    """Efficient Channel Attention.

    Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional
    Neural Networks", CVPR 2020. https://arxiv.org/abs/1910.03151

    y = x * sigmoid(conv1d_k(mean_hw(x))), a cross-correlation along channels with zero
    padding (k - 1) / 2 and no bias.

    Args:
        channels: C, channels of the input.
        gamma, b: map C to the kernel size k = odd(|(log2 C + b) / gamma|); gamma > 0, and a
            k wider than the 2C - 1 taps that can reach a channel is refused.
        kernel_size: use this k instead of the mapping; must be odd.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
    """

    def __init__(self, channels: int, gamma: float = 2, b: float = 1,
                 kernel_size: Optional[int] = None):
        super().__init__()
        check_positive("ECALayer", "channels", channels)
        if kernel_size is None:
            kernel_size = _mapped_kernel_size(channels, gamma, b)
        check_positive("ECALayer", "kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"ECALayer: kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.kernel_size = kernel_size
        self.conv = nn.Conv1D(1, 1, kernel_size, padding=(kernel_size - 1) // 2,
                              bias_attr=False)

    def scale(self, x: paddle.Tensor) -> paddle.Tensor:
        """Return the gate, [N, C, H, W] -> [N, C, 1, 1]."""
        check_input("ECALayer", x, self.channels)
        pooled = spatial_mean(x)                      # [N, C]
        # the 1-D conv as a 2-D one over a [N, 1, 1, C] row: Paddle's Conv1D adds transposes
        # and costs several times more; the weight stays `conv.weight` [1, 1, k]
        row = pooled.reshape([0, 1, 1, -1])
        pad = (self.kernel_size - 1) // 2
        scale = F.sigmoid(F.conv2d(row, self.conv.weight.unsqueeze(2), padding=[0, pad]))
        return scale.reshape([0, -1, 1, 1])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x * self.scale(x)

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c = int(input_shape[0]), int(input_shape[1])
        # mean, the k-tap conv (no bias) at every channel, the gate, the scale multiply
        return 2 * numel(input_shape) + n * c * self.kernel_size + n * c

    def init_identity(self) -> None:
        raise ValueError("init 'identity' is impossible for ECALayer: its conv has no bias, so "
                         "no weight makes sigmoid(w * pooled) near 1 for every input (a zero "
                         "kernel gives exactly 0.5)")

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'channel': [N, C, 1, 1]}, the gate each channel is multiplied by."""
        return {"channel": self.scale(x)}
