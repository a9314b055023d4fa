"""CBAM: a channel gate from pooled descriptors, then a spatial gate from channel-pooled maps."""
import math
from typing import Dict, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import channel_scale, check_flag, check_input, check_positive, pointwise, \
    spatial_max, spatial_mean
from .flop_count import conv_flops, numel
from .protocol import IDENTITY_GATE, AttentionBlock
from .zpool_gate import ZPoolGate, zpool

POOL_TYPES = ("avg", "max")


def _logit(gate: float) -> float:
    """The input b with sigmoid(b) = gate."""
    return math.log(gate / (1.0 - gate))


def _check_pool_types(pool_types) -> tuple:
    if not isinstance(pool_types, (list, tuple)) or not pool_types:
        raise ValueError(f"CBAM: pool_types must be a non-empty list of 'avg' and 'max', "
                         f"got {pool_types!r}")
    for kind in pool_types:
        if kind not in POOL_TYPES:
            raise ValueError(f"CBAM: unknown pool type {kind!r} in pool_types; "
                             f"known: {', '.join(POOL_TYPES)}")
    return tuple(pool_types)


class _ChannelGate(nn.Layer):
    """sigmoid(sum over pool types of fc2(relu(fc1(pool_hw(x))))): [N, C, H, W] -> [N, C]."""

    def __init__(self, channels: int, rd_channels: int, pool_types: tuple):
        super().__init__()
        self.fc1 = nn.Conv2D(channels, rd_channels, 1)
        self.fc2 = nn.Conv2D(rd_channels, channels, 1)
        self.pool_types = pool_types

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        logits = None
        for kind in self.pool_types:
            pooled = spatial_mean(x) if kind == "avg" else spatial_max(x)
            term = pointwise(self.fc2, F.relu(pointwise(self.fc1, pooled)))
            logits = term if logits is None else logits + term
        return F.sigmoid(logits)


class CBAM(AttentionBlock):
    """Convolutional Block Attention Module.

    Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018.
    https://arxiv.org/abs/1807.06521

    Follows the authors' code
    (https://github.com/Jongchan/attention-module/blob/e4ee180/MODELS/cbam.py):
    x1 = x * sigmoid(sum over `pool_types` of MLP(pool_hw(x))), the MLP's 1x1 convs with biases
    and a ReLU between; y = x1 * sigmoid(BN(conv_k(cat[max_c x1, mean_c x1]))). The channel pool
    puts the max first, as the authors' ChannelPool does (timm puts the mean first, so the
    spatial conv weights of the two do not interchange). The authors' keys map as
    `ChannelGate.mlp.1` / `.mlp.3` (Linear, reshape the weights to [out, in, 1, 1]) ->
    `channel.fc1` / `channel.fc2`, and `SpatialGate.spatial.conv` / `.bn` -> `spatial.conv` /
    `spatial.bn`.

    Args:
        channels: C, channels of the input.
        reduction: the MLP's width is rd = max(1, C // reduction).
        pool_types: the spatial pools fed to the shared MLP, from 'avg' and 'max'.
        spatial: add the spatial gate after the channel gate.
        kernel_size: k of the spatial conv (odd; padding (k - 1) / 2).

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W] with P pool types: channel gate P (N C H W + N (2 C rd + rd + C)
    + N rd) (pool, MLP, ReLU) + (P - 1) N C (sum) + N C (sigmoid) + N C H W (scale); spatial
    gate 2 N C H W (two channel pools) + 2 k^2 N H W (conv) + 3 N H W (BN, sigmoid) + N C H W
    (scale).
    """

    def __init__(self, channels: int, reduction: int = 16,
                 pool_types: Sequence[str] = POOL_TYPES, spatial: bool = True,
                 kernel_size: int = 7):
        super().__init__()
        check_positive("CBAM", "channels", channels)
        check_positive("CBAM", "reduction", reduction)
        check_positive("CBAM", "kernel_size", kernel_size)
        check_flag("CBAM", "spatial", spatial)
        if kernel_size % 2 == 0:
            raise ValueError(f"CBAM: kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.rd_channels = max(1, channels // reduction)
        self.channel = _ChannelGate(channels, self.rd_channels, _check_pool_types(pool_types))
        self.spatial = ZPoolGate(kernel_size) if spatial else None

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        check_input("CBAM", x, self.channels)
        x = channel_scale(x, self.channel(x))
        return x if self.spatial is None else x * self.spatial(zpool(x, 1))

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'channel': [N, C, 1, 1]} and, with `spatial`, {'spatial': [N, 1, H, W]} (computed
        on the channel-gated input, as in the forward pass)."""
        check_input("CBAM", x, self.channels)
        channel = self.channel(x)
        maps = {"channel": channel.reshape([0, -1, 1, 1])}
        if self.spatial is not None:
            maps["spatial"] = self.spatial(zpool(channel_scale(x, channel), 1))
        return maps

    def init_identity(self) -> None:
        """Both gates start at sqrt(IDENTITY_GATE), so y = IDENTITY_GATE * x for every input.

        fc2's weight is zeroed and its bias set so the P summed MLP outputs give that gate;
        the spatial BN's weight is zeroed and its bias set likewise.
        """
        gates = 1 if self.spatial is None else 2
        bias = _logit(IDENTITY_GATE ** (1.0 / gates))
        fc2 = self.channel.fc2
        fc2.weight.set_value(paddle.zeros_like(fc2.weight))
        fc2.bias.set_value(paddle.full_like(fc2.bias, bias / len(self.channel.pool_types)))
        if self.spatial is not None:
            bn = self.spatial.bn
            bn.weight.set_value(paddle.zeros_like(bn.weight))
            bn.bias.set_value(paddle.full_like(bn.bias, bias))

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c, h, w = input_shape
        pools = len(self.channel.pool_types)
        per_pool = (numel(input_shape) + conv_flops(self.channel.fc1, [n, c, 1, 1])
                    + n * self.rd_channels
                    + conv_flops(self.channel.fc2, [n, self.rd_channels, 1, 1]))
        total = pools * per_pool + (pools - 1) * n * c + n * c + numel(input_shape)
        if self.spatial is not None:
            total += (2 * numel(input_shape) + conv_flops(self.spatial.conv, [n, 2, h, w])
                      + 3 * n * h * w + numel(input_shape))
        return total
