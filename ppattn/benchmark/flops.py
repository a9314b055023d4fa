"""Count FLOPs honestly: conv/linear multiply-adds plus the elementwise work of attention blocks.

Convention (stated in every report):
- `macs`: multiply-accumulates of Conv1D/Conv2D/Linear layers, 1 per multiply-add, bias adds not
  included. This is what papers and `paddle.flops` call "FLOPs". Inside an attention block they
  come from its formula below, since blocks may apply their FC weights as matrix products
  without calling the conv layer.
- `elementwise`: the work of an attention block outside its conv/linear layers, 1 per
  elementwise operation per element: pooling (1 add per input element + 1 divide per mean),
  bias adds, activations and gates, softmax (5 per element: max, subtract, exp, sum, divide),
  and the scale multiply (1 per output element). Copies (stack, flip, concat, broadcasting
  resize) count 0 though they cost time: that gap is what the latency columns show.
- `flops = macs + elementwise`. Whole models add only their attention blocks' elementwise work;
  BN, activations and adds elsewhere in the network are left out, as `paddle.flops` leaves them.
"""
from typing import Callable, Dict, NamedTuple, Optional, Sequence

import paddle.nn as nn

from ..layers import ECALayer, EffectiveSELayer, GatherExcite, PSAModule, SELayer

Shape = Sequence[int]


class FlopCount(NamedTuple):
    macs: int
    elementwise: int

    @property
    def flops(self) -> int:
        return self.macs + self.elementwise


