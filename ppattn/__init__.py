"""ppattn: plug-and-play attention blocks for PaddleDetection backbones and necks."""
from . import compat  # noqa: F401  (patches ppdet for Paddle 3; see compat.py)
from .layers import CBAM, ContextBlock, CoordAttention, ECALayer, EffectiveSELayer, \
    EfficientMultiScaleAttention, GatherExcite, PSAModule, SELayer, ShuffleAttention, SimAM, \
    TripletAttention, eca_kernel_size
from .registry import ATTENTIONS, build_attention, register_attention
from .workspace import register_blocks_in_workspace
from . import backbones  # noqa: F401
from . import necks  # noqa: F401

register_blocks_in_workspace()

__version__ = "0.1.0"

__all__ = ["ATTENTIONS", "CBAM", "ContextBlock", "CoordAttention", "ECALayer", "EffectiveSELayer",
           "EfficientMultiScaleAttention", "GatherExcite", "PSAModule", "SELayer",
           "ShuffleAttention", "SimAM", "TripletAttention", "build_attention", "eca_kernel_size",
           "register_attention"]
