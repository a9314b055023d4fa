"""Necks for PaddleDetection with attention slots, registered in ppdet's workspace.

AttnCustomCSPPAN (PP-YOLOE) and AttnFPN (Faster R-CNN) take every argument of ppdet 2.6.0's
CustomCSPPAN / FPN with the same defaults, plus one attention spec per slot; with every spec
left at None they are ppdet's necks, key for key. Importing this package (`import ppattn` does)
registers both with `ppdet.core.workspace` (importing or reloading twice is harmless).

A spec is what the backbones take (None, 'none', a name, `{name: ..., **arguments}`, optionally
with `init: identity`), or a list with one spec per level. Each block sits in its slot as
sublayer `<slot>.<level>`, so changing the block never renames ppdet's weights.

    YOLOv3:
      neck: AttnCustomCSPPAN
    AttnCustomCSPPAN:
      input_attn: se                        # on each backbone feature, backbone order
      fpn_attn: none                        # after each top-down stage, deepest first
      pan_attn: {name: eca, gamma: 2, b: 1} # on each returned level, deepest first

    FasterRCNN:
      neck: AttnFPN
    AttnFPN:
      input_attn: [none, none, se, se]      # res2..res5, before each lateral conv
      output_attn: eca                      # on each output level, P6 included
"""
from .custom_pan import AttnCustomCSPPAN
from .fpn import AttnFPN
from .levels import LevelAttention

__all__ = ["AttnCustomCSPPAN", "AttnFPN", "LevelAttention"]
