"""`init: identity` in a backbone spec: the inserted block starts as (nearly) the identity.

A sigmoid or hardsigmoid gate gives about 0.5 at a fresh initialisation, so a block inserted into
a pretrained network halves the features it gates. Each block knows how to open its own gate
(`init_identity`, see `ppattn.layers.protocol`); ECA and PSA refuse and say why.
"""
import paddle.nn as nn

from ...layers.protocol import IDENTITY_GATE, init_identity

__all__ = ["IDENTITY_GATE", "init_as_identity"]


def init_as_identity(block: nn.Layer, where: str) -> None:
    """`block.init_identity()`, with `where` in front of the reason it gives when it can't."""
    try:
        init_identity(block)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from error
