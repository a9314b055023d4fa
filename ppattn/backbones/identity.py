"""Identity initialisation: start a newly inserted gating block with its gate near 1.

A sigmoid or hardsigmoid gate gives about 0.5 at a fresh initialisation, so a block inserted into
a pretrained network halves the features it gates. With `init: identity` in a spec the backbone
zeroes the weights of the layer that feeds the gate and sets its bias to gate^-1(IDENTITY_GATE):
the gate starts at IDENTITY_GATE for every input, and still learns (its slope there is non-zero).

- SELayer: fc2 (fc='conv') or extract (fc='linear').  EffectiveSELayer: fc.
- GatherExcite: the MLP's fc2; without the MLP, the BN after the last learned gather conv.
- ECALayer: refused. Its conv1d has no bias, so the gate is sigmoid(w * pooled); no weight makes
  that near 1 for every input (a zero kernel gives exactly 0.5).
- PSAModule: refused. It replaces a conv, so there is no gate to open.

Hardsigmoid is not set to exactly 1 (bias 3): Paddle's hardsigmoid has zero gradient at 1, so
the block would never train.
"""
import math
from typing import Callable

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ..layers import ECALayer, EffectiveSELayer, GatherExcite, PSAModule, SELayer

IDENTITY_GATE = 0.9975

_GATE_INVERSES = {
    F.sigmoid: lambda g: math.log(g / (1.0 - g)),
    F.hardsigmoid: lambda g: (g - 0.5) * 6.0,   # Paddle's hardsigmoid: slope 1/6, offset 0.5
    F.relu: lambda g: g,
    F.relu6: lambda g: g,
}
_GATE_NAMES = "sigmoid, hardsigmoid, relu, relu6"
_SUPPORTED = "SELayer, EffectiveSELayer, GatherExcite"


def identity_bias(gate: Callable, where: str) -> float:
    """Return the bias b with gate(b) = IDENTITY_GATE, for the gates in `_GATE_INVERSES`."""
    inverse = _GATE_INVERSES.get(gate)
    if inverse is None:
        raise ValueError(f"{where}: init 'identity' needs a gate with a known inverse "
                         f"({_GATE_NAMES}), got {getattr(gate, '__name__', gate)!r}")
    return inverse(IDENTITY_GATE)


def _gate_input(block: nn.Layer, where: str):
    """Return (layer whose output the gate sees, gate function) of a gating block."""
    if isinstance(block, SELayer):
        return (block.fc2 if block.fc_kind == "conv" else block.extract), block.gate
    if isinstance(block, EffectiveSELayer):
        return block.fc, block.act
    if isinstance(block, GatherExcite):
        if block.mlp is not None:
            return block.mlp.fc2, block.gate
        last = block.gather.steps[-1][-1] if block.gather is not None else None
        if isinstance(last, nn.BatchNorm2D):
            return last, block.gate
        raise ValueError(f"{where}: init 'identity' needs GatherExcite with use_mlp=True, or "
                         f"extra_params=True with norm=True; got a gate without parameters")
    if isinstance(block, ECALayer):
        raise ValueError(f"{where}: init 'identity' is impossible for ECALayer: its conv has no "
                         f"bias, so no weight makes sigmoid(w * pooled) near 1 for every input; "
                         f"supported: {_SUPPORTED}")
    if isinstance(block, PSAModule):
        raise ValueError(f"{where}: init 'identity' is not meaningful for PSAModule, which "
                         f"replaces a conv rather than gating one; supported: {_SUPPORTED}")
    raise ValueError(f"{where}: init 'identity' does not know {type(block).__name__}; "
                     f"supported: {_SUPPORTED}")


def init_as_identity(block: nn.Layer, where: str) -> None:
    """Make `block`'s gate start at IDENTITY_GATE for every input (see the module docstring)."""
    layer, gate = _gate_input(block, where)
    bias = identity_bias(gate, where)
    layer.weight.set_value(paddle.zeros_like(layer.weight))
    layer.bias.set_value(paddle.full_like(layer.bias, bias))
