"""Backbones for PaddleDetection with pluggable attention, registered in ppdet's workspace.

AttnCSPResNet (PP-YOLOE) and AttnResNet take every argument of ppdet 2.6.0's CSPResNet / ResNet
with the same defaults, plus attention specs; with the defaults they are ppdet's backbones, key
for key. Importing this package (`import ppattn` does) registers both with
`ppdet.core.workspace` (importing or reloading twice is harmless) and runs
`install_pretrain_hook()`.

Spec: None or 'none' (no block), a registered name ('se', 'ese', 'eca', 'ge', 'psa'), or
`{name: ..., **arguments}`; a dict may add `init: identity` (`ppattn.backbones.identity`).

    AttnCSPResNet:
      attn: {name: eca, gamma: 2, b: 1}       # the stage block (ppdet's ESE slot), or a list
      block_attn: [none, none, se, se]        # optional: inside every residual block
    AttnResNet:
      depth: 50
      plugins:                                # positions and names: ppattn.backbones.plugins
        - attn: {name: se, init: identity}    # SENet's place, gates starting near 1
          position: before_add
          stages: [false, true, true, true]   # optional; default all
        - {attn: psa, position: replace_conv2}    # EPSANet-50 with depth 50, variant b

Pretrained weights: `load_pretrained(model, path_or_state_dict)` matches names exactly, with the
'backbone.' prefix handled both ways, and returns and logs a `LoadReport` (loaded, newly
initialised, shape mismatches, unused checkpoint entries). The hook routes ppdet's
`load_pretrain_weight` (the Trainer's `pretrain_weights`) to it for models that contain an
Attn* backbone; other models load as before.
"""
from .cspresnet import AttnCSPResNet
from .identity import IDENTITY_GATE, init_as_identity
from .plugins import POSITIONS
from .pretrained import LoadReport, install_pretrain_hook, load_pretrained, \
    uninstall_pretrain_hook
from .resnet import AttnResNet

install_pretrain_hook()

__all__ = ["AttnCSPResNet", "AttnResNet", "IDENTITY_GATE", "LoadReport", "POSITIONS",
           "init_as_identity", "install_pretrain_hook", "load_pretrained",
           "uninstall_pretrain_hook"]
