"""One attention slot of a neck: a block per feature level, built from the slot's spec."""
from typing import List, Sequence, Type, Union

import paddle
import paddle.nn as nn
from ppdet.core.workspace import serializable

from ..backbones.slots import build_in_place, check_spec, per_stage, split_init
from ...registry import AttentionSpec
from ..workspace import register_once

LevelSpecs = Union[AttentionSpec, Sequence[AttentionSpec]]


def register_neck(cls: Type) -> Type:
    """Class decorator: `@register @serializable`, tolerating re-registration of the same class
    (see `ppattn.detection.workspace.register_once`)."""
    return register_once(serializable(cls))


def per_level(specs: LevelSpecs, num_levels: int, where: str) -> List[AttentionSpec]:
    """Return one spec per level: a list or tuple must have `num_levels` entries, else repeat it."""
    if isinstance(specs, (list, tuple)) and len(specs) != num_levels:
        raise ValueError(f"{where}: got a list of {len(specs)} specs, expected one per level "
                         f"({num_levels}): {list(specs)!r}")
    return per_stage(specs, num_levels, where)


def level_name(where: str, level: int) -> str:
    """How an error names one level of a slot, e.g. 'AttnFPN.output_attn level 4'."""
    return f"{where} level {level}"


def check_level_specs(specs: LevelSpecs, num_levels: int, where: str) -> None:
    """Fail on a wrong list length or a bad name, argument or init at any level, before the
    neck builds anything."""
    for level, spec in enumerate(per_level(specs, num_levels, where)):
        name = level_name(where, level)
        try:
            spec, _ = split_init(spec)
        except ValueError as error:     # split_init's message names the spec, not the slot
            raise ValueError(f"{name}: {error}") from error
        check_spec(spec, name)


class LevelAttention(nn.Layer):
    """The blocks of one slot, sublayer `str(level)` for each level that has one.

    A level whose spec is None or 'none' gets no sublayer, so a slot left empty adds nothing to
    the state dict: the neck keeps its reference's keys.

    Args:
        specs: one spec for every level, or a list with one per level.
        channels: C of the feature at each level, in the slot's level order.
        where: the slot's name in error messages, e.g. 'AttnCustomCSPPAN.fpn_attn'.

    Shape:
        x at level i: [N, channels[i], H, W] -> [N, channels[i], H, W]
    """

    def __init__(self, specs: LevelSpecs, channels: Sequence[int], where: str):
        super().__init__()
        self.num_levels = len(channels)
        for level, spec in enumerate(per_level(specs, self.num_levels, where)):
            block = build_in_place(spec, channels[level], level_name(where, level))
            if block is not None:
                self.add_sublayer(str(level), block)

    def forward(self, x: paddle.Tensor, level: int) -> paddle.Tensor:
        block = self._sub_layers.get(str(level))
        return x if block is None else block(x)
