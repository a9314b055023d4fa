"""AttnCSPResNet: PP-YOLOE's CSPResNet with a choice of attention block in every stage."""
import copy
from typing import Callable, Optional, Sequence, Union

import paddle
import paddle.nn as nn
from ppdet.modeling.backbones.cspresnet import BasicBlock, ConvBNLayer
from ppdet.modeling.ops import get_act_fn
from ppdet.modeling.shape_spec import ShapeSpec

from ...registry import AttentionSpec
from .slots import build_in_place, per_stage
from .registration import register_backbone

StageSpecs = Union[AttentionSpec, Sequence[AttentionSpec]]
Activation = Union[None, str, dict, Callable]   # as ppdet's get_act_fn takes it


class AttnCSPBasicBlock(BasicBlock):
    """ppdet's CSPResNet BasicBlock with an optional block `attn` before the residual add.

    Shape:
        x: [N, C, H, W] -> [N, C, H, W]
    """

    def __init__(self, channels: int, act: Callable, use_alpha: bool, attn: Optional[nn.Layer]):
        super().__init__(channels, channels, act=act, shortcut=True, use_alpha=use_alpha)
        self.attn = attn

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.conv2(self.conv1(x))
        if self.attn is not None:
            y = self.attn(y)
        return paddle.add(x, y)


