"""GCNet's global context block: one context vector per image, fused into every position."""
from typing import Dict, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import check_input, check_positive, pointwise, spatial_mean
from .flop_count import conv_flops, numel
from .protocol import AttentionBlock, identity_bias

POOLINGS = ("att", "avg")
FUSIONS = ("channel_add", "channel_mul")


def _check_fusions(fusions) -> tuple:
    if not isinstance(fusions, (list, tuple)) or not fusions:
        raise ValueError(f"ContextBlock: fusions must be a non-empty list from "
                         f"{', '.join(FUSIONS)}, got {fusions!r}")
    for fusion in fusions:
        if fusion not in FUSIONS:
            raise ValueError(f"ContextBlock: unknown fusion {fusion!r}; known: "
                             f"{', '.join(FUSIONS)}")
    return tuple(fusions)


def _transform(channels: int, planes: int) -> nn.Sequential:
    """1x1 conv C -> P, LayerNorm over [P, 1, 1], ReLU, 1x1 conv P -> C (keys 0, 1, 3); the
    last conv starts at zero, as mmcv's `last_zero_init`."""
    zero = nn.initializer.Constant(0.0)
    return nn.Sequential(nn.Conv2D(channels, planes, 1), nn.LayerNorm([planes, 1, 1]), nn.ReLU(),
                         nn.Conv2D(planes, channels, 1, weight_attr=zero, bias_attr=zero))


def _set_last_conv(fusion: nn.Sequential, bias: float) -> None:
    """Zero the weight of the fusion's last conv and set its bias to `bias`."""
    conv = fusion[3]
    conv.weight.set_value(paddle.zeros_like(conv.weight))
    conv.bias.set_value(paddle.full_like(conv.bias, bias))