def _numel(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def pool_flops(shape: Shape) -> int:
    """Mean over H, W of an [N, C, H, W] tensor: N*C*H*W adds + N*C divides."""
    return _numel(shape) + _numel(shape[:2])


def floor_flops(shape: Shape) -> int:
    """The floor, x * x.mean([2, 3], keepdim=True): the pool plus one multiply per element."""
    return pool_flops(shape) + _numel(shape)


def _se(block: SELayer, shape: Shape) -> FlopCount:
    n, c = shape[0], shape[1]
    rd = block.rd_channels
    return FlopCount(2 * n * rd * c,                                           # fc1, fc2
                     floor_flops(shape) + n * (rd + c) + n * rd + n * c)      # biases, act, gate


def _ese(block: nn.Layer, shape: Shape) -> FlopCount:
    n, c = shape[0], shape[1]
    return FlopCount(n * c * c, floor_flops(shape) + 2 * n * c)             # fc; bias, gate


def _eca(block: ECALayer, shape: Shape) -> FlopCount:
    n, c = shape[0], shape[1]
    return FlopCount(n * c * block.kernel_size, floor_flops(shape) + n * c)  # conv; gate


def _ge_gather_sides(block: GatherExcite, side: int) -> list:
    """Sides of the map after each gather step (one entry for a parameter-free gather)."""
    if block.gather is not None and block.extent == 0:
        return [side - block.feat_size + 1]
    if block.gather is not None:
        sides = []
        for _ in block.gather.steps:
            side = (side + 1) // 2
            sides.append(side)
        return sides
    if block.extent == 0:
        return [1]
    e = block.extent
    return [(side + 2 * (e - 1) - (2 * e - 1)) // e + 1]


def _ge_gather(block: GatherExcite, shape: Shape, areas: list) -> int:
    n, c = int(shape[0]), int(shape[1])
    if block.gather is not None:                                      # BN per step, act between
        return sum(n * c * area * (2 * (len(step) - 1) + (i < len(areas) - 1))
                   for i, (area, step) in enumerate(zip(areas, block.gather.steps)))
    ctx = n * c * areas[-1]
    window = 1 if block.extent == 0 else (2 * block.extent - 1) ** 2
    gather = pool_flops(shape) if block.extent == 0 else ctx * (window + 1)  # sums + divides
    if block.add_maxpool:                                             # max, then 0.5 a + 0.5 b
        gather += (_numel(shape) if block.extent == 0 else ctx * window) + 3 * ctx
    return gather


def _ge_gather_macs(block: GatherExcite, n: int, c: int, areas: list) -> int:
    """Multiply-adds of the learned gather's depthwise convs."""
    if block.gather is None:
        return 0
    kernels = [int(step[0].weight.shape[-1]) ** 2 for step in block.gather.steps]
    return sum(n * c * area * k for area, k in zip(areas, kernels))


def _ge(block: GatherExcite, shape: Shape) -> FlopCount:
    n, c = int(shape[0]), int(shape[1])
    areas = [h * w for h, w in zip(_ge_gather_sides(block, int(shape[2])),
                                   _ge_gather_sides(block, int(shape[3])))]
    macs, mlp = _ge_gather_macs(block, n, c, areas), 0
    if block.mlp is not None:
        rd = int(block.mlp.fc1.weight.shape[0])
        macs += 2 * n * areas[-1] * rd * c                            # fc1, fc2
        mlp = n * areas[-1] * (2 * rd + c)                            # biases + act
    elementwise = _ge_gather(block, shape, areas) + mlp + n * c * areas[-1] + _numel(shape)
    return FlopCount(macs, elementwise)                               # ... + gate, scale


def _psa(block: PSAModule, shape: Shape) -> FlopCount:
    n, _, h, w = (int(d) for d in shape)
    stride = block.conv_1._stride[0]
    c = block.out_channels
    out = [n, c, (h + stride - 1) // stride, (w + stride - 1) // stride]
    branch = [n, c // 4, out[2], out[3]]
    convs = (block.conv_1, block.conv_2, block.conv_3, block.conv_4)
    rd = block.se.rd_channels
    macs = sum(layer_macs(conv, branch) for conv in convs) + n * 4 * 2 * rd * (c // 4)
    se = pool_flops(out) + n * 4 * (2 * rd + c // 4) + n * c        # pool, biases, act, gate
    return FlopCount(macs, se + 5 * n * c + _numel(out))             # softmax, weighting


ELEMENTWISE_COUNTERS: Dict[type, Callable[[nn.Layer, Shape], FlopCount]] = {
    SELayer: _se, EffectiveSELayer: _ese, ECALayer: _eca, GatherExcite: _ge, PSAModule: _psa,
}


def layer_macs(layer: nn.Layer, output_shape: Shape) -> int:
    """Multiply-adds of one Conv1D/Conv2D/Linear call with the given output shape, else 0."""
    if isinstance(layer, (nn.Conv1D, nn.Conv2D)):
        return _numel(output_shape) * _numel(layer.weight.shape[1:])
    if isinstance(layer, nn.Linear):
        return _numel(output_shape) * int(layer.weight.shape[0])
    return 0


def _counter_for(layer: nn.Layer, counters: Dict[type, Callable]) -> Optional[Callable]:
    """The counter of the layer's class or its nearest counted base class (so subclasses count)."""
    for cls in type(layer).__mro__:
        if cls in counters:
            return counters[cls]
    return None


def count_flops(model: nn.Layer, run: Callable[[], object],
                counters: Optional[Dict[type, Callable]] = None) -> FlopCount:
    """Call `run()` once (it should call `model`) and count what every sublayer did.

    Attention blocks (types in `counters`, default ELEMENTWISE_COUNTERS) add their formula's
    multiply-adds and elementwise work, and nothing inside them is hooked twice: a layer or
    block inside a counted block is covered by the outer one's formula.
    """
    counters = ELEMENTWISE_COUNTERS if counters is None else counters
    totals = {"macs": 0, "elementwise": 0, "depth": 0}
    handles = []

    def on_output(layer, inputs, output):
        if totals["depth"] == 0:
            totals["macs"] += layer_macs(layer, output.shape)

    def enter(layer, inputs):
        if totals["depth"] == 0:
            count = _counter_for(layer, counters)(layer, inputs[0].shape)
            totals["macs"] += count.macs
            totals["elementwise"] += count.elementwise
        totals["depth"] += 1

    def leave(layer, inputs, output):
        totals["depth"] -= 1

    for layer in model.sublayers(include_self=True):
        if isinstance(layer, (nn.Conv1D, nn.Conv2D, nn.Linear)):
            handles.append(layer.register_forward_post_hook(on_output))
        if _counter_for(layer, counters) is not None:
            handles.append(layer.register_forward_pre_hook(enter))
            handles.append(layer.register_forward_post_hook(leave))
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return FlopCount(totals["macs"], totals["elementwise"])
