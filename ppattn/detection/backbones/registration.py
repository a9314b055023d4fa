"""Register a backbone with ppdet's workspace once, so that importing ppattn twice is harmless."""
from typing import Type

from ppdet.core.workspace import serializable

from ..workspace import register_once


def register_backbone(cls: Type) -> Type:
    """Class decorator: `@register @serializable`, tolerating re-registration of the same class
    (see `ppattn.detection.workspace.register_once`)."""
    return register_once(serializable(cls))
