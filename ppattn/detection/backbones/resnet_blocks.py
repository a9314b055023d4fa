"""AttnResNet's residual blocks: ppdet's BasicBlock and BottleNeck with attention plugins."""
from typing import Dict, List, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from ppdet.modeling.backbones.resnet import BasicBlock, BottleNeck

from .plugins import REPLACE, Plugin
from .slots import build_in_place, build_replacement

_IN_PLACE = ("after_conv1", "after_conv2", "after_conv3", "after_add")


class _PluginHost:
    """Adds the plugin blocks to a ppdet residual block and applies them by position."""

    def _add_plugins(self, plugins: Sequence[Plugin], channels: Dict[str, int],
                     conv2: tuple, dcn_v2: bool, where: str) -> None:
        self._at = {position: [] for position in _IN_PLACE}
        for plugin in plugins:
            if plugin.position == REPLACE:
                if dcn_v2:
                    raise ValueError(f"{where}: {REPLACE} cannot replace a deformable conv; "
                                     f"drop this stage from dcn_v2_stages or from the plugin")
                # branch2b keeps its BN and act, whose names pretrained weights use
                self.branch2b.conv = build_replacement(plugin.attn, *conv2, where)
                continue
            block = build_in_place(plugin.attn, channels[plugin.position], where)
            if block is not None:
                self._at[plugin.position].append(self.add_sublayer(plugin.name, block))

    def _apply(self, position: str, x: paddle.Tensor) -> paddle.Tensor:
        for block in self._at[position]:
            x = block(x)
        return x

    def _shortcut(self, inputs: paddle.Tensor) -> paddle.Tensor:
        return inputs if self.shortcut else self.short(inputs)


class AttnBasicBlock(_PluginHost, BasicBlock):
    """ppdet's ResNet BasicBlock (ResNet-18/34) with plugins; `se` is after branch2b's BN.

    Shape:
        x: [N, ch_in, H, W] -> [N, ch_out, H / stride, W / stride]
    """

    def __init__(self, ch_in: int, ch_out: int, stride: int, shortcut: bool, variant: str,
                 groups: int, base_width: int, lr: float, norm_type: str, norm_decay: float,
                 freeze_norm: bool, dcn_v2: bool, plugins: Sequence[Plugin], where: str):
        super().__init__(ch_in, ch_out, stride, shortcut, variant=variant, groups=groups,
                         base_width=base_width, lr=lr, norm_type=norm_type,
                         norm_decay=norm_decay, freeze_norm=freeze_norm, dcn_v2=dcn_v2)
        channels = dict.fromkeys(_IN_PLACE, ch_out)
        self._add_plugins(plugins, channels, (ch_out, ch_out, 1), dcn_v2, where)

    def forward(self, inputs: paddle.Tensor) -> paddle.Tensor:
        out = self._apply("after_conv1", self.branch2a(inputs))
        out = self._apply("after_conv2", self.branch2b(out))
        out = F.relu(paddle.add(x=out, y=self._shortcut(inputs)))
        return self._apply("after_add", out)


class AttnBottleNeck(_PluginHost, BottleNeck):
    """ppdet's ResNet BottleNeck (ResNet-50+, ResNeXt) with plugins; `se` is after branch2c's BN.

    Shape:
        x: [N, ch_in, H, W] -> [N, 4 * ch_out, H / stride, W / stride]
    """

    def __init__(self, ch_in: int, ch_out: int, stride: int, shortcut: bool, variant: str,
                 groups: int, base_width: int, lr: float, norm_type: str, norm_decay: float,
                 freeze_norm: bool, dcn_v2: bool, plugins: Sequence[Plugin], where: str):
        super().__init__(ch_in, ch_out, stride, shortcut, variant=variant, groups=groups,
                         base_width=base_width, lr=lr, norm_type=norm_type,
                         norm_decay=norm_decay, freeze_norm=freeze_norm, dcn_v2=dcn_v2)
        width = int(ch_out * (base_width / 64.)) * groups   # as ppdet computes it
        out = ch_out * self.expansion
        channels = {"after_conv1": width, "after_conv2": width, "after_conv3": out,
                    "after_add": out}
        stride2 = 1 if variant == "a" else stride
        self._add_plugins(plugins, channels, (width, width, stride2), dcn_v2, where)

    def forward(self, inputs: paddle.Tensor) -> paddle.Tensor:
        out = self._apply("after_conv1", self.branch2a(inputs))
        out = self._apply("after_conv2", self.branch2b(out))
        out = self._apply("after_conv3", self.branch2c(out))
        out = F.relu(paddle.add(x=out, y=self._shortcut(inputs)))
        return self._apply("after_add", out)


class BlockFactory:
    """What ppdet's `Blocks` calls to make each block of one stage: adds that stage's plugins."""

    def __init__(self, block_cls: type, plugins: List[Plugin], where: str):
        self.block_cls, self.plugins, self.where = block_cls, plugins, where
        self.expansion = block_cls.expansion

    def __call__(self, std_senet: bool, **kwargs) -> nn.Layer:
        # AttnResNet turns std_senet into the first plugin, so `Blocks` must never pass it on
        if std_senet:
            raise ValueError(f"{self.where}: std_senet reaches AttnResNet's blocks as a plugin "
                             f"(ppattn.detection.backbones.plugins.STD_SENET), not as a block argument; "
                             f"got std_senet=True")
        return self.block_cls(plugins=self.plugins, where=self.where, **kwargs)
