"""Names -> attention classes, and `build_attention`, which turns a spec into a block."""
import inspect
import numbers
from typing import Callable, Dict, Mapping, Optional, Type, Union

import paddle.nn as nn

from .layers import CBAM, ContextBlock, CoordAttention, ECALayer, EffectiveSELayer, \
    EfficientMultiScaleAttention, GatherExcite, PSAModule, SELayer, ShuffleAttention, SimAM, \
    TripletAttention

AttentionSpec = Union[None, str, Mapping]

ATTENTIONS: Dict[str, Type[nn.Layer]] = {}
NO_ATTENTION = "none"


def register_attention(name: str) -> Callable[[Type[nn.Layer]], Type[nn.Layer]]:
    """Class decorator: make a block buildable as `name`.

    The class takes the input channel count as its first positional argument.
    """
    if not isinstance(name, str) or not name or name.lower() == NO_ATTENTION:
        raise ValueError(f"attention name must be a non-empty string other than "
                         f"{NO_ATTENTION!r}, got {name!r}")

    def decorate(cls: Type[nn.Layer]) -> Type[nn.Layer]:
        variadic = [str(p) for p in inspect.signature(cls.__init__).parameters.values()
                    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if variadic:
            raise TypeError(f"attention {name!r}: {cls.__qualname__}.__init__ takes "
                            f"{', '.join(variadic)}; a block takes named arguments only, so that "
                            f"a misspelt YAML key fails loudly instead of being refused or lost")
        registered = ATTENTIONS.get(name)
        if registered is not None and registered is not cls:
            raise ValueError(f"attention {name!r} is already registered to "
                             f"{registered.__module__}.{registered.__qualname__}")
        ATTENTIONS[name] = cls
        return cls
    return decorate


for _name, _cls in (("se", SELayer), ("ese", EffectiveSELayer), ("eca", ECALayer),
                    ("ge", GatherExcite), ("psa", PSAModule), ("cbam", CBAM),
                    ("ca", CoordAttention), ("simam", SimAM), ("gc", ContextBlock),
                    ("sa", ShuffleAttention), ("triplet", TripletAttention),
                    ("ema", EfficientMultiScaleAttention)):
    register_attention(_name)(_cls)


def known_attentions() -> str:
    """Return the accepted names, sorted and comma-separated, 'none' included."""
    return ", ".join(sorted([*ATTENTIONS, NO_ATTENTION]))


def accepted_arguments(cls: Type[nn.Layer]) -> list:
    """Return the constructor argument names of `cls`, in order."""
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name in parameters if name != "self"]


def _split_spec(spec: AttentionSpec):
    """Return (name, kwargs) of a spec, leaving the caller's dict untouched."""
    if spec is None:
        return NO_ATTENTION, {}
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping):
        kwargs = dict(spec)
        if "name" not in kwargs:
            raise ValueError(f"attention spec {dict(spec)!r} has no 'name'; "
                             f"known: {known_attentions()}")
        name = kwargs.pop("name")
        if not isinstance(name, str):
            raise TypeError(f"attention spec {dict(spec)!r}: 'name' must be one block name, got "
                            f"{type(name).__name__} {name!r}; known: {known_attentions()} (a "
                            f"list of specs, one per stage, is written as a list of dicts)")
        return name, kwargs
    raise TypeError(f"attention spec must be None, a name or a dict with 'name', "
                    f"got {type(spec).__name__} {spec!r}")


def resolve_attention(spec: AttentionSpec):
    """Return (class or None, kwargs) for a spec, checking the name and argument names."""
    name, kwargs = _split_spec(spec)
    if isinstance(name, str) and name.lower() == NO_ATTENTION:
        if kwargs:
            raise TypeError(f"attention 'none' takes no arguments, got {sorted(kwargs)}")
        return None, {}
    if name not in ATTENTIONS:
        raise ValueError(f"unknown attention {name!r}; known: {known_attentions()}")
    cls = ATTENTIONS[name]
    accepted = accepted_arguments(cls)
    for key in kwargs:
        if key not in accepted[1:]:
            raise TypeError(f"{cls.__name__} got unexpected argument {key!r}; "
                            f"accepted: {', '.join(accepted[1:])}")
    return cls, kwargs


def build_attention(spec: AttentionSpec, channels: int) -> Optional[nn.Layer]:
    """Build the block a spec names for `channels` input channels.

    Args:
        spec: None or 'none' (no block), a registered name such as 'eca', or a dict
            `{name: ..., **kwargs}` whose other keys are constructor arguments. Never mutated.
        channels: C, channels of the tensor the block will see.

    Returns:
        The block, or None for no block.
    """
    cls, kwargs = resolve_attention(spec)
    if cls is None:
        return None
    if isinstance(channels, numbers.Integral) and not isinstance(channels, bool):
        channels = int(channels)  # numpy.int64 from a shape computation
    return cls(channels, **kwargs)
