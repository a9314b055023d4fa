"""ppattn: plug-and-play attention blocks for PaddleDetection backbones and necks.

`import ppattn` needs Paddle only. `import ppattn.detection` adds the PaddleDetection side:
backbones, necks and blocks registered with ppdet's workspace, and ppattn's fixes to ppdet.
"""
from .layers import CBAM, ContextBlock, CoordAttention, ECALayer, EffectiveSELayer, \
    EfficientMultiScaleAttention, GatherExcite, PSAModule, SELayer, ShuffleAttention, SimAM, \
    TripletAttention, eca_kernel_size
from .registry import ATTENTIONS, build_attention, register_attention

__version__ = "0.1.0"

__all__ = ["ATTENTIONS", "CBAM", "ContextBlock", "CoordAttention", "ECALayer", "EffectiveSELayer",
           "EfficientMultiScaleAttention", "GatherExcite", "PSAModule", "SELayer",
           "ShuffleAttention", "SimAM", "TripletAttention", "build_attention", "eca_kernel_size",
           "register_attention"]
