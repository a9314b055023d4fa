"""Trace nearest-neighbour upsampling by an integer factor without `interpolate`, for export.

Paddle Inference 3.3.1 cannot run `nearest_interp` on oneDNN (its float `scale` attribute stops
the run), so a graph holding one cannot use the "placed" oneDNN mode, which runs a detector
about twice as fast as "fused" (see `ppattn.deploy.paddle_inference`). Every detector neck
upsamples by 2 with `F.interpolate(x, scale_factor=2.)`. Under `interpolate_free_upsampling()`
such a call traces as a broadcast instead, which gives the same values: output pixel (i, j) is
input pixel (i // k, j // k), as nearest interpolation without aligned corners computes it.

    with interpolate_free_upsampling():
        paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True), path)
"""
import contextlib
import numbers
from typing import Iterator, Optional

import paddle
import paddle.nn.functional as F


def integer_scale(size, scale_factor, mode: str, align_corners: bool,
                  data_format: str) -> Optional[int]:
    """The factor k when an `F.interpolate` call is a nearest k-times NCHW upsampling of H and
    W alike by an integer k >= 2, else None."""
    if size is not None or mode != "nearest" or align_corners or data_format != "NCHW":
        return None
    factors = scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * 2
    if len(factors) != 2 or not all(isinstance(f, numbers.Real) for f in factors):
        return None   # a tensor scale, or one per dimension of a 3-D input
    if factors[0] != factors[1] or factors[0] != int(factors[0]) or factors[0] < 2:
        return None
    return int(factors[0])


def repeat_pixels(x: paddle.Tensor, factor: int) -> paddle.Tensor:
    """Nearest upsampling by an integer `factor`, as broadcast and reshape ops.

    Shape: [N, C, H, W] -> [N, C, H * factor, W * factor]
    """
    n, c, h, w = paddle.shape(x)
    repeated = x.unsqueeze([3, 5]).expand([n, c, h, factor, w, factor])
    return repeated.reshape([n, c, h * factor, w * factor])


@contextlib.contextmanager
def interpolate_free_upsampling() -> Iterator[None]:
    """Within the block, `F.interpolate` calls that `integer_scale` accepts run `repeat_pixels`;
    every other call goes to Paddle's `interpolate` unchanged."""
    interpolate = F.interpolate

    def upsample(x, size=None, scale_factor=None, mode="nearest", align_corners=False,
                 align_mode=0, data_format="NCHW", name=None):
        factor = integer_scale(size, scale_factor, mode, align_corners, data_format)
        if factor is None or len(x.shape) != 4:
            return interpolate(x, size, scale_factor, mode, align_corners, align_mode,
                               data_format, name)
        return repeat_pixels(x, factor)

    F.interpolate = upsample
    try:
        yield
    finally:
        F.interpolate = interpolate
