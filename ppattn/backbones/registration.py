"""Register a backbone with ppdet's workspace once, so that importing ppattn twice is harmless."""
from typing import Type

from ppdet.core.config.schema import SchemaDict
from ppdet.core.workspace import global_config, register, serializable


def register_backbone(cls: Type) -> Type:
    """Class decorator: `@register @serializable` that tolerates re-registering the same class.

    ppdet's `register` raises 'Module class already registered' for a second class of the same
    name. Reloading a ppattn module defines the class again; its new schema replaces the old one,
    and values a loaded YAML had set on the old schema carry over. A class of the same name from
    any other module is still refused.
    """
    existing = global_config.get(cls.__name__)
    carried = {}
    if existing is not None:
        owner = getattr(getattr(existing, "pymodule", None), "__name__", None)
        if not isinstance(existing, SchemaDict) or owner != cls.__module__:
            raise ValueError(f"ppdet already has a module named {cls.__name__!r} "
                             f"(from {owner or type(existing).__name__}); "
                             f"ppattn cannot register {cls.__module__}.{cls.__qualname__}")
        carried = dict(existing)
        del global_config[cls.__name__]
    cls = register(serializable(cls))
    global_config[cls.__name__].update(carried)
    return cls
