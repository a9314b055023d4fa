"""Attention blocks: plain `paddle.nn.Layer`s that know nothing of YAML or PaddleDetection."""
from .eca import ECALayer, eca_kernel_size
from .gather_excite import GatherExcite
from .psa import PSAModule
from .se import EffectiveSELayer, SELayer

__all__ = ["ECALayer", "EffectiveSELayer", "GatherExcite", "PSAModule", "SELayer",
           "eca_kernel_size"]
