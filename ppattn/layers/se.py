"""Squeeze-and-Excitation and its single-FC variant, Effective SE."""
from typing import Dict, Optional, Sequence

import paddle
import paddle.nn as nn

from .common import Activation, check_input, check_positive, dense, get_activation, pointwise, \
    spatial_mean
from .flop_count import conv_flops, linear_flops, numel
from .protocol import AttentionBlock, open_gate

_FC_KINDS = ("conv", "linear")


class SELayer(AttentionBlock):
    """Squeeze-and-Excitation.

    Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018. https://arxiv.org/abs/1709.01507

    y = x * gate(fc2(act(fc1(mean_hw(x))))): the excitation acts on the pooled vector only.

    Args:
        channels: C, channels of the input.
        reduction: rd = C // reduction (at least 1) when `rd_channels` is not given.
        rd_channels: rd, width of the bottleneck.
        act: activation between the two FCs (a Paddle activation name or a callable).
        gate: activation that turns the excitation into a scale.
        fc: 'conv' for 1x1 convolutions `fc1`/`fc2` (timm's and mmdet's layout), 'linear' for
            `squeeze`/`extract` Linear layers, the keys of PaddleDetection's ResNet `SELayer`.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
    """

    def __init__(self, channels: int, reduction: int = 16, rd_channels: Optional[int] = None,
                 act: Activation = "relu", gate: Activation = "sigmoid", fc: str = "conv"):
        super().__init__()
        check_positive("SELayer", "channels", channels)
        check_positive("SELayer", "reduction", reduction)
        if rd_channels is not None:
            check_positive("SELayer", "rd_channels", rd_channels)
        if fc not in _FC_KINDS:
            raise ValueError(f"SELayer: fc must be one of {', '.join(_FC_KINDS)}, got {fc!r}")
        self.channels = channels
        self.rd_channels = rd_channels or max(1, channels // reduction)
        self.fc_kind = fc
        self.act = get_activation(act, "SELayer", "act")
        self.gate = get_activation(gate, "SELayer", "gate")
        if fc == "conv":
            self.fc1 = nn.Conv2D(channels, self.rd_channels, 1)
            self.fc2 = nn.Conv2D(self.rd_channels, channels, 1)
        else:
            # ppdet's ResNet SELayer names these 'squeeze'/'extract'; keep them for its weights
            self.squeeze = nn.Linear(channels, self.rd_channels)
            self.extract = nn.Linear(self.rd_channels, channels)

    def scale(self, x: paddle.Tensor) -> paddle.Tensor:
        """Return the gated excitation, [N, C, H, W] -> [N, C, 1, 1]."""
        check_input("SELayer", x, self.channels)
        pooled = spatial_mean(x)
        if self.fc_kind == "conv":
            excitation = pointwise(self.fc2, self.act(pointwise(self.fc1, pooled)))
        else:
            excitation = dense(self.extract, self.act(dense(self.squeeze, pooled)))
        return self.gate(excitation).reshape([0, -1, 1, 1])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x * self.scale(x)

    def scale_flops(self, input_shape: Sequence[int]) -> int:
        """FLOPs of `scale(x)`: the mean, both FCs, the activation between them and the gate."""
        n, c = int(input_shape[0]), int(input_shape[1])
        if self.fc_kind == "conv":
            fcs = (conv_flops(self.fc1, [n, c, 1, 1]) +
                   conv_flops(self.fc2, [n, self.rd_channels, 1, 1]))
        else:
            fcs = linear_flops(self.squeeze, n) + linear_flops(self.extract, n)
        return numel(input_shape) + fcs + n * self.rd_channels + n * c

    def flops(self, input_shape: Sequence[int]) -> int:
        return self.scale_flops(input_shape) + numel(input_shape)        # + the scale multiply

    def init_identity(self) -> None:
        open_gate(self.fc2 if self.fc_kind == "conv" else self.extract, self.gate, "SELayer")

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'channel': [N, C, 1, 1]}, the gate each channel is multiplied by."""
        return {"channel": self.scale(x)}


class EffectiveSELayer(AttentionBlock):
    """Effective Squeeze-Excitation: SE with one C -> C FC and no bottleneck.

    Lee and Park, "CenterMask: Real-Time Anchor-Free Instance Segmentation", CVPR 2020.
    https://arxiv.org/abs/1911.06667 . Same math and keys as PP-YOLOE's
    `ppdet.modeling.backbones.cspresnet.EffectiveSELayer`.

    y = x * act(fc(mean_hw(x)))

    Args:
        channels: C, channels of the input.
        act: the gate; Paddle's hardsigmoid (slope 1/6, offset 0.5) by default.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
    """

    def __init__(self, channels: int, act: Activation = "hardsigmoid"):
        super().__init__()
        check_positive("EffectiveSELayer", "channels", channels)
        self.channels = channels
        self.fc = nn.Conv2D(channels, channels, 1)
        self.act = get_activation(act, "EffectiveSELayer", "act")

    def scale(self, x: paddle.Tensor) -> paddle.Tensor:
        """Return the gate, [N, C, H, W] -> [N, C, 1, 1]."""
        check_input("EffectiveSELayer", x, self.channels)
        return self.act(pointwise(self.fc, spatial_mean(x))).reshape([0, -1, 1, 1])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x * self.scale(x)

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c = int(input_shape[0]), int(input_shape[1])
        # mean, fc, gate, scale multiply
        return 2 * numel(input_shape) + conv_flops(self.fc, [n, c, 1, 1]) + n * c

    def init_identity(self) -> None:
        open_gate(self.fc, self.act, "EffectiveSELayer")

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'channel': [N, C, 1, 1]}, the gate each channel is multiplied by."""
        return {"channel": self.scale(x)}
