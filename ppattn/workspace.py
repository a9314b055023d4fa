"""Make the attention blocks creatable from PaddleDetection YAML (`ppdet.core.workspace`)."""
from ppdet.core.workspace import global_config, register

from .registry import ATTENTIONS


def register_blocks_in_workspace() -> None:
    """Register every block of `ATTENTIONS` with ppdet's workspace under its class name.

    Safe to call again: ppdet refuses a second registration, so names it already holds are
    skipped (importing or reloading ppattn twice stays harmless).
    """
    for cls in ATTENTIONS.values():
        if cls.__name__ not in global_config:
            register(cls)
