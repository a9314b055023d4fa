"""AttnFPN: Faster R-CNN's FPN with attention on its inputs and on its outputs."""
from typing import List, Optional, Sequence

import paddle
import paddle.nn.functional as F
from ppdet.modeling.necks.fpn import FPN

from .levels import LevelAttention, LevelSpecs, check_level_specs, register_neck


@register_neck
class AttnFPN(FPN):
    """FPN with an attention block on each input level and on each output level.

    Lin et al., "Feature Pyramid Networks for Object Detection", CVPR 2017.
    https://arxiv.org/abs/1612.03144

    Every argument of ppdet 2.6.0's `FPN` keeps its meaning and default, and ppdet's constructor
    builds every layer, so `from_config` and `out_shape` are ppdet's. With both specs left at
    None the state-dict keys, shapes and outputs are ppdet's. The forward is ppdet's with the
    slots added. Unlike ppdet, extra_stage > 1 without has_extra_convs fails at build (ppdet
    asserts in the forward).

    A spec is None, 'none', a registered name, `{name: ..., **arguments}` (which may add
    `init: identity`), or a list with one such spec per level. Each block keeps its feature's
    shape and sees that feature's channels.

    Args:
        input_attn: a block on each backbone level before its lateral conv. Sublayer
            `input_attn.{i}`, in_channels[i] channels, a list in backbone order (res2 first for
            a four-level ResNet). With has_extra_convs and use_c5 the first extra conv reads the
            deepest input after its block.
        output_attn: a block on each output level, the extra levels included. Sublayer
            `output_attn.{i}` for i in 0 .. len(in_channels) + extra_stage - 1, out_channel
            channels, finest first. An extra level is computed from the returned level below it.

    Shape:
        body_feats: a list, per level i, of [N, in_channels[i], H_i, W_i], each level half the
        size of the one before -> a list of [N, out_channel, H, W], finest first,
        len(in_channels) + extra_stage levels.
    """

    def __init__(self, in_channels: Sequence[int], out_channel: int,
                 spatial_scales: Sequence[float] = (0.25, 0.125, 0.0625, 0.03125),
                 has_extra_convs: bool = False, extra_stage: int = 1, use_c5: bool = True,
                 norm_type: Optional[str] = None, norm_decay: float = 0., freeze_norm: bool = False,
                 relu_before_extra_convs: bool = True, input_attn: LevelSpecs = None,
                 output_attn: LevelSpecs = None):
        if extra_stage > 1 and not has_extra_convs:
            raise ValueError(f"AttnFPN: extra_stage={extra_stage!r} needs has_extra_convs=True; "
                             f"without extra convs only extra_stage 0 or 1 (a max-pooled level)")
        num_inputs, num_outputs = len(in_channels), len(in_channels) + extra_stage
        check_level_specs(input_attn, num_inputs, "AttnFPN.input_attn")
        check_level_specs(output_attn, num_outputs, "AttnFPN.output_attn")
        super().__init__(
            list(in_channels), out_channel, spatial_scales=list(spatial_scales),
            has_extra_convs=has_extra_convs, extra_stage=extra_stage, use_c5=use_c5,
            norm_type=norm_type, norm_decay=norm_decay, freeze_norm=freeze_norm,
            relu_before_extra_convs=relu_before_extra_convs)
        self.input_attn = LevelAttention(input_attn, list(in_channels), "AttnFPN.input_attn")
        self.output_attn = LevelAttention(output_attn, [out_channel] * num_outputs,
                                          "AttnFPN.output_attn")

    def _extra_level(self, i: int, feats: List[paddle.Tensor],
                     outputs: List[paddle.Tensor]) -> paddle.Tensor:
        """Extra output level i (0 is the first above the inputs), as ppdet computes it."""
        if not self.has_extra_convs:
            return F.max_pool2d(outputs[-1], 1, stride=2)   # Faster R-CNN's P6
        if i == 0:
            source = feats[-1] if self.use_c5 else outputs[-1]
        else:
            source = F.relu(outputs[-1]) if self.relu_before_extra_convs else outputs[-1]
        return self.fpn_convs[len(feats) + i](source)

    def forward(self, body_feats: List[paddle.Tensor]) -> List[paddle.Tensor]:
        feats, laterals = [], []
        for i, feat in enumerate(body_feats):
            feat = self.input_attn(feat, i)
            feats.append(feat)
            laterals.append(self.lateral_convs[i](feat))
        num_levels = len(feats)
        for level in range(num_levels - 1, 0, -1):     # top-down: add the upsampled coarser one
            laterals[level - 1] = laterals[level - 1] + F.interpolate(
                laterals[level], scale_factor=2., mode="nearest")

        outputs = []
        for level in range(num_levels):
            outputs.append(self.output_attn(self.fpn_convs[level](laterals[level]), level))
        for i in range(self.extra_stage):
            outputs.append(self.output_attn(self._extra_level(i, feats, outputs),
                                            num_levels + i))
        return outputs
