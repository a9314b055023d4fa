"""ppattn: plug-and-play attention blocks for PaddleDetection backbones and necks.

`import ppattn` needs Paddle only. `import ppattn.detection` adds the PaddleDetection side:
backbones, necks and blocks registered with ppdet's workspace, and ppattn's fixes to ppdet.
"""
import warnings

# Paddle warns at import when ccache is missing; ccache only speeds up compiling custom C++ ops,
# which ppattn does not do
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)

from .layers import CBAM, ContextBlock, CoordAttention, ECALayer, EffectiveSELayer, \
    EfficientMultiScaleAttention, GatherExcite, PSAModule, SELayer, ShuffleAttention, SimAM, \
    TripletAttention, eca_kernel_size  # noqa: E402
from .registry import ATTENTIONS, build_attention, register_attention  # noqa: E402

__version__ = "0.1.0"

__all__ = ["ATTENTIONS", "CBAM", "ContextBlock", "CoordAttention", "ECALayer", "EffectiveSELayer",
           "EfficientMultiScaleAttention", "GatherExcite", "PSAModule", "SELayer",
           "ShuffleAttention", "SimAM", "TripletAttention", "build_attention", "eca_kernel_size",
           "register_attention"]