class ContextBlock(AttentionBlock):
    """Global context block of GCNet.

    Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond",
    arXiv 2019. https://arxiv.org/abs/1904.11492

    Follows mmcv's `ContextBlock`
    (https://github.com/open-mmlab/mmcv/blob/1d7b818/mmcv/cnn/bricks/context_block.py), whose
    keys GCNet's published mmdet weights use. Context: 'att' is sum_hw x * softmax_hw(conv_mask
    (x)), 'avg' is mean_hw x. out = x; with 'channel_mul', out = out * sigmoid(
    channel_mul_conv(context)); then with 'channel_add', out = out + channel_add_conv(context).
    As in mmcv, the last conv of each fusion starts at zero (so 'channel_add' starts as the
    identity) and conv_mask is Kaiming-normal (fan in) with a zero bias.

    Args:
        channels: C, channels of the input.
        ratio: each fusion's bottleneck has P = int(C * ratio) channels, at least 1 (where
            mmcv would build a conv of width 0, e.g. C < 16 at the default ratio).
        pooling: 'att' (attention pooling, the paper's) or 'avg' (global average pooling).
        fusions: from 'channel_add' and 'channel_mul'.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W]: context 'att' N H W (C + 1) (conv_mask) + 3 N H W (softmax) +
    N C H W (weighted sum), 'avg' N C H W; per fusion 2 N C P + N P + N C (convs) + 6 N P
    (LayerNorm, ReLU), then N C (sigmoid) + N C H W (scale) for 'channel_mul' and N C H W (add)
    for 'channel_add'.
    """

    def __init__(self, channels: int, ratio: float = 1. / 16, pooling: str = "att",
                 fusions: Sequence[str] = ("channel_add",)):
        super().__init__()
        check_positive("ContextBlock", "channels", channels)
        if pooling not in POOLINGS:
            raise ValueError(f"ContextBlock: unknown pooling {pooling!r}; known: "
                             f"{', '.join(POOLINGS)}")
        self.fusions = _check_fusions(fusions)
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0:
            raise ValueError(f"ContextBlock: ratio must be a positive number, got {ratio!r}")
        self.channels, self.pooling = channels, pooling
        self.planes = max(1, int(channels * ratio))
        if pooling == "att":
            self.conv_mask = nn.Conv2D(channels, 1, 1, weight_attr=nn.initializer.KaimingNormal(),
                                       bias_attr=nn.initializer.Constant(0.0))
        self.channel_add_conv = _transform(channels, self.planes) \
            if "channel_add" in self.fusions else None
        self.channel_mul_conv = _transform(channels, self.planes) \
            if "channel_mul" in self.fusions else None

    def _mask(self, x: paddle.Tensor) -> paddle.Tensor:
        """softmax over H W of conv_mask(x): [N, 1, H, W]."""
        logits = self.conv_mask(x)
        return F.softmax(logits.flatten(2), axis=2).reshape(paddle.shape(logits))

    def context(self, x: paddle.Tensor) -> paddle.Tensor:
        """Return the pooled context, [N, C, H, W] -> [N, C]."""
        check_input("ContextBlock", x, self.channels)
        if self.pooling == "avg":
            return spatial_mean(x)
        weights = self._mask(x).flatten(1).unsqueeze(2)                 # [N, HW, 1]
        return paddle.matmul(x.flatten(2), weights).squeeze(2)          # [N, C]

    @staticmethod
    def _fuse(fusion: nn.Sequential, context: paddle.Tensor) -> paddle.Tensor:
        """The fusion's transform on pooled [N, C] vectors (1x1 convs as matrix products)."""
        norm = fusion[1]
        hidden = pointwise(fusion[0], context)
        hidden = F.layer_norm(hidden, [hidden.shape[1]], norm.weight, norm.bias, norm._epsilon)
        return pointwise(fusion[3], F.relu(hidden))

    def _fusion_terms(self, context: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """'channel_mul': the gate, 'channel_add': the added term, each [N, C, 1, 1]."""
        terms = {}
        if self.channel_mul_conv is not None:
            terms["channel_mul"] = F.sigmoid(self._fuse(self.channel_mul_conv, context))
        if self.channel_add_conv is not None:
            terms["channel_add"] = self._fuse(self.channel_add_conv, context)
        return {name: term.reshape([0, -1, 1, 1]) for name, term in terms.items()}

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        terms = self._fusion_terms(self.context(x))
        out = x
        if "channel_mul" in terms:        # mul first, then add, as mmcv does
            out = out * terms["channel_mul"]
        if "channel_add" in terms:
            out = out + terms["channel_add"]
        return out

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """'spatial': the attention pooling's softmax, [N, 1, H, W] (with 'att');
        'channel_mul': the gate, [N, C, 1, 1]; 'channel_add': the added term, [N, C, 1, 1]."""
        maps = {"spatial": self._mask(x)} if self.pooling == "att" else {}
        maps.update(self._fusion_terms(self.context(x)))
        return maps

    def init_identity(self) -> None:
        """'channel_add' adds 0 (its last conv zeroed, as at construction); 'channel_mul' gates
        by IDENTITY_GATE (its last conv's weight zeroed, the bias set)."""
        if self.channel_add_conv is not None:
            _set_last_conv(self.channel_add_conv, 0.0)
        if self.channel_mul_conv is not None:
            _set_last_conv(self.channel_mul_conv, identity_bias(F.sigmoid, "ContextBlock"))

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c, h, w = input_shape
        if self.pooling == "att":
            total = conv_flops(self.conv_mask, input_shape) + 3 * n * h * w + numel(input_shape)
        else:
            total = numel(input_shape)
        for fusion in (self.channel_add_conv, self.channel_mul_conv):
            if fusion is not None:
                total += (conv_flops(fusion[0], [n, c, 1, 1]) + 6 * n * self.planes
                          + conv_flops(fusion[3], [n, self.planes, 1, 1]) + numel(input_shape))
        if self.channel_mul_conv is not None:
            total += n * c
        return total
