"""Shuffle Attention: channel and spatial gates on the two halves of each channel group."""
from typing import Dict, List, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import check_input, check_positive
from .flop_count import numel
from .protocol import AttentionBlock, identity_bias


def sa_groups_for(channels: int) -> List[int]:
    """Return every `groups` that ShuffleAttention accepts for C: those with C % (2 groups) == 0."""
    return [g for g in range(1, channels // 2 + 1) if channels % (2 * g) == 0]


def _check_groups(channels: int, groups: int) -> None:
    check_positive("ShuffleAttention", "groups", groups)
    if channels % (2 * groups):
        working = sa_groups_for(channels)
        accepted = (f"groups that work: {', '.join(map(str, working))}" if working
                    else "no groups do, C must be even")
        raise ValueError(f"ShuffleAttention: channels {channels} must be divisible by "
                         f"2 * groups = {2 * groups}; {accepted}")


def group_norm_per_channel(x: paddle.Tensor, norm: nn.GroupNorm) -> paddle.Tensor:
    """`norm` (a GroupNorm with one group per channel) written out: each channel of each sample
    normalised over H, W with the biased variance, then `norm`'s affine.

    The same math as calling `norm`, in plain ops: paddle2onnx 2.x writes a garbage epsilon
    (about -5e-26) into the InstanceNormalization it makes of such a GroupNorm, so ONNX Runtime
    would normalise without epsilon.
    """
    centered = x - x.mean(axis=[2, 3], keepdim=True)
    variance = centered.square().mean(axis=[2, 3], keepdim=True)
    normalised = centered / paddle.sqrt(variance + norm._epsilon)
    return normalised * norm.weight.reshape([1, -1, 1, 1]) + norm.bias.reshape([1, -1, 1, 1])


def channel_shuffle(x: paddle.Tensor, groups: int) -> paddle.Tensor:
    """[N, C, H, W] -> channel g * C / groups + i moves to i * groups + g."""
    size = paddle.shape(x)
    shuffled = x.reshape([0, groups, -1, size[2], size[3]]).transpose([0, 2, 1, 3, 4])
    return shuffled.reshape([0, -1, size[2], size[3]])


class ShuffleAttention(AttentionBlock):
    """Shuffle Attention.

    Zhang & Yang, "SA-Net: Shuffle Attention for Deep Convolutional Neural Networks",
    ICASSP 2021. https://arxiv.org/abs/2102.00240

    Follows the authors' `sa_layer`
    (https://github.com/wofmanaf/SA-Net/blob/032f169/models/sa_resnet.py): x is regrouped to
    [N G, C / G, H, W] and each group's channels split into halves x0, x1.
    x0 * sigmoid(cweight * mean_hw(x0) + cbias) and x1 * sigmoid(sweight * GN(x1) + sbias) (GN with
    one group per channel) are concatenated, reshaped to [N, C, H, W] and channel-shuffled with
    2 groups. The shuffle permutes channels, so the block is never the identity: at
    `init_identity` its output is IDENTITY_GATE times the shuffled input.

    Args:
        channels: C, channels of the input; divisible by 2 * groups.
        groups: G, the number of channel groups.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W]: channel half N C H W / 2 (mean) + 3 N C / 2 (affine, sigmoid) +
    N C H W / 2 (scale); spatial half 5 N C H W / 2 (GN) + 4 N C H W / 2 (affine, sigmoid,
    scale). The shuffle is a reshape and a transpose and counts nothing.
    """

    def __init__(self, channels: int, groups: int = 64):
        super().__init__()
        check_positive("ShuffleAttention", "channels", channels)
        _check_groups(channels, groups)
        self.channels, self.groups = channels, groups
        half = channels // (2 * groups)
        shape, zero, one = [1, half, 1, 1], nn.initializer.Constant(0.0), \
            nn.initializer.Constant(1.0)
        self.cweight = self.create_parameter(shape, default_initializer=zero)
        self.cbias = self.create_parameter(shape, default_initializer=one)
        self.sweight = self.create_parameter(shape, default_initializer=zero)
        self.sbias = self.create_parameter(shape, default_initializer=one)
        self.gn = nn.GroupNorm(half, half)

    def _halves(self, x: paddle.Tensor):
        check_input("ShuffleAttention", x, self.channels)
        size = paddle.shape(x)
        grouped = x.reshape([-1, self.channels // self.groups, size[2], size[3]])
        return paddle.split(grouped, 2, axis=1)

    def _gates(self, x0: paddle.Tensor, x1: paddle.Tensor):
        channel = F.sigmoid(self.cweight * x0.mean(axis=[2, 3], keepdim=True) + self.cbias)
        spatial = F.sigmoid(self.sweight * group_norm_per_channel(x1, self.gn) + self.sbias)
        return channel, spatial

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x0, x1 = self._halves(x)
        channel, spatial = self._gates(x0, x1)
        out = paddle.concat([x0 * channel, x1 * spatial], axis=1).reshape(paddle.shape(x))
        return channel_shuffle(out, 2)

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """'channel': [N G, C / (2 G), 1, 1] for the first half of each group; 'spatial':
        [N G, C / (2 G), H, W] for the second half (before the shuffle)."""
        channel, spatial = self._gates(*self._halves(x))
        return {"channel": channel, "spatial": spatial}

    def init_identity(self) -> None:
        """Zero cweight and sweight and set cbias and sbias so both gates are IDENTITY_GATE."""
        bias = identity_bias(F.sigmoid, "ShuffleAttention")
        for weight in (self.cweight, self.sweight):
            weight.set_value(paddle.zeros_like(weight))
        for b in (self.cbias, self.sbias):
            b.set_value(paddle.full_like(b, bias))

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c = input_shape[:2]
        half = numel(input_shape) // 2
        return 2 * half + 3 * n * c // 2 + 9 * half
