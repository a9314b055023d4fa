"""AttnResNet: ppdet's ResNet (variants a-d, depths 18-152, DCN) with attention plugins."""
import warnings
from numbers import Integral
from typing import List, Mapping, Sequence, Union

import paddle.nn as nn
import paddle.nn.functional as F
from ppdet.modeling.backbones.name_adapter import NameAdapter
from ppdet.modeling.backbones.resnet import Blocks, ConvNormLayer, ResNet_cfg
from ppdet.modeling.shape_spec import ShapeSpec

from .plugins import Plugin, parse_plugins
from .registration import register_backbone
from .resnet_blocks import AttnBasicBlock, AttnBottleNeck, BlockFactory

_VARIANTS = ("a", "b", "c", "d")


def _as_list(value, argument: str) -> List[int]:
    if isinstance(value, Integral):
        return [int(value)]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"AttnResNet: {argument} must be an int or a non-empty list, "
                         f"got {value!r}")
    return list(value)


@register_backbone
class AttnResNet(nn.Layer):
    """ResNet / ResNeXt with attention blocks placed by `plugins`.

    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    https://arxiv.org/abs/1512.03385

    Every argument of ppdet 2.6.0's `ResNet` keeps its meaning and default. With no plugins the
    state-dict keys, shapes and outputs are those of ppdet's ResNet; `std_senet=True` is the
    plugin `{attn: {name: se, fc: linear, reduction: 16}, position: before_add}` listed first,
    which gives ppdet's `ResNet(std_senet=True)` keys and outputs. Bad arguments raise
    ValueError/TypeError where ppdet asserts.

    Args:
        depth: 18, 34 (BasicBlock), 50, 101, 152 (BottleNeck).
        ch_in: stem output channels.
        variant: 'a', 'b', 'c' or 'd'.
        lr_mult_list: learning-rate multipliers of the convs of the four stages.
        groups, base_width: ResNeXt cardinality and group width (BottleNeck only).
        norm_type, norm_decay, freeze_norm: BN type, its weight decay, and frozen BN.
        freeze_at: stop gradients of the stem and of stages 0..freeze_at (-1: none). This
            freezes plugin blocks in those stages too, so they keep their initialisation.
        return_idx: stages whose outputs are returned.
        dcn_v2_stages: stages whose 3x3 conv is deformable (v2); -1 for none.
        num_stages: number of stages built, 1 to 4.
        std_senet: ppdet's SE after the last conv of every block (see above).
        plugins: a list of `{attn: <spec>, position: <position>, stages: [bool] * num_stages}`;
            positions and sublayer names are documented in `ppattn.detection.backbones.plugins`. EPSANet-50:
            `depth=50, variant='b', plugins=[{attn: psa, position: replace_conv2}]`.

    Shape:
        inputs['image']: [N, 3, H, W] -> a list, per returned stage i, of
        [N, expansion * 64 * 2^i, H / 2^(i + 2), W / 2^(i + 2)] (rounded up).
    """
    __shared__ = ["norm_type"]
    __ppattn_backbone__ = True

    def __init__(self, depth: int = 50, ch_in: int = 64, variant: str = "b",
                 lr_mult_list: Sequence[float] = (1.0, 1.0, 1.0, 1.0), groups: int = 1,
                 base_width: int = 64, norm_type: str = "bn", norm_decay: float = 0.,
                 freeze_norm: bool = True, freeze_at: int = 0,
                 return_idx: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 dcn_v2_stages: Union[int, Sequence[int]] = (-1,), num_stages: int = 4,
                 std_senet: bool = False, plugins: Sequence[Mapping] = ()):
        super().__init__()
        self._check_arguments(depth, variant, lr_mult_list, groups, base_width, num_stages)
        self._model_type = "ResNet" if groups == 1 else "ResNeXt"   # read by NameAdapter
        self.depth, self.variant, self.groups, self.base_width = depth, variant, groups, base_width
        self.norm_type, self.norm_decay, self.freeze_norm = norm_type, norm_decay, freeze_norm
        self.freeze_at, self.num_stages = freeze_at, num_stages
        self.return_idx = self._check_stage_list(return_idx, "return_idx", num_stages)
        self.dcn_v2_stages = self._check_stage_list(dcn_v2_stages, "dcn_v2_stages", num_stages)
        block = AttnBottleNeck if depth >= 50 else AttnBasicBlock
        parsed = parse_plugins(plugins, num_stages, depth >= 50, depth, std_senet)
        self.conv1 = self._build_stem(ch_in)
        self._out_channels = [block.expansion * c for c in (64, 128, 256, 512)]
        self._out_strides = [4, 8, 16, 32]
        self.res_layers = []
        stage_in = ch_in
        for i in range(num_stages):
            factory = BlockFactory(block, [p for p in parsed if p.stages[i]],
                                    f"AttnResNet stage {i}")
            self.res_layers.append(self.add_sublayer(f"res{i + 2}", Blocks(
                factory, stage_in, (64, 128, 256, 512)[i], count=ResNet_cfg[depth][i],
                name_adapter=NameAdapter(self), stage_num=i + 2, variant=variant, groups=groups,
                base_width=base_width, lr=lr_mult_list[i], norm_type=norm_type,
                norm_decay=norm_decay, freeze_norm=freeze_norm,
                dcn_v2=i in self.dcn_v2_stages)))
            stage_in = self._out_channels[i]
        self._freeze(parsed)

    @staticmethod
    def _check_arguments(depth, variant, lr_mult_list, groups, base_width, num_stages) -> None:
        if depth not in ResNet_cfg:
            raise ValueError(f"AttnResNet: unknown depth {depth!r}; known: "
                             f"{', '.join(map(str, sorted(ResNet_cfg)))}")
        if variant not in _VARIANTS:
            raise ValueError(f"AttnResNet: unknown variant {variant!r}; known: "
                             f"{', '.join(_VARIANTS)}")
        if len(lr_mult_list) != 4:
            raise ValueError(f"AttnResNet: lr_mult_list needs 4 entries, got {list(lr_mult_list)}")
        if depth < 50 and (groups != 1 or base_width != 64):
            raise ValueError(f"AttnResNet: depth {depth} (BasicBlock) needs groups=1 and "
                             f"base_width=64, got groups={groups}, base_width={base_width}")
        if isinstance(num_stages, bool) or num_stages not in (1, 2, 3, 4):
            raise ValueError(f"AttnResNet: num_stages must be 1 to 4, got {num_stages!r}")

    @staticmethod
    def _check_stage_list(value, argument: str, num_stages: int) -> List[int]:
        stages = _as_list(value, argument)
        if max(stages) >= num_stages:
            raise ValueError(f"AttnResNet: {argument} {value!r} names a stage >= num_stages "
                             f"({num_stages})")
        return stages

    def _build_stem(self, ch_in: int) -> nn.Sequential:
        if self.variant in ("c", "d"):
            conv_def = [(3, ch_in // 2, 3, 2, "conv1_1"), (ch_in // 2, ch_in // 2, 3, 1, "conv1_2"),
                        (ch_in // 2, ch_in, 3, 1, "conv1_3")]
        else:
            conv_def = [(3, ch_in, 7, 2, NameAdapter(self).fix_c1_stage_name())]
        stem = nn.Sequential()
        for c_in, c_out, k, s, name in conv_def:
            stem.add_sublayer(name, ConvNormLayer(
                ch_in=c_in, ch_out=c_out, filter_size=k, stride=s, groups=1, act="relu",
                norm_type=self.norm_type, norm_decay=self.norm_decay,
                freeze_norm=self.freeze_norm, lr=1.0))
        return stem

    def _freeze(self, plugins: Sequence[Plugin]) -> None:
        if self.freeze_at < 0:
            return
        frozen = range(min(self.freeze_at + 1, self.num_stages))
        for layer in [self.conv1] + [self.res_layers[i] for i in frozen]:
            for param in layer.parameters():
                param.stop_gradient = True
        for plugin in plugins:   # std_senet's SE (index -1) is frozen in ppdet too
            if plugin.index >= 0 and any(plugin.stages[i] for i in frozen):
                warnings.warn(f"AttnResNet: plugins[{plugin.index}] ({plugin.attn!r} at "
                              f"{plugin.position}) sits in a stage frozen by freeze_at="
                              f"{self.freeze_at}; its blocks there keep their initialisation")

    @property
    def out_shape(self):
        return [ShapeSpec(channels=self._out_channels[i], stride=self._out_strides[i])
                for i in self.return_idx]

    def forward(self, inputs):
        x = F.max_pool2d(self.conv1(inputs["image"]), kernel_size=3, stride=2, padding=1)
        outs = []
        for idx, stage in enumerate(self.res_layers):
            x = stage(x)
            if idx in self.return_idx:
                outs.append(x)
        return outs
