"""Find the attention blocks in a model and read their maps during one forward pass.

Every block answers `attention_maps(x)` itself (ppattn.layers.protocol). This module finds the
blocks, catches the input each one sees in a real forward pass (a forward pre-hook per block),
and asks each block for its maps on that input. Maps come back as NumPy arrays of one layout,
[N, K, h, w] per map, whatever the block's own layout:

- a block may fold groups into the batch (ShuffleAttention: [N * G, C / 2G, h, w]) or add a
  branch axis (PSA: [N, 4, C / 4, 1, 1]); both are read as N samples of K maps of h x w;
- a map with h = w = 1 is a channel gate (K values per sample), any other is spatial.

A block that cannot give maps (a third-party block without `attention_maps`) is reported with the
reason instead of stopping the others.
"""
import contextlib
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import paddle
import paddle.nn as nn

from ..layers.protocol import attention_maps
from ..registry import ATTENTIONS


class AttentionMapsError(ValueError):
    """The model gave no maps to show, or a block's maps do not read as per-sample gates."""


@dataclass
class BlockMaps:
    """What one block at one position gave on one batch.

    Attributes:
        name: the block's sublayer path, e.g. 'backbone.stages.2.attn'.
        block: the block's class name.
        input_shape: [N, C, H, W] of the tensor the block saw.
        maps: map name -> float32 array [N, K, h, w]; empty when the block has no maps.
        no_maps: why the block gave no maps, or None.
    """
    name: str
    block: str
    input_shape: List[int]
    maps: Dict[str, np.ndarray] = field(default_factory=dict)
    no_maps: Optional[str] = None


def find_blocks(model: nn.Layer,
                classes: Optional[Iterable[type]] = None) -> List[Tuple[str, nn.Layer]]:
    """The attention blocks of `model` as (sublayer path, block), in forward-registration order.

    A block is an instance of a registered class (`classes`, by default every class in
    `ppattn.registry.ATTENTIONS`). A block inside another block (PSA's SE) is part of the outer
    block's maps and is not listed.
    """
    classes = tuple(ATTENTIONS.values() if classes is None else classes)
    found: List[Tuple[str, nn.Layer]] = []
    for name, layer in model.named_sublayers():
        if not isinstance(layer, classes):
            continue
        if any(name.startswith(outer + ".") for outer, _ in found):
            continue
        found.append((name, layer))
    return found


@contextlib.contextmanager
def captured_inputs(blocks: Sequence[Tuple[str, nn.Layer]]) -> Iterator[Dict[str, list]]:
    """Within the context, every call of a block appends its first input to `inputs[name]`.

    The hooks are removed on leaving the context, also after an error.
    """
    inputs: Dict[str, list] = {name: [] for name, _ in blocks}
    handles = []

    def hook_for(name: str):
        def keep_input(layer, args):
            inputs[name].append(args[0].detach())
        return keep_input

    try:
        for name, block in blocks:
            handles.append(block.register_forward_pre_hook(hook_for(name)))
        yield inputs
    finally:
        for handle in handles:
            handle.remove()


def per_sample(owner: str, map_name: str, value, batch: int) -> np.ndarray:
    """Read one map of a block as [N, K, h, w] float32 (see the module docstring).

    Raises:
        AttentionMapsError: the map's first axis is not a multiple of N, or it has NaN or
            infinite values.
    """
    array = np.asarray(value.numpy() if isinstance(value, paddle.Tensor) else value)
    if array.ndim < 2 or array.shape[0] % batch:
        raise AttentionMapsError(
            f"{owner}: map {map_name!r} of shape {list(array.shape)} does not read as {batch} "
            f"sample(s): attention_maps must return [N, ...] (or [N * groups, ...]) tensors "
            f"for an input of N = {batch}")
    if not np.isfinite(array).all():
        raise AttentionMapsError(
            f"{owner}: map {map_name!r} has {int((~np.isfinite(array)).sum())} NaN or infinite "
            f"values: the weights or the input are broken (check the training log for a loss "
            f"that diverged)")
    h, w = (1, 1) if array.ndim == 2 else array.shape[-2:]
    return array.astype(np.float32).reshape(batch, -1, h, w)


def block_maps(name: str, block: nn.Layer, x: paddle.Tensor) -> BlockMaps:
    """Ask `block` for its maps on `x`; a block without them is returned with the reason."""
    result = BlockMaps(name, type(block).__name__, [int(d) for d in x.shape])
    try:
        with paddle.no_grad():
            maps = attention_maps(block, x)
    except TypeError as error:
        result.no_maps = str(error)
        return result
    if not maps:
        result.no_maps = f"{result.block}.attention_maps returned no maps"
        return result
    owner = f"{name} ({result.block})"
    result.maps = {key: per_sample(owner, key, value, result.input_shape[0])
                   for key, value in maps.items()}
    return result


def collect_maps(model: nn.Layer, forward: Callable[[], object],
                 classes: Optional[Iterable[type]] = None) -> List[BlockMaps]:
    """Run `forward()` (one pass of `model`) with every block's input captured; return the maps
    of every block, in the order of `find_blocks`. A block called k > 1 times in the pass gives
    k entries named 'path#1' .. 'path#k'; a block the pass did not run is reported without maps.

    Raises:
        AttentionMapsError: `model` has no attention block.
    """
    blocks = find_blocks(model, classes)
    if not blocks:
        raise AttentionMapsError(
            f"{type(model).__name__} has no attention block (no sublayer is one of "
            f"{', '.join(sorted(ATTENTIONS))}): set an attention spec in the config, e.g. "
            f"AttnCSPResNet.attn: {{name: eca}}")
    with captured_inputs(blocks) as inputs, paddle.no_grad():
        forward()
    collected = []
    for name, block in blocks:
        calls = inputs[name]
        if not calls:
            collected.append(BlockMaps(name, type(block).__name__, [],
                                       no_maps="the forward pass did not run this block"))
        for i, x in enumerate(calls, start=1):
            collected.append(block_maps(name if len(calls) == 1 else f"{name}#{i}", block, x))
    return collected
