"""Backbones for PaddleDetection with pluggable attention, registered in ppdet's workspace.

AttnCSPResNet (PP-YOLOE) and AttnResNet take every argument of ppdet 2.6.0's CSPResNet / ResNet
with the same defaults, plus attention specs; with the defaults they are ppdet's backbones, key
for key. Importing this package (`import ppattn.detection` does) registers both with
`ppdet.core.workspace` (importing or reloading twice is harmless).

Spec: None or 'none' (no block), a registered name (`ppattn.ATTENTIONS`), or
`{name: ..., **arguments}`; a dict may add `init: identity` (`ppattn.detection.backbones.identity`).

    AttnCSPResNet:
      attn: {name: eca, gamma: 2, b: 1}       # the stage block (ppdet's ESE slot), or a list
      block_attn: [none, none, se, se]        # optional: inside every residual block
    AttnResNet:
      depth: 50
      plugins:                                # positions and names: ppattn.detection.backbones.plugins
        - attn: {name: se, init: identity}    # SENet's place, gates starting near 1
          position: before_add
          stages: [false, true, true, true]   # optional; default all
        - {attn: psa, position: replace_conv2}    # EPSANet-50 with depth 50, variant b

Pretrained weights: `load_pretrained(model, path_or_state_dict)` matches names exactly, with the
'backbone.' prefix handled both ways, and returns and logs a `LoadReport` (loaded, newly
initialised, shape mismatches, unused checkpoint entries). A patch (`ppattn.detection.patches`)
routes ppdet's `load_pretrain_weight` (the Trainer's `pretrain_weights`) to it for models that
contain an Attn* backbone; other models load as before.
"""
from .cspresnet import AttnCSPResNet
from .identity import IDENTITY_GATE, init_as_identity
from .plugins import POSITIONS
from .pretrained import LoadReport, load_pretrained
from .resnet import AttnResNet

__all__ = ["AttnCSPResNet", "AttnResNet", "IDENTITY_GATE", "LoadReport", "POSITIONS",
           "init_as_identity", "load_pretrained"]
