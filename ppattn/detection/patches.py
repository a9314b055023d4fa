"""Every change ppattn makes to PaddleDetection or Paddle, in one list.

`import ppattn.detection` installs them all (`apply_patches`); nothing else in ppattn replaces
an attribute of ppdet or Paddle. The mechanism is `ppattn.detection.patching.Patch`; the
replacements and the failures they fix are documented in `ppattn.detection.fixes` and
`ppattn.detection.backbones.pretrained`.
"""
from typing import List

from .backbones.pretrained import pretrain_loader
from . import fixes
from .patching import Patch
from .safe_loading import load_config_with_base, restricted_paddle_load

_ASSIGNER_REASON = ("Paddle 3 no longer promotes int32 labels to int64: TypeError 'Type "
                    "promotion only support calculations between floating-point numbers'")
_ZERO_D_REASON = ("Paddle 3's 0-D shapes break paddle.concat of per-image counts: 'The axis is "
                  "expected to be in range of [0, 0)'")
# every ppdet module that binds load_pretrain_weight by name, ppdet's own first
_PRETRAIN_OWNERS = ("ppdet.utils.checkpoint", "ppdet.engine.trainer", "ppdet.engine.trainer_ssod",
                    "ppdet.engine.tracker", "ppdet.slim", "ppdet.slim.ofa",
                    "ppdet.slim.distill_model")


def _same(replacement):
    """A replacement that does not need the original to build."""
    return lambda original: replacement


PATCHES: List[Patch] = [
    Patch("ATSSAssigner.forward",
          ("ppdet.modeling.assigners.atss_assigner:ATSSAssigner",), "forward",
          fixes.int64_label_forward, _ASSIGNER_REASON),
    Patch("TaskAlignedAssigner.forward",
          ("ppdet.modeling.assigners.task_aligned_assigner:TaskAlignedAssigner",), "forward",
          fixes.int64_label_forward, _ASSIGNER_REASON),
    Patch("RPNHead._gen_proposal",
          ("ppdet.modeling.proposal_generator.rpn_head:RPNHead",), "_gen_proposal",
          _same(fixes.gen_proposal), _ZERO_D_REASON + " (Faster R-CNN RPN)"),
    Patch("generate_proposal_target",
          ("ppdet.modeling.proposal_generator.target",
           "ppdet.modeling.proposal_generator.target_layer"), "generate_proposal_target",
          _same(fixes.generate_proposal_target), _ZERO_D_REASON + " (RoI sampling)"),
    Patch("BBoxPostProcess.get_pred", ("ppdet.modeling.post_process:BBoxPostProcess",),
          "get_pred", _same(fixes.get_pred),
          _ZERO_D_REASON + " (Faster R-CNN evaluation, inference and export)"),
    Patch("save_model", ("ppdet.utils.checkpoint", "ppdet.engine.callbacks"), "save_model",
          _same(fixes.save_model),
          "ppdet writes checkpoints in place: a kill mid-save leaves a truncated snapshot"),
    Patch("multiclass_nms", ("ppdet.modeling.ops",), "multiclass_nms",
          fixes.pir_multiclass_nms,
          "ppdet's NMS appends an old-IR op, which Paddle 3's PIR tracing rejects at export"),
    Patch("load_pretrain_weight", _PRETRAIN_OWNERS, "load_pretrain_weight", pretrain_loader,
          "ppdet matches checkpoint keys by suffix, loading an ImageNet fc into every "
          "attention fc; Attn* backbones load by exact names"),
    Patch("_load_config_with_base", ("ppdet.core.workspace",), "_load_config_with_base",
          load_config_with_base,
          "ppdet reads configs with yaml.Loader: a !!python/object tag runs code"),
    Patch("paddle.load", ("paddle",), "load", restricted_paddle_load,
          "paddle.load unpickles weights files: a crafted .pdparams runs code"),
]


def apply_patches() -> None:
    """Install every patch of `PATCHES`. Installing twice changes nothing."""
    for patch in PATCHES:
        patch.install()
