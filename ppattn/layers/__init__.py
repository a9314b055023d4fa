"""Attention blocks: plain `paddle.nn.Layer`s that know nothing of YAML or PaddleDetection."""
from .cbam import CBAM
from .context_block import ContextBlock
from .coord_attention import CoordAttention
from .eca import ECALayer, eca_kernel_size
from .ema import EfficientMultiScaleAttention
from .gather_excite import GatherExcite
from .psa import PSAModule
from .se import EffectiveSELayer, SELayer
from .shuffle_attention import ShuffleAttention
from .simam import SimAM
from .triplet_attention import TripletAttention

__all__ = ["CBAM", "ContextBlock", "CoordAttention", "ECALayer", "EffectiveSELayer",
           "EfficientMultiScaleAttention", "GatherExcite", "PSAModule", "SELayer",
           "ShuffleAttention", "SimAM", "TripletAttention", "eca_kernel_size"]
