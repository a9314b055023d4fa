"""AttnResNet's `plugins`: which attention blocks go where in each residual block, and their names.

A plugin is `{attn: <spec>, position: <position>, stages: [bool per stage]}` (`stages` optional,
default all), in the manner of mmdet's ResNet `plugins`, but every plugin listed is applied, in
list order, BasicBlock (ResNet-18/34) included.

Positions (inside every residual block of the enabled stages):
    after_conv1    after the first conv + BN + ReLU
    after_conv2    after the second conv's BN (+ ReLU in a BottleNeck)
    after_conv3    after the third conv's BN, before the add (BottleNeck only; SENet's place)
    before_add     after the last conv's BN, before the add: after_conv3 in a BottleNeck,
                   after_conv2 in a BasicBlock, so one config fits both
    after_add      after the residual add and ReLU
    replace_conv2  the block replaces the 3x3 conv of branch2b, keeping its BN and act and taking
                   its stride (EPSANet's PSA); at most one per stage, not in a dcn_v2 stage. The
                   block's own grouping (PSA's conv_groups) replaces ResNeXt's `groups` there

Sublayer names are fixed by the slot, never by the block type, so swapping a block never renames
other weights. The slot before the add is `se` (ppdet's std_senet name); the others are
`attn_conv1`, `attn_conv2` (BottleNeck) and `attn_add`. The k-th plugin (k = 1, 2, ...) listed for
the same slot, counted over the whole list whatever its stages, is named `<slot>_<k>`: `se`, `se_1`.
`replace_conv2` puts the block at `branch2b.conv`, so branch2b's BN keeps its name.
"""
from dataclasses import dataclass
from typing import List, Mapping, Sequence, Tuple

from ...registry import AttentionSpec
from .slots import check_spec

POSITIONS = ("after_conv1", "after_conv2", "after_conv3", "before_add", "after_add",
             "replace_conv2")
REPLACE = "replace_conv2"
_KEYS = ("attn", "position", "stages")
_SLOT_BASES = {"after_conv1": "attn_conv1", "after_conv2": "attn_conv2", "after_add": "attn_add"}
STD_SENET = {"name": "se", "fc": "linear", "reduction": 16}   # ppdet's ResNet SELayer


@dataclass(frozen=True)
class Plugin:
    """One parsed plugin: its spec, canonical position, enabled stages and sublayer name.

    `index` is the plugin's place in the user's list; -1 for the SE that std_senet adds.
    """
    attn: AttentionSpec
    position: str
    stages: Tuple[bool, ...]
    name: str
    index: int


def _check_keys(plugin, index: int) -> None:
    if not isinstance(plugin, Mapping):
        raise TypeError(f"AttnResNet plugins[{index}] must be a dict with keys "
                        f"{', '.join(_KEYS)}, got {plugin!r}")
    for key in plugin:
        if key not in _KEYS:
            raise TypeError(f"AttnResNet plugins[{index}] has unknown key {key!r}; "
                            f"accepted: {', '.join(_KEYS)}")
    for key in ("attn", "position"):
        if key not in plugin:
            raise ValueError(f"AttnResNet plugins[{index}] has no {key!r}: {dict(plugin)!r}")


def _canonical_position(position, index: int, bottleneck: bool, depth: int) -> str:
    if position not in POSITIONS:
        raise ValueError(f"AttnResNet plugins[{index}]: unknown position {position!r}; "
                         f"known: {', '.join(POSITIONS)}")
    last = "after_conv3" if bottleneck else "after_conv2"
    if position == "before_add":
        return last
    if position == "after_conv3" and not bottleneck:
        raise ValueError(f"AttnResNet plugins[{index}]: position 'after_conv3' needs a BottleNeck "
                         f"(depth >= 50), got depth {depth}; use 'before_add' or 'after_conv2'")
    return position


def _stages(stages, index: int, num_stages: int) -> Tuple[bool, ...]:
    if stages is None:
        return (True,) * num_stages
    if not isinstance(stages, (list, tuple)) or len(stages) != num_stages or not all(
            isinstance(s, bool) for s in stages):
        raise ValueError(f"AttnResNet plugins[{index}]: stages must be a list of {num_stages} "
                         f"bools (one per stage, num_stages={num_stages}), got {stages!r}")
    return tuple(stages)


def _slot_name(position: str, last: str, rank: int) -> str:
    if position == REPLACE:
        return "branch2b.conv"
    base = "se" if position == last else _SLOT_BASES[position]
    return base if rank == 0 else f"{base}_{rank}"


def parse_plugins(plugins: Sequence[Mapping], num_stages: int, bottleneck: bool, depth: int,
                  std_senet: bool) -> List[Plugin]:
    """Check `plugins` (None: none) and return them parsed, std_senet's SE first when it is on."""
    plugins = () if plugins is None else plugins
    if not isinstance(plugins, (list, tuple)):
        raise TypeError(f"AttnResNet plugins must be a list of dicts, got {plugins!r}")
    entries = [{"attn": STD_SENET, "position": "before_add"}] if std_senet else []
    entries += list(plugins)
    offset = 1 if std_senet else 0
    last = "after_conv3" if bottleneck else "after_conv2"
    parsed, ranks = [], {}
    for i, plugin in enumerate(entries):
        index = i - offset   # the user's index; -1 is std_senet's SE
        _check_keys(plugin, index)
        check_spec(plugin["attn"], f"AttnResNet plugins[{index}]")
        position = _canonical_position(plugin["position"], index, bottleneck, depth)
        stages = _stages(plugin.get("stages"), index, num_stages)
        rank = ranks.get(position, 0)
        ranks[position] = rank + 1
        parsed.append(Plugin(plugin["attn"], position, stages, _slot_name(position, last, rank),
                             index))
    for stage in range(num_stages):
        if sum(p.position == REPLACE and p.stages[stage] for p in parsed) > 1:
            raise ValueError(f"AttnResNet: stage {stage} has more than one {REPLACE} plugin; "
                             f"a conv can be replaced once")
    return parsed