class AttnCSPResStage(nn.Layer):
    """ppdet's CSPResStage, with the block after the concat chosen by a spec.

    Same sublayers, order and forward as `ppdet.modeling.backbones.cspresnet.CSPResStage`;
    ppdet hard-codes EffectiveSELayer as `attn`.

    Shape:
        x: [N, ch_in, H, W] -> [N, ch_out, ceil(H / 2), ceil(W / 2)]
    """

    def __init__(self, ch_in: int, ch_out: int, n: int, act: Callable, use_alpha: bool,
                 attn: AttentionSpec, block_attn: AttentionSpec, where: str):
        super().__init__()
        ch_mid = (ch_in + ch_out) // 2
        self.conv_down = ConvBNLayer(ch_in, ch_mid, 3, stride=2, padding=1, act=act)
        self.conv1 = ConvBNLayer(ch_mid, ch_mid // 2, 1, act=act)
        self.conv2 = ConvBNLayer(ch_mid, ch_mid // 2, 1, act=act)
        self.blocks = nn.Sequential(*[
            AttnCSPBasicBlock(ch_mid // 2, act, use_alpha,
                           build_in_place(block_attn, ch_mid // 2, f"{where} block_attn"))
            for _ in range(n)])
        # ppdet names this 'attn'; the name stays whatever block fills it
        self.attn = build_in_place(attn, ch_mid, f"{where} attn")
        self.conv3 = ConvBNLayer(ch_mid, ch_out, 1, act=act)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.conv_down(x)
        y = paddle.concat([self.conv1(x), self.blocks(self.conv2(x))], axis=1)
        if self.attn is not None:
            y = self.attn(y)
        return self.conv3(y)


def _check_sizes(layers, channels, width_mult, depth_mult) -> None:
    """Refuse sizes that ppdet's rounding would silently turn into one block or one channel."""
    for name, value in (("width_mult", width_mult), ("depth_mult", depth_mult)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
            raise ValueError(f"AttnCSPResNet: {name} must be a number > 0, got {value!r}")
    for name, values in (("layers", layers), ("channels", channels)):
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
            raise ValueError(f"AttnCSPResNet: every entry of {name} must be an int >= 1, "
                             f"got {list(values)}")


@register_backbone
class AttnCSPResNet(nn.Layer):
    """CSPResNet (PP-YOLOE) with a choice of attention block in every stage.

    Xu et al., "PP-YOLOE: An evolved version of YOLO", 2022. https://arxiv.org/abs/2203.16250

    Every argument of ppdet 2.6.0's `CSPResNet` keeps its meaning and default (`depth_wise` is
    unused there too). With the default `attn='ese'` and `block_attn=None` the state-dict keys,
    shapes and outputs are those of ppdet's CSPResNet, so PP-YOLOE weights load unchanged.
    Unlike ppdet's, unknown arguments are an error rather than silently dropped.

    Args:
        layers, channels: blocks per stage and the stem + stage widths, before depth/width_mult.
        act: activation (name, `{name: ..., **args}` or callable).
        return_idx: stages whose outputs are returned.
        use_large_stem: three stem convs instead of two.
        width_mult, depth_mult: scale channels and layers (rounded, at least 1).
        trt: use TensorRT-friendly activations.
        use_checkpoint: recompute stages in training to save memory. Unlike ppdet's, building
            with it leaves the global random generator alone: the recompute keeps each stage's
            random state itself (`preserve_rng_state`).
        use_alpha: learnable branch weight in the RepVGG blocks.
        attn: the block after each stage's concat (sublayer `stages.<i>.attn`, ppdet's ESE slot):
            an attention spec for every stage, or a list with one spec per stage. A dict spec may
            add `init: identity` (see `ppattn.detection.backbones.identity`).
        block_attn: a block inside every residual BasicBlock, after its convs and before the add
            (sublayer `stages.<i>.blocks.<j>.attn`); a spec or a per-stage list. None by default.

    Shape:
        inputs['image']: [N, 3, H, W] -> a list, per returned stage i, of
        [N, channels[i + 1], H / 2^(i + 2), W / 2^(i + 2)] (rounded up).
    """
    __shared__ = ["width_mult", "depth_mult", "trt"]
    __ppattn_backbone__ = True

    def __init__(self, layers: Sequence[int] = (3, 6, 6, 3),
                 channels: Sequence[int] = (64, 128, 256, 512, 1024), act: Activation = "swish",
                 return_idx: Sequence[int] = (1, 2, 3), depth_wise: bool = False,
                 use_large_stem: bool = False, width_mult: float = 1.0, depth_mult: float = 1.0,
                 trt: bool = False, use_checkpoint: bool = False, use_alpha: bool = False,
                 attn: StageSpecs = "ese", block_attn: StageSpecs = None):
        super().__init__()
        if len(layers) != len(channels) - 1:
            raise ValueError(f"AttnCSPResNet: layers needs len(channels) - 1 = "
                             f"{len(channels) - 1} entries, got {list(layers)}")
        _check_sizes(layers, channels, width_mult, depth_mult)
        self.use_checkpoint = use_checkpoint
        channels = [max(round(c * width_mult), 1) for c in channels]
        layers = [max(round(n * depth_mult), 1) for n in layers]
        if act is None or isinstance(act, (str, dict)):
            act = get_act_fn(copy.deepcopy(act), trt=trt)   # get_act_fn pops 'name' from a dict
        self.stem = self._build_stem(channels[0], act, use_large_stem)
        num_stages = len(layers)
        stage_attn = per_stage(attn, num_stages, "AttnCSPResNet attn")
        stage_block_attn = per_stage(block_attn, num_stages, "AttnCSPResNet block_attn")
        self.stages = nn.Sequential(*[(str(i), AttnCSPResStage(
            channels[i], channels[i + 1], layers[i], act, use_alpha, stage_attn[i],
            stage_block_attn[i], f"AttnCSPResNet stage {i}")) for i in range(num_stages)])
        self._out_channels = channels[1:]
        self._out_strides = [4 * 2**i for i in range(num_stages)]
        self.return_idx = list(return_idx)
        bad = [i for i in self.return_idx if not 0 <= i < num_stages]
        if bad:
            raise ValueError(f"AttnCSPResNet: return_idx {list(return_idx)} has {bad}; "
                             f"stages are 0..{num_stages - 1}")

    @staticmethod
    def _build_stem(width: int, act: Callable, use_large_stem: bool) -> nn.Sequential:
        convs = [("conv1", ConvBNLayer(3, width // 2, 3, stride=2, padding=1, act=act))]
        if use_large_stem:
            convs.append(("conv2", ConvBNLayer(width // 2, width // 2, 3, padding=1, act=act)))
            convs.append(("conv3", ConvBNLayer(width // 2, width, 3, padding=1, act=act)))
        else:
            convs.append(("conv2", ConvBNLayer(width // 2, width, 3, padding=1, act=act)))
        return nn.Sequential(*convs)

    def forward(self, inputs):
        x = self.stem(inputs["image"])
        outs = []
        for idx, stage in enumerate(self.stages):
            if self.use_checkpoint and self.training:
                x = paddle.distributed.fleet.utils.recompute(
                    stage, x, **{"preserve_rng_state": True})
            else:
                x = stage(x)
            if idx in self.return_idx:
                outs.append(x)
        return outs

    @property
    def out_shape(self):
        return [ShapeSpec(channels=self._out_channels[i], stride=self._out_strides[i])
                for i in self.return_idx]
