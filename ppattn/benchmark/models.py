"""Whole detectors with each block vs stock: PP-YOLOE-s and Faster R-CNN R50-vd-FPN.

The backbone is a parameter: a function `(spec, **backbone_kwargs) -> nn.Layer`, picked from
BACKBONES. 'ppattn' builds AttnCSPResNet / AttnResNet; 'ppdet' builds ppdet's own CSPResNet /
ResNet and swaps the block in where the repo's configs put it: the stage `attn` slot, and after
conv3 of every bottleneck (SENet's place; PSA replaces conv2, as in EPSANet). Either way 'stock'
is ppdet's own backbone: ESE in every CSPResNet stage, no attention in ResNet.

Latency is the network's eval forward without NMS: PP-YOLOE's head with ppdet's own
`exclude_nms` benchmark switch, Faster R-CNN with fixed proposals (see RawFasterRCNN). NMS does
the same work whatever the backbone, and with random weights how much it does depends on noise.
"""
from typing import Callable, Dict

import numpy as np
import paddle
import paddle.nn as nn
from ppdet.modeling.architectures import PPYOLOE, FasterRCNN
from ppdet.modeling.assigners import ATSSAssigner, TaskAlignedAssigner
from ppdet.modeling.backbones.cspresnet import CSPResNet
from ppdet.modeling.backbones.cspresnet import EffectiveSELayer as PpdetESE
from ppdet.modeling.backbones.resnet import ResNet
from ppdet.modeling.heads.bbox_head import BBoxHead, TwoFCHead
from ppdet.modeling.heads.ppyoloe_head import PPYOLOEHead
from ppdet.modeling.layers import MultiClassNMS, RCNNBox
from ppdet.modeling.necks.custom_pan import CustomCSPPAN
from ppdet.modeling.necks.fpn import FPN
from ppdet.modeling.post_process import BBoxPostProcess
from ppdet.modeling.proposal_generator.rpn_head import RPNHead
from ppdet.modeling.proposal_generator.target_layer import BBoxAssigner

from ..layers import EffectiveSELayer, PSAModule
from ..registry import AttentionSpec, build_attention, resolve_attention
from .flops import ELEMENTWISE_COUNTERS

STOCK = "stock"
BackboneFn = Callable[..., nn.Layer]

# ppdet's ESE is PP-YOLOE's stock block: count it like ppattn's, so stock and 'ese' compare
MODEL_COUNTERS = {**ELEMENTWISE_COUNTERS, PpdetESE: ELEMENTWISE_COUNTERS[EffectiveSELayer]}


def _replaces_conv(spec: AttentionSpec) -> bool:
    cls, _ = resolve_attention(spec)
    return cls is not None and issubclass(cls, PSAModule)


def swap_cspresnet(spec: AttentionSpec, **kwargs) -> CSPResNet:
    """ppdet's CSPResNet with every stage's attention block built from `spec` ('stock': ESE)."""
    backbone = CSPResNet(**kwargs)
    if spec != STOCK:
        for stage in backbone.stages:
            stage.attn = build_attention(spec, stage.conv3.conv._in_channels)
    return backbone


def swap_resnet(spec: AttentionSpec, **kwargs) -> ResNet:
    """ppdet's ResNet with a block after conv3 of every bottleneck, or PSA in place of conv2."""
    in_place = spec not in (STOCK, None, "none") and not _replaces_conv(spec)
    backbone = ResNet(std_senet=in_place, **kwargs)
    if spec in (STOCK, None, "none"):
        return backbone
    for stage in backbone.res_layers:
        for block in stage.blocks:
            if in_place:
                block.se = build_attention(spec, block.branch2c.conv._out_channels)
            else:
                conv = block.branch2b.conv
                full = {"name": spec} if isinstance(spec, str) else dict(spec)
                full.update(out_channels=conv._out_channels, stride=conv._stride[0])
                block.branch2b.conv = build_attention(full, conv._in_channels)
    return backbone


def attn_cspresnet(spec: AttentionSpec, **kwargs) -> nn.Layer:
    """ppattn's AttnCSPResNet with `spec` in every stage slot ('stock': ppdet's CSPResNet)."""
    from ..backbones import AttnCSPResNet
    return swap_cspresnet(STOCK, **kwargs) if spec == STOCK else AttnCSPResNet(attn=spec, **kwargs)


def attn_resnet(spec: AttentionSpec, **kwargs) -> nn.Layer:
    """ppattn's AttnResNet with `spec` after conv3 (PSA: replacing conv2) in every stage."""
    from ..backbones import AttnResNet
    if spec in (STOCK, None, "none"):
        return swap_resnet(STOCK, **kwargs)
    position = "replace_conv2" if _replaces_conv(spec) else "after_conv3"
    return AttnResNet(plugins=[{"attn": spec, "position": position}], **kwargs)


BACKBONES: Dict[str, Dict[str, BackboneFn]] = {
    "ppattn": {"ppyoloe_s": attn_cspresnet, "faster_rcnn_r50": attn_resnet},
    "ppdet": {"ppyoloe_s": swap_cspresnet, "faster_rcnn_r50": swap_resnet},
}


