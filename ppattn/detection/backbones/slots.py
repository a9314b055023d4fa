"""How a backbone turns an attention spec into the block for one of its slots.

A backbone spec is a registry spec (None, 'none', a name, or `{name: ..., **arguments}`) that may
also carry `init: default | identity`. The backbone pops `init` from a copy of the spec; the rest
goes to `build_attention`, so a misspelled argument still fails there.
"""
from typing import List, Mapping, Optional, Tuple

import paddle.nn as nn

from ...layers.protocol import replaces_conv
from ...registry import ATTENTIONS, AttentionSpec, build_attention, resolve_attention
from .identity import init_as_identity

INIT_KEY = "init"
INIT_MODES = ("default", "identity")
_SHAPE_ARGUMENTS = ("out_channels", "stride")


def split_init(spec: AttentionSpec) -> Tuple[AttentionSpec, str]:
    """Return (spec without 'init', init mode); the caller's dict is left as it was."""
    if not isinstance(spec, Mapping) or INIT_KEY not in spec:
        return spec, "default"
    rest = dict(spec)
    mode = rest.pop(INIT_KEY)
    if mode not in INIT_MODES:
        raise ValueError(f"attention spec {dict(spec)!r}: unknown init {mode!r}; "
                         f"known: {', '.join(INIT_MODES)}")
    return rest, mode


def per_stage(specs, num_stages: int, where: str) -> List[AttentionSpec]:
    """Return one spec per stage: a list or tuple must have `num_stages` entries, else repeat it."""
    if isinstance(specs, (list, tuple)):
        if len(specs) != num_stages:
            raise ValueError(f"{where}: got a list of {len(specs)} specs, expected one per stage "
                             f"({num_stages}): {list(specs)!r}")
        return list(specs)
    return [specs] * num_stages


def _resolve(spec: AttentionSpec, where: str):
    """resolve_attention, with `where` in front of its message."""
    try:
        return resolve_attention(spec)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from error


def replacement_names() -> str:
    """Names of the registered blocks that replace a conv (they take out_channels, stride)."""
    return ", ".join(sorted(name for name, cls in ATTENTIONS.items() if replaces_conv(cls)))


def build_in_place(spec: AttentionSpec, channels: int, where: str) -> Optional[nn.Layer]:
    """Build a block that keeps [N, C, H, W], or None for no block.

    A conv-replacing block (PSA) is accepted where it keeps the shape: stride 1 and out_channels
    absent or equal to `channels`.
    """
    spec, init = split_init(spec)
    cls, kwargs = _resolve(spec, where)
    if cls is None:
        return None
    if kwargs.get("stride", 1) != 1 or kwargs.get("out_channels") not in (None, channels):
        raise ValueError(f"{where}: {cls.__name__} with stride={kwargs.get('stride', 1)!r}, "
                         f"out_channels={kwargs.get('out_channels')!r} changes the shape; this "
                         f"slot keeps [N, {channels}, H, W] (use position replace_conv2)")
    block = build_attention(spec, channels)
    if init == "identity":
        init_as_identity(block, where)
    return block


def build_replacement(spec: AttentionSpec, in_channels: int, out_channels: int, stride: int,
                      where: str) -> nn.Layer:
    """Build a block that replaces a conv: [N, C_in, H, W] -> [N, C_out, H / stride, W / stride]."""
    spec, init = split_init(spec)
    cls, kwargs = _resolve(spec, where)
    if cls is None:
        raise ValueError(f"{where}: a replacement needs a block, got {spec!r}; "
                         f"accepted: {replacement_names()}")
    if not replaces_conv(cls):
        raise ValueError(f"{where}: {cls.__name__} keeps its input shape and cannot replace a "
                         f"conv; accepted: {replacement_names()}")
    for key in _SHAPE_ARGUMENTS:
        if key in kwargs:
            raise TypeError(f"{where}: {key} of a replacement is set by the backbone, got "
                            f"{key}={kwargs[key]!r}")
    name = spec if isinstance(spec, str) else spec["name"]
    full = {**kwargs, "name": name, "out_channels": out_channels, "stride": stride}
    block = build_attention(full, in_channels)
    if init == "identity":
        init_as_identity(block, where)
    return block


def check_spec(spec: AttentionSpec, where: str) -> None:
    """Fail early on a bad name, argument or init in `spec`, naming `where`."""
    _resolve(split_init(spec)[0], where)
