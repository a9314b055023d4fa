"""Whole detectors built from configs/, one per attention variant, against the stock config.

A model's variants are its sibling configs: `ppyoloe_crn_s_<block>_300e_coco.yml` next to the
stock `ppyoloe_crn_s_300e_coco.yml`, `faster_rcnn_r50_vd_<block>_fpn_1x_coco.yml` next to
`faster_rcnn_r50_vd_fpn_1x_coco.yml`. Each is loaded with the engine's config loader and built
by ppdet's `create`, as training would build it.

Latency is the network's eval forward without NMS: PP-YOLOE's head with ppdet's own
`exclude_nms` benchmark switch, Faster R-CNN with fixed proposals (`FixedRoIs`). NMS does the same
work whatever the backbone, and with random weights how much it does depends on noise.
"""
import glob
import os
from typing import Callable, Dict

import numpy as np
import paddle
import paddle.nn as nn
from ppdet.core.workspace import create

from .. import detection  # noqa: F401  (registers what the configs name)
from ..engine.config import load_config
from ..layers.flop_count import conv_flops, linear_flops, numel
from ..layers.protocol import block_flops
from ..registry import ATTENTIONS

STOCK = "stock"
MODEL_CONFIGS = {   # name -> (folder under configs/, file name before the block, after it)
    "ppyoloe_s": ("ppyoloe", "ppyoloe_crn_s_", "300e_coco.yml"),
    "faster_rcnn_r50": ("faster_rcnn", "faster_rcnn_r50_vd_", "fpn_1x_coco.yml"),
}
# no NMS; plain batch norm, since sync_bn needs several devices; anchors for any input size
OVERRIDES = {"exclude_nms": True, "norm_type": "bn", "eval_size": None}


def variant_configs(model: str, config_dir: str) -> Dict[str, str]:
    """Variant name ('stock' or the block's) -> config path of one model."""
    folder, prefix, suffix = MODEL_CONFIGS[model]
    found = {}
    for path in sorted(glob.glob(os.path.join(config_dir, folder, f"{prefix}*{suffix}"))):
        middle = os.path.basename(path)[len(prefix):-len(suffix)].rstrip("_")
        found[middle or STOCK] = path
    return found


def fixed_rois(batch: int, height: int, width: int, count: int, seed: int = 0):
    """`count` boxes per image, log-uniform sides from 16 px to the image, the same every call.

    Returns (list of [count, 4] x1y1x2y2 tensors, int32 [batch] counts), as RPNHead returns them.
    """
    rng = np.random.RandomState(seed)
    rois = []
    for _ in range(batch):
        side = np.exp(rng.uniform(np.log(16), np.log(max(height, width)), size=(count, 2)))
        centre = rng.uniform(0, 1, size=(count, 2)) * [width, height]
        boxes = np.concatenate([centre - side / 2, centre + side / 2], axis=1)
        boxes = np.clip(boxes, 0, [width, height, width, height]).astype("float32")
        rois.append(paddle.to_tensor(boxes))
    return rois, paddle.full([batch], count, dtype="int32")


class FixedRoIs(nn.Layer):
    """ppdet's FasterRCNN run to the box head's predictions on `num_rois` fixed boxes per image
    (1000, ppdet's test post_nms_top_n). The RPN convs run; its proposal selection does not."""

    def __init__(self, model: nn.Layer, num_rois: int = 1000):
        super().__init__()
        self.model, self.num_rois = model, num_rois

    def forward(self, inputs: Dict[str, paddle.Tensor]):
        m = self.model
        feats = m.neck(m.backbone(inputs))
        for feat in m.rpn_head.rpn_feat(feats):
            m.rpn_head.rpn_rois_score(feat)
            m.rpn_head.rpn_rois_delta(feat)
        n, _, height, width = inputs["image"].shape
        rois, rois_num = fixed_rois(n, height, width, self.num_rois)
        return m.bbox_head(feats, rois, rois_num, None)[0]


def build_model(path: str) -> nn.Layer:
    """The detector of one config, in eval mode, random weights, without NMS."""
    cfg = load_config(path, OVERRIDES)
    model = create(cfg.architecture)
    if cfg.architecture == "FasterRCNN":
        model = FixedRoIs(model)
    model.eval()
    return model


def model_inputs(batch: int, size: int) -> Dict[str, paddle.Tensor]:
    """Random images of `size` x `size` with the im_shape and scale_factor ppdet expects."""
    return {"image": paddle.randn([batch, 3, size, size]),
            "im_shape": paddle.full([batch, 2], float(size)),
            "scale_factor": paddle.ones([batch, 2])}


def model_flops(model: nn.Layer, run: Callable[[], object]) -> int:
    """FLOPs of one `run()` of `model`: every registered block's own count, plus conv and linear
    layers outside blocks (ppattn.layers.flop_count's rules). Norms, activations and adds outside
    blocks are left out, as paddle.flops leaves them."""
    blocks = tuple(ATTENTIONS.values())
    state = {"flops": 0, "depth": 0}

    def enter(layer, inputs):
        if state["depth"] == 0:
            state["flops"] += block_flops(layer, inputs[0].shape)
        state["depth"] += 1

    def leave(layer, inputs, output):
        state["depth"] -= 1

    def layer_done(layer, inputs, output):
        if state["depth"] == 0:
            shape = inputs[0].shape
            state["flops"] += (conv_flops(layer, shape) if isinstance(layer, nn.Conv2D)
                               else linear_flops(layer, numel(shape[:-1])))
    handles = []
    for layer in model.sublayers(include_self=True):
        if type(layer) in blocks:
            handles += [layer.register_forward_pre_hook(enter),
                        layer.register_forward_post_hook(leave)]
        elif isinstance(layer, (nn.Conv2D, nn.Linear)):
            handles.append(layer.register_forward_post_hook(layer_done))
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return state["flops"]
