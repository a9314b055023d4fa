"""Triplet Attention: spatial-style gates over the (C, W), (H, C) and (H, W) planes, averaged."""
from typing import Dict, Sequence

import paddle
import paddle.nn.functional as F

from .common import check_flag, check_input, check_positive
from .flop_count import conv_flops, numel
from .protocol import AttentionBlock, identity_bias
from .zpool_gate import ZPoolGate, zpool


class TripletAttention(AttentionBlock):
    """Triplet Attention.

    Misra et al., "Rotate to Attend: Convolutional Triplet Attention Module", WACV 2021.
    https://arxiv.org/abs/2010.03045

    Follows the authors' code
    (https://github.com/landskape-ai/triplet-attention/blob/096a043/triplet_attention.py).
    gate(t) = t * sigmoid(BN(conv_k(Z-pool(t)))), where the Z-pool
    is cat[max over axis 1, mean over axis 1]. cw: x transposed to [N, H, C, W], gated, and
    transposed back; hc: the same with [N, W, H, C]; hw: x itself.
    y = (hw + cw + hc) / 3, or (cw + hc) / 2 without `spatial`. Each branch pools x along its
    own axis and transposes only the small pooled map, which is the same arithmetic. The
    authors' keys have one more level (`cw.conv.conv.weight`, `cw.conv.bn.*`); drop the middle
    `conv.` to load their weights.

    Args:
        channels: C, channels of the input (the gates do not depend on it; C is checked).
        kernel_size: k of every branch's conv (odd; padding (k - 1) / 2).
        spatial: add the hw branch (the authors' `no_spatial=False`).

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W], per branch over the plane (A, B) it gates: 2 N C H W (Z-pool) +
    2 k^2 N A B (conv) + 3 N A B (BN, sigmoid) + N C H W (scale); then (branches - 1) N C H W
    (sum) + N C H W (average).
    """

    def __init__(self, channels: int, kernel_size: int = 7, spatial: bool = True):
        super().__init__()
        check_positive("TripletAttention", "channels", channels)
        check_positive("TripletAttention", "kernel_size", kernel_size)
        check_flag("TripletAttention", "spatial", spatial)
        if kernel_size % 2 == 0:
            raise ValueError(f"TripletAttention: kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.cw = ZPoolGate(kernel_size)
        self.hc = ZPoolGate(kernel_size)
        self.hw = ZPoolGate(kernel_size) if spatial else None

    def _maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        check_input("TripletAttention", x, self.channels)
        # cw: pool over H -> [N, C, 2, W] -> [N, 2, C, W]; the gate comes back as [N, C, 1, W]
        cw = self.cw(zpool(x, 2).transpose([0, 2, 1, 3])).transpose([0, 2, 1, 3])
        # hc: pool over W -> [N, C, H, 2] -> [N, 2, H, C]; the gate comes back as [N, C, H, 1]
        hc = self.hc(zpool(x, 3).transpose([0, 3, 2, 1])).transpose([0, 3, 2, 1])
        maps = {"cw": cw, "hc": hc}
        if self.hw is not None:
            maps["hw"] = self.hw(zpool(x, 1))                           # [N, 1, H, W]
        return maps

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        maps = self._maps(x)
        if self.hw is None:
            return 0.5 * (x * maps["cw"] + x * maps["hc"])
        return 1 / 3 * (x * maps["hw"] + x * maps["cw"] + x * maps["hc"])

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """'cw': [N, C, 1, W], 'hc': [N, C, H, 1] and, with `spatial`, 'hw': [N, 1, H, W]."""
        return self._maps(x)

    def init_identity(self) -> None:
        """Zero every branch BN's weight and set its bias so every gate is IDENTITY_GATE."""
        bias = identity_bias(F.sigmoid, "TripletAttention")
        for gate in (self.cw, self.hc, self.hw):
            if gate is not None:
                gate.bn.weight.set_value(paddle.zeros_like(gate.bn.weight))
                gate.bn.bias.set_value(paddle.full_like(gate.bn.bias, bias))

    def flops(self, input_shape: Sequence[int]) -> int:
        n, c, h, w = input_shape
        planes = [(self.cw, c, w), (self.hc, h, c), (self.hw, h, w)]
        total, branches = 0, 0
        for gate, a, b in planes:
            if gate is not None:
                branches += 1
                total += (3 * numel(input_shape) + conv_flops(gate.conv, [n, 2, a, b])
                          + 3 * n * a * b)
        return total + branches * numel(input_shape)
