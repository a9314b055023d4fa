"""The Z-pool gate that CBAM's spatial attention and every Triplet Attention branch share:
sigmoid(BN(conv_k(cat[max, mean]))), max first, as both authors' ChannelPool / ZPool have it."""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import max_along


def zpool(x: paddle.Tensor, axis: int) -> paddle.Tensor:
    """cat[max, mean] over `axis` of x, kept in that axis (size 2), max first.

    Shape: e.g. axis 1: [N, C, H, W] -> [N, 2, H, W]
    """
    return paddle.concat([max_along(x, axis), x.mean(axis=axis, keepdim=True)], axis=axis)


class ZPoolGate(nn.Layer):
    """sigmoid(bn(conv(z))) for a Z-pool z: keys `conv` (2 -> 1, k x k, no bias) and `bn`.

    Shape:
        z: [N, 2, A, B] -> [N, 1, A, B]
    """

    def __init__(self, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2D(2, 1, kernel_size, padding=(kernel_size - 1) // 2,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(1, momentum=0.99)   # the authors' torch momentum 0.01

    def forward(self, z: paddle.Tensor) -> paddle.Tensor:
        return F.sigmoid(self.bn(self.conv(z)))
