"""PyTorch mirrors of the blocks, written as the reference implementations write them.

SE, Effective SE, ECA and Gather-Excite follow timm's `SEModule`, `EffectiveSEModule`,
`EcaModule` and `GatherExcite` (timm/layers/squeeze_excite.py, eca.py and gather_excite.py of
https://github.com/huggingface/pytorch-image-models/tree/v1.0.9); PSA follows the authors'
EPSANet code, its per-branch SE calls and concat loop included
(https://github.com/murufeng/EPSANet/blob/8f502931eda70e3770bbc0cb07d6d60082b27094/models/epsanet.py).
A mirror is built from a ppattn block with the same sizes and sublayer names, so a Paddle state
dict loads into it unchanged. Import this module only when torch is installed.
"""
from typing import Optional

import numpy as np
import paddle.nn.functional as PF
import torch
import torch.nn as tnn
import torch.nn.functional as F

from ..layers import ECALayer, EffectiveSELayer, GatherExcite, PSAModule, SELayer

_ACTIVATIONS = {PF.relu: F.relu, PF.sigmoid: torch.sigmoid, PF.hardsigmoid: F.hardsigmoid,
                PF.silu: F.silu, PF.relu6: F.relu6}


class SEModule(tnn.Module):
    def __init__(self, channels: int, rd_channels: int, act, gate):
        super().__init__()
        self.fc1 = tnn.Conv2d(channels, rd_channels, 1)
        self.fc2 = tnn.Conv2d(rd_channels, channels, 1)
        self.act, self.gate = act, gate

    def forward(self, x):
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.fc2(self.act(self.fc1(x_se)))
        return x * self.gate(x_se)


class EffectiveSEModule(tnn.Module):
    def __init__(self, channels: int, gate):
        super().__init__()
        self.fc = tnn.Conv2d(channels, channels, 1)
        self.gate = gate

    def forward(self, x):
        x_se = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.fc(x_se))


class EcaModule(tnn.Module):
    def __init__(self, kernel_size: int):
        super().__init__()
        self.conv = tnn.Conv1d(1, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)

    def forward(self, x):
        y = x.mean((2, 3)).view(x.shape[0], 1, -1)
        y = torch.sigmoid(self.conv(y))
        return x * y.view(x.shape[0], -1, 1, 1).expand_as(x)


class GatherExciteModule(tnn.Module):
    """timm's GatherExcite without extra params (global or strided average gather)."""

    def __init__(self, channels: int, rd_channels: Optional[int], extent: int, add_maxpool: bool,
                 act, gate):
        super().__init__()
        self.extent, self.add_maxpool, self.act, self.gate = extent, add_maxpool, act, gate
        self.mlp = None
        if rd_channels is not None:
            self.mlp = tnn.Module()
            self.mlp.fc1 = tnn.Conv2d(channels, rd_channels, 1)
            self.mlp.fc2 = tnn.Conv2d(rd_channels, channels, 1)

    def forward(self, x):
        size = x.shape[-2:]
        if self.extent == 0:
            x_ge = x.mean((2, 3), keepdim=True)
            if self.add_maxpool:
                x_ge = 0.5 * x_ge + 0.5 * x.amax((2, 3), keepdim=True)
        else:
            k, s = 2 * self.extent - 1, self.extent
            x_ge = F.avg_pool2d(x, k, s, k // 2, count_include_pad=False)
            if self.add_maxpool:
                x_ge = 0.5 * x_ge + 0.5 * F.max_pool2d(x, k, s, k // 2)
        if self.mlp is not None:
            x_ge = self.mlp.fc2(self.act(self.mlp.fc1(x_ge)))
        if x_ge.shape[-1] != 1 or x_ge.shape[-2] != 1:
            x_ge = F.interpolate(x_ge, size=size)
        return x * self.gate(x_ge)


class SEWeightModule(tnn.Module):
    def __init__(self, channels: int, rd_channels: int):
        super().__init__()
        self.avg_pool = tnn.AdaptiveAvgPool2d(1)
        self.fc1 = tnn.Conv2d(channels, rd_channels, 1)
        self.fc2 = tnn.Conv2d(rd_channels, channels, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc2(F.relu(self.fc1(self.avg_pool(x)))))


class PSAModuleTorch(tnn.Module):
    def __init__(self, block: PSAModule):
        super().__init__()
        self.split = block.out_channels // 4
        for i in range(1, 5):
            conv = getattr(block, f"conv_{i}")
            setattr(self, f"conv_{i}", tnn.Conv2d(
                block.in_channels, self.split, conv._kernel_size, stride=conv._stride,
                padding=conv._padding, groups=conv._groups, bias=False))
        self.se = SEWeightModule(self.split, block.se.rd_channels)

    def forward(self, x):
        branches = [self.conv_1(x), self.conv_2(x), self.conv_3(x), self.conv_4(x)]
        n = x.shape[0]
        feats = torch.cat(branches, dim=1)
        feats = feats.view(n, 4, self.split, feats.shape[2], feats.shape[3])
        x_se = torch.cat([self.se(b) for b in branches], dim=1)
        attention = torch.softmax(x_se.view(n, 4, self.split, 1, 1), dim=1)
        weighted = feats * attention
        out = weighted[:, 0]
        for i in range(1, 4):
            out = torch.cat((weighted[:, i], out), 1)
        return out


def _act(fn):
    return _ACTIVATIONS.get(fn)


def mirror_of(block) -> Optional[tnn.Module]:
    """Return the torch mirror of a ppattn block, or None where no reference form exists."""
    if isinstance(block, SELayer) and block.fc_kind == "conv" and _act(block.act) \
            and _act(block.gate):
        return SEModule(block.channels, block.rd_channels, _act(block.act), _act(block.gate))
    if isinstance(block, EffectiveSELayer) and _act(block.act):
        return EffectiveSEModule(block.channels, _act(block.act))
    if isinstance(block, ECALayer):
        return EcaModule(block.kernel_size)
    if isinstance(block, GatherExcite) and block.gather is None and _act(block.act) \
            and _act(block.gate):
        rd = None if block.mlp is None else int(block.mlp.fc1.weight.shape[0])
        return GatherExciteModule(block.channels, rd, block.extent, block.add_maxpool,
                                  _act(block.act), _act(block.gate))
    if isinstance(block, PSAModule):
        return PSAModuleTorch(block)
    return None


def load_paddle_weights(mirror: tnn.Module, block) -> None:
    """Copy a block's weights into its mirror (same keys; conv layouts agree)."""
    state = {k: torch.from_numpy(np.ascontiguousarray(v.numpy()))
             for k, v in block.state_dict().items()}
    mirror.load_state_dict(state, strict=True)
