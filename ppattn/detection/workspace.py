"""PaddleDetection's workspace (`ppdet.core.workspace`): register ppattn's classes there once."""
from typing import Type

from ppdet.core.config.schema import SchemaDict
from ppdet.core.workspace import global_config, register

from ..registry import ATTENTIONS


def register_once(cls: Type) -> Type:
    """`ppdet.core.workspace.register` that tolerates re-registering the same class.

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
    cls = register(cls)
    global_config[cls.__name__].update(carried)
    return cls


def register_blocks_in_workspace() -> None:
    """Register every block of `ATTENTIONS` with ppdet's workspace under its class name.

    Safe to call again (importing or reloading ppattn twice stays harmless); call it after
    `register_attention` to make a block of your own creatable from YAML too.
    """
    for cls in ATTENTIONS.values():
        register_once(cls)
