"""Everything in ppattn that drives PaddleDetection. `import ppattn.detection` does, once:

- applies ppattn's changes to ppdet and Paddle, all listed in `ppattn.detection.patches.PATCHES`
  (the Paddle 3 fixes, atomic checkpoints, the pretrained-weights loader, the traceable NMS);
- registers the backbones (AttnCSPResNet, AttnResNet), the necks (AttnCustomCSPPAN, AttnFPN)
  and every attention block with `ppdet.core.workspace`, so YAML configs can name them.

`import ppattn` alone imports Paddle only: the blocks and the registry work in PaddleClas,
PaddleSeg or plain Paddle code without ppdet. A script of your own that builds ppdet models from
ppattn's configs adds one line: `import ppattn.detection`.
"""
from . import backbones  # noqa: F401  (registers AttnCSPResNet and AttnResNet)
from . import necks  # noqa: F401  (registers AttnCustomCSPPAN and AttnFPN)
from .workspace import register_blocks_in_workspace
from .patches import PATCHES, apply_patches

apply_patches()
register_blocks_in_workspace()

__all__ = ["PATCHES", "apply_patches"]
