"""Gather-Excite: gather context over an extent, excite every position with it."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .common import Activation, check_flag, check_input, check_positive, \
    check_positive_number, get_activation, pointwise, spatial_mean
from .flop_count import conv_flops, conv_output_shape, conv_output_size, numel
from .protocol import AttentionBlock, open_gate


def ge_rd_channels(channels: int, rd_ratio: float, rd_divisor: int) -> int:
    """Return the MLP width: C * rd_ratio rounded to the nearest multiple of rd_divisor (>= it)."""
    return max(rd_divisor, int(channels * rd_ratio + rd_divisor / 2) // rd_divisor * rd_divisor)


def _check_extent(extent: int) -> None:
    if isinstance(extent, bool) or not isinstance(extent, int) or extent < 0 or (
            extent > 0 and extent & (extent - 1)):
        raise ValueError(f"GatherExcite: extent must be 0 or a power of two, got {extent!r}")


class _ConvMlp(nn.Layer):
    """1x1 conv C -> rd, act, 1x1 conv rd -> C (keys `fc1`, `fc2`)."""

    def __init__(self, channels: int, rd_channels: int, act):
        super().__init__()
        self.fc1 = nn.Conv2D(channels, rd_channels, 1)
        self.fc2 = nn.Conv2D(rd_channels, channels, 1)
        self.act = act

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc2(self.act(self.fc1(x)))

    def on_pooled(self, x: paddle.Tensor) -> paddle.Tensor:
        """The same MLP on pooled [N, C] vectors, as GEMMs rather than 1x1 convs."""
        return pointwise(self.fc2, self.act(pointwise(self.fc1, x)))


class _ParamGather(nn.Layer):
    """Learned gather: depthwise convs `conv{i}` each followed by BN `norm{i}`, act between."""

    def __init__(self, channels: int, kernels_and_strides, norm: bool, act):
        super().__init__()
        self.norm = norm
        self.steps = []
        for i, (kernel, stride, padding) in enumerate(kernels_and_strides, start=1):
            conv = nn.Conv2D(channels, channels, kernel, stride=stride, padding=padding,
                             groups=channels, bias_attr=False)
            self.add_sublayer(f"conv{i}", conv)
            step = [conv]
            if norm:
                step.append(self.add_sublayer(f"norm{i}", nn.BatchNorm2D(channels)))
            self.steps.append(step)
        self.act = act

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        for i, step in enumerate(self.steps):
            if i:
                x = self.act(x)
            for layer in step:
                x = layer(x)
        return x

    def flops(self, shape: List[int]) -> Tuple[int, List[int]]:
        """(FLOPs, output shape) on an input of `shape`: convs, BN at 2 and act at 1 per element."""
        total = 0
        for i, step in enumerate(self.steps):
            total += numel(shape) if i else 0
            total += conv_flops(step[0], shape)
            shape = conv_output_shape(step[0], shape)
            total += 2 * numel(shape) if self.norm else 0
        return total, shape


class GatherExcite(AttentionBlock):
    """Gather-Excite.

    Hu et al., "Gather-Excite: Exploiting Feature Context in Convolutional Neural Networks",
    NeurIPS 2018. https://arxiv.org/abs/1810.12348 . Arguments and keys follow timm's
    `GatherExcite`, the common reference implementation.

    Gather, by `extent` e and `extra_params`:
      - e = 0, no params: mean over H, W (with `add_maxpool`: 0.5 * mean + 0.5 * max).
      - e > 0, no params: average pooling, kernel 2e - 1, stride e, padding e - 1, padding not
        counted (with `add_maxpool`: averaged with max pooling of the same geometry).
      - e > 0, params: log2(e) depthwise 3x3 stride-2 convs, each followed by BN, act between.
      - e = 0, params: one depthwise conv of kernel `feat_size` without padding, then BN: a global
        gather for inputs of size `feat_size`, a coarser map for larger ones.
    Excite: optional MLP (C -> rd -> C), nearest resize back to H, W, y = x * gate(.).

    Args:
        channels: C, channels of the input.
        feat_size: input H (= W) for the learned global gather (e = 0 with params).
        extra_params: learn the gather with depthwise convs.
        extent: 0 for a global gather, else a power of two: the gather's stride.
        use_mlp: put the C -> rd -> C MLP between gather and gate.
        rd_ratio, rd_channels, rd_divisor: the MLP width rd is rd_channels if given, else
            ge_rd_channels(C, rd_ratio, rd_divisor); rd_ratio > 0, rd_channels >= 1.
        add_maxpool: add max pooling to the parameter-free gather.
        act: activation in the MLP and between gather convs.
        norm: BN after each gather conv.
        gate: activation that turns the excitation into a scale.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
        attention_maps(x): {'channel': [N, C, 1, 1]} for the parameter-free global gather, else
        {'context': [N, C, H, W]}, the gate at every position.
    """

    def __init__(self, channels: int, feat_size: Optional[int] = None, extra_params: bool = False,
                 extent: int = 0, use_mlp: bool = True, rd_ratio: float = 1. / 16,
                 rd_channels: Optional[int] = None, rd_divisor: int = 1, add_maxpool: bool = False,
                 act: Activation = "relu", norm: bool = True, gate: Activation = "sigmoid"):
        super().__init__()
        check_positive("GatherExcite", "channels", channels)
        check_positive("GatherExcite", "rd_divisor", rd_divisor)
        check_positive_number("GatherExcite", "rd_ratio", rd_ratio)
        if rd_channels is not None:
            check_positive("GatherExcite", "rd_channels", rd_channels)
        for name, flag in (("extra_params", extra_params), ("use_mlp", use_mlp),
                           ("add_maxpool", add_maxpool), ("norm", norm)):
            check_flag("GatherExcite", name, flag)
        _check_extent(extent)
        if add_maxpool and extra_params:
            raise ValueError("GatherExcite: add_maxpool works only without extra_params")
        self.channels, self.extent, self.add_maxpool = channels, extent, add_maxpool
        self.feat_size = feat_size
        self.act = get_activation(act, "GatherExcite", "act")
        self.gate = get_activation(gate, "GatherExcite", "gate")
        self.gather = self._build_gather(norm) if extra_params else None
        # decided here, not by a traced branch: the global mean needs no resize back
        self._pooled = self.gather is None and extent == 0
        if use_mlp:
            rd = rd_channels if rd_channels is not None else \
                ge_rd_channels(channels, rd_ratio, rd_divisor)
            self.mlp = _ConvMlp(channels, rd, self.act)
        else:
            self.mlp = None

    def _build_gather(self, norm: bool) -> _ParamGather:
        if self.extent == 0:
            if self.feat_size is None:
                raise ValueError("GatherExcite: a learned global gather (extra_params, extent 0) "
                                 "needs feat_size, got None")
            check_positive("GatherExcite", "feat_size", self.feat_size)
            steps = [(self.feat_size, 1, 0)]
        else:
            steps = [(3, 2, 1)] * int(math.log2(self.extent))
        return _ParamGather(self.channels, steps, norm, self.act)

    def _gather(self, x: paddle.Tensor) -> paddle.Tensor:
        """[N, C] for the parameter-free global gather, else a [N, C, h, w] map."""
        if self.gather is not None:
            if self.extent == 0:
                self._check_feat_size(x)
            return self.gather(x)
        if self.extent == 0:
            context = spatial_mean(x)
            if self.add_maxpool:
                context = 0.5 * context + 0.5 * x.amax(axis=[2, 3])
            return context
        kernel, stride, padding = 2 * self.extent - 1, self.extent, self.extent - 1
        context = F.avg_pool2d(x, kernel, stride, padding, exclusive=True)
        if self.add_maxpool:
            context = 0.5 * context + 0.5 * F.max_pool2d(x, kernel, stride, padding)
        return context

    def _check_feat_size(self, x: paddle.Tensor) -> None:
        height, width = x.shape[2], x.shape[3]
        if 0 <= height < self.feat_size or 0 <= width < self.feat_size:
            raise ValueError(f"GatherExcite: input {height}x{width} is smaller than "
                             f"feat_size {self.feat_size}")

    def scale(self, x: paddle.Tensor) -> paddle.Tensor:
        """Return the gate: [N, C, 1, 1] after the parameter-free global gather, else
        [N, C, H, W]."""
        check_input("GatherExcite", x, self.channels)
        context = self._gather(x)
        if self.mlp is not None:
            context = self.mlp.on_pooled(context) if self._pooled else self.mlp(context)
        if self._pooled:
            return self.gate(context).reshape([0, -1, 1, 1])
        # nearest resize of a 1x1 map is a broadcast, so this is right at any size
        context = F.interpolate(context, size=paddle.shape(x)[2:], mode="nearest")
        return self.gate(context)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x * self.scale(x)

    def _gather_flops(self, shape: List[int]) -> Tuple[int, List[int]]:
        """(FLOPs, context shape) of the gather; pooling windows count padded positions too."""
        if self.gather is not None:
            return self.gather.flops(shape)
        n, c, height, width = shape
        if self.extent == 0:
            reduce, context = numel(shape), [n, c, 1, 1]
        else:
            kernel, stride, padding = 2 * self.extent - 1, self.extent, self.extent - 1
            context = [n, c, conv_output_size(height, kernel, stride, padding),
                       conv_output_size(width, kernel, stride, padding)]
            reduce = numel(context) * kernel * kernel
        if self.add_maxpool:            # a max over the same windows, then 0.5 * a + 0.5 * b
            return 2 * reduce + 3 * numel(context), context
        return reduce, context

    def flops(self, input_shape: Sequence[int]) -> int:
        shape = [int(d) for d in input_shape]
        total, context = self._gather_flops(shape)
        if self.mlp is not None:
            hidden = conv_output_shape(self.mlp.fc1, context)
            total += (conv_flops(self.mlp.fc1, context) + numel(hidden) +
                      conv_flops(self.mlp.fc2, hidden))
        gated = context if self._pooled else shape      # the gate runs after the resize
        return total + numel(gated) + numel(shape)      # gate, scale multiply

    def init_identity(self) -> None:
        if self.mlp is not None:
            open_gate(self.mlp.fc2, self.gate, "GatherExcite")
        elif self.gather is not None and self.gather.norm:
            open_gate(self.gather.steps[-1][-1], self.gate, "GatherExcite")
        else:
            raise ValueError("init 'identity' needs GatherExcite with use_mlp=True, or "
                             "extra_params=True with norm=True; got a gate without parameters")

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        return {"channel" if self._pooled else "context": self.scale(x)}
