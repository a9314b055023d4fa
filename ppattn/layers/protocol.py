"""What the rest of ppattn may ask of an attention block, and nothing else.

Every block subclasses `AttentionBlock` (a `paddle.nn.Layer`) and answers four questions itself,
in the way mmcv's `init_weights`/`reset_parameters` put initialisation on the layer. Code outside
`ppattn.layers` asks through the functions below and never branches on a block's class:

- `replaces_conv` (class attribute): False for a block that keeps [N, C, H, W]; True for one that
  replaces a conv and takes `out_channels` and `stride` (PSA).
- `flops(input_shape) -> int`: conv and linear multiply-adds plus elementwise operations (pooling,
  activations, gates, the final scale) for one forward pass on an input of that shape.
- `init_identity()`: make the block start as (nearly) the identity, so inserting it into a
  pretrained network does not halve its features. Raises a ValueError naming the reason where
  that is impossible. A gating block usually calls `open_gate` on the layer feeding its gate.
- `attention_maps(x) -> dict`: the gates the block applies to `x`, by name, e.g.
  {'channel': [N, C, 1, 1]} or {'spatial': [N, 1, H, W]}.

A third-party block registered with `register_attention` need not subclass `AttentionBlock`;
asking it for a capability it lacks raises a TypeError naming the block and the capability.
"""
import math
from typing import Callable, Dict, Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

# Not exactly 1: Paddle's hardsigmoid has zero gradient at 1, so the gate would never train.
IDENTITY_GATE = 0.9975

_GATE_INVERSES = {
    F.sigmoid: lambda g: math.log(g / (1.0 - g)),
    F.hardsigmoid: lambda g: (g - 0.5) * 6.0,   # Paddle's hardsigmoid: slope 1/6, offset 0.5
    F.relu: lambda g: g,
    F.relu6: lambda g: g,
}


class AttentionBlock(nn.Layer):
    """Base class of ppattn's blocks: the protocol with its defaults (see the module docstring)."""

    replaces_conv: bool = False

    def flops(self, input_shape: Sequence[int]) -> int:
        raise TypeError(f"{type(self).__name__} does not count its FLOPs (no flops method)")

    def init_identity(self) -> None:
        raise ValueError(f"{type(self).__name__} has no identity initialisation")

    def attention_maps(self, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
        raise TypeError(f"{type(self).__name__} does not expose its attention maps")


def identity_bias(gate: Callable, owner: str) -> float:
    """Return the bias b with gate(b) = IDENTITY_GATE, for sigmoid, hardsigmoid, relu and relu6.

    A block's `init_identity` zeroes the weights feeding its gate and sets their bias to this.
    """
    inverse = _GATE_INVERSES.get(gate)
    if inverse is None:
        raise ValueError(f"{owner}: init 'identity' needs a gate with a known inverse "
                         f"(sigmoid, hardsigmoid, relu, relu6), got "
                         f"{getattr(gate, '__name__', gate)!r}")
    return inverse(IDENTITY_GATE)


def open_gate(layer: nn.Layer, gate: Callable, owner: str) -> None:
    """Zero the weights of `layer`, the layer feeding `gate`, and set its bias so the gate
    outputs IDENTITY_GATE for every input: what `init_identity` does in a gating block."""
    bias = identity_bias(gate, owner)
    layer.weight.set_value(paddle.zeros_like(layer.weight))
    layer.bias.set_value(paddle.full_like(layer.bias, bias))


def _require(block: nn.Layer, capability: str):
    method = getattr(block, capability, None)
    if not callable(method):
        raise TypeError(f"{type(block).__name__} lacks {capability}(), part of the ppattn block "
                        f"protocol (ppattn.layers.protocol.AttentionBlock); subclass "
                        f"AttentionBlock or define {capability}()")
    return method


def block_flops(block: nn.Layer, input_shape: Sequence[int]) -> int:
    """`block.flops(input_shape)`, or a TypeError naming a block that cannot count."""
    return int(_require(block, "flops")(list(input_shape)))


def init_identity(block: nn.Layer) -> None:
    """`block.init_identity()`, or a TypeError naming a block without it."""
    _require(block, "init_identity")()


def attention_maps(block: nn.Layer, x: paddle.Tensor) -> Dict[str, paddle.Tensor]:
    """`block.attention_maps(x)`, or a TypeError naming a block without it."""
    return _require(block, "attention_maps")(x)


def replaces_conv(block_class: type) -> bool:
    """Whether a registered class replaces a conv (True) or keeps its input shape (False)."""
    return bool(getattr(block_class, "replaces_conv", False))
