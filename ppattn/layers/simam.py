"""SimAM: a parameter-free gate from each activation's energy against its channel's mean."""
from typing import Dict, Sequence

import paddle
import paddle.nn.functional as F

from .common import check_input, check_positive
from .flop_count import numel
from .protocol import AttentionBlock


class SimAM(AttentionBlock):
    """Simple, Parameter-Free Attention Module.

    Yang et al., "SimAM: A Simple, Parameter-Free Attention Module for Convolutional Neural
    Networks", ICML 2021. https://proceedings.mlr.press/v139/yang21o.html

    Follows the authors' `simam_module` (https://github.com/ZjjConan/SimAM): with
    d = (x - mean_hw x)^2 and n = H W - 1,
    y = x * sigmoid(d / (4 (sum_hw d / n + e_lambda)) + 0.5).
    On a 1x1 map the authors' n is 0 and the output NaN; here n is at least 1, so the gate is
    sigmoid(0.5) there.

    Args:
        channels: C, channels of the input (the block has no parameters; C is checked).
        e_lambda: the regulariser lambda of the energy function.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]

    FLOPs on [N, C, H, W]: 7 N C H W (mean, subtract, square, sum, divide, add, sigmoid) +
    N C H W (scale).
    """

    def __init__(self, channels: int, e_lambda: float = 1e-4):
        super().__init__()
        check_positive("SimAM", "channels", channels)
        if isinstance(e_lambda, bool) or not isinstance(e_lambda, (int, float)) or e_lambda <= 0:
            raise ValueError(f"SimAM: e_lambda must be a positive number, got {e_lambda!r}")
        self.channels = channels
        self.e_lambda = float(e_lambda)

    def gate(self, x: paddle.Tensor) -> paddle.Tensor:
        """Return the gate, [N, C, H, W]."""
        check_input("SimAM", x, self.channels)
        size = paddle.shape(x)          # a tensor, so a traced graph divides by the runtime H W
        n = paddle.clip((size[2] * size[3] - 1).astype(x.dtype), min=1.0)
        d = (x - x.mean(axis=[2, 3], keepdim=True)).square()
        energy = d / (4 * (d.sum(axis=[2, 3], keepdim=True) / n + self.e_lambda)) + 0.5
        return F.sigmoid(energy)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x * self.gate(x)

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        """{'spatial': [N, C, H, W]}: one gate value per activation."""
        return {"spatial": self.gate(x)}

    def init_identity(self) -> None:
        raise ValueError("SimAM has no identity initialisation: it has no parameters, and its "
                         "gate sigmoid(energy + 0.5) is at least sigmoid(0.5) = 0.62 and depends "
                         "on the input alone")

    def flops(self, input_shape: Sequence[int]) -> int:
        return 8 * numel(input_shape)