def build_ppyoloe_s(spec: AttentionSpec, backbone_fn: BackboneFn = swap_cspresnet,
                    num_classes: int = 80) -> nn.Layer:
    """PP-YOLOE-s (CSPResNet width 0.5, depth 0.33, CustomCSPPAN, PPYOLOEHead) in eval mode."""
    width, depth = 0.5, 0.33
    backbone = backbone_fn(spec, layers=[3, 6, 6, 3], channels=[64, 128, 256, 512, 1024],
                           return_idx=[1, 2, 3], use_large_stem=True, act="swish",
                           width_mult=width, depth_mult=depth)
    neck = CustomCSPPAN(in_channels=[s.channels for s in backbone.out_shape],
                        out_channels=[768, 384, 192], stage_num=1, block_num=3, act="swish",
                        spp=True, width_mult=width, depth_mult=depth)
    head = PPYOLOEHead(
        in_channels=[s.channels for s in neck.out_shape], num_classes=num_classes,
        fpn_strides=[32, 16, 8], grid_cell_scale=5.0, grid_cell_offset=0.5,
        static_assigner=ATSSAssigner(topk=9),
        assigner=TaskAlignedAssigner(topk=13, alpha=1.0, beta=6.0),
        nms=MultiClassNMS(nms_top_k=1000, keep_top_k=300, score_threshold=0.01,
                          nms_threshold=0.7),
        exclude_nms=True)
    model = PPYOLOE(backbone=backbone, neck=neck, yolo_head=head, post_process=None)
    model.eval()
    return model


def fixed_rois(batch: int, height: int, width: int, count: int, seed: int = 0):
    """`count` boxes per image, the same for every call: log-uniform sides from 16 px to the image.

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


class RawFasterRCNN(nn.Layer):
    """ppdet's FasterRCNN run to the box head's predictions, with fixed proposals.

    The RPN convs run, but proposal selection (top-k, NMS) and the final NMS are left out: with
    random weights they keep a noise-dependent number of RoIs, and the box head costs about
    14 MMACs per RoI, so variants would differ by RoI count rather than by backbone. The box head
    sees `num_rois` fixed boxes per image (1000, ppdet's test post_nms_top_n).
    """

    def __init__(self, model: FasterRCNN, num_rois: int = 1000):
        super().__init__()
        self.model = model
        self.num_rois = num_rois
        self._rois = {}

    def forward(self, inputs: Dict[str, paddle.Tensor]):
        m = self.model
        feats = m.neck(m.backbone(inputs))
        for feat in m.rpn_head.rpn_feat(feats):
            m.rpn_head.rpn_rois_score(feat)
            m.rpn_head.rpn_rois_delta(feat)
        key = tuple(inputs["image"].shape)
        if key not in self._rois:
            self._rois[key] = fixed_rois(key[0], key[2], key[3], self.num_rois)
        rois, rois_num = self._rois[key]
        preds, _ = m.bbox_head(feats, rois, rois_num, None)
        return preds


def build_faster_rcnn_r50(spec: AttentionSpec, backbone_fn: BackboneFn = swap_resnet,
                          num_classes: int = 80, num_rois: int = 1000) -> nn.Layer:
    """Faster R-CNN R50-vd-FPN (the repo's faster_rcnn_r50_vd_fpn config) in eval mode."""
    backbone = backbone_fn(spec, depth=50, variant="d", norm_type="bn", freeze_at=0,
                           return_idx=[0, 1, 2, 3], num_stages=4)
    fpn = FPN(in_channels=[s.channels for s in backbone.out_shape], out_channel=256)
    rpn = RPNHead(
        anchor_generator=dict(aspect_ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64],
                              anchor_sizes=[[32], [64], [128], [256], [512]]),
        rpn_target_assign=dict(batch_size_per_im=256, fg_fraction=0.5, negative_overlap=0.3,
                               positive_overlap=0.7, use_random=True),
        train_proposal=dict(min_size=0.0, nms_thresh=0.7, pre_nms_top_n=2000,
                            post_nms_top_n=1000, topk_after_collect=True),
        test_proposal=dict(min_size=0.0, nms_thresh=0.7, pre_nms_top_n=1000,
                           post_nms_top_n=1000),
        in_channel=256)
    bbox_head = BBoxHead(
        head=TwoFCHead(in_channel=256, out_channel=1024, resolution=7), in_channel=1024,
        roi_extractor=dict(resolution=7, sampling_ratio=0, aligned=True,
                           spatial_scale=[1. / s.stride for s in fpn.out_shape]),
        bbox_assigner=BBoxAssigner(batch_size_per_im=512, bg_thresh=0.5, fg_thresh=0.5,
                                   fg_fraction=0.25, use_random=True),
        num_classes=num_classes)
    post = BBoxPostProcess(decode=RCNNBox(), nms=MultiClassNMS(
        keep_top_k=100, score_threshold=0.05, nms_threshold=0.5))
    model = RawFasterRCNN(FasterRCNN(backbone=backbone, rpn_head=rpn, bbox_head=bbox_head,
                                     bbox_post_process=post, neck=fpn), num_rois)
    model.eval()
    return model


MODELS: Dict[str, Callable[..., nn.Layer]] = {
    "ppyoloe_s": build_ppyoloe_s, "faster_rcnn_r50": build_faster_rcnn_r50}


def model_inputs(batch: int, size: int) -> Dict[str, paddle.Tensor]:
    """Random images of `size` x `size` with the im_shape and scale_factor ppdet expects."""
    return {"image": paddle.randn([batch, 3, size, size]),
            "im_shape": paddle.full([batch, 2], float(size)),
            "scale_factor": paddle.ones([batch, 2])}
