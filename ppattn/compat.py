"""Let PaddleDetection 2.6.0 train under Paddle 3.

ppdet 2.6.0 was written for Paddle 2.x. Two Paddle 3 changes break training at the first step. Each
fix below replaces one ppdet function or method and nothing else. Importing ppattn calls `apply()`.
Calling it again changes nothing. `ORIGINALS` keeps ppdet's own versions, so the tests can show
each failure.

1. Label assigners of PP-YOLOE (`ATSSAssigner.forward`, `TaskAlignedAssigner.forward`).
   Fails: ``TypeError: (InvalidType) Type promotion only support calculations between
   floating-point numbers ... x: int64, y: int32`` at ``assigned_gt_index + batch_ind *
   num_max_boxes``.
   Why: `argmax` gives int64, but `batch_ind` takes the dtype of `gt_labels`, and ppdet's data
   pipeline makes those int32. Paddle 2 promoted int32 to int64 silently. Paddle 3 promotes only
   between floating-point (and complex) types.
   Fix: a wrapper hands ppdet's forward int64 labels and casts the assigned labels back to the
   caller's dtype. The numbers do not change.

2. Proposal bookkeeping of Faster R-CNN (`RPNHead._gen_proposal`, `generate_proposal_target`).
   Fails: ``ValueError: (InvalidArgument) The axis is expected to be in range of [0, 0), but got
   0`` at ``paddle.concat(bs_rois_num_collect)`` (RPN head), and then at
   ``paddle.concat(new_rois_num)`` (RoI sampling for the bbox head).
   Why: both build their per-image RoI counts by concatenating `paddle.shape(x)[0]`. In Paddle 2
   that value had shape [1]. In Paddle 3 it is a 0-D tensor, and `concat` needs at least one axis.
   Fix: our own short versions of both functions. They do the same per-image work, calling ppdet's
   own helpers, and stack the counts into the int32 [N] tensor that Paddle 2 produced. The RPN
   head's ONNX-export branch (`export_onnx=True`) still runs ppdet's code, which we have not
   tested.
"""
import functools
import inspect
from typing import Callable, Dict

import paddle
from ppdet.modeling.assigners import atss_assigner, task_aligned_assigner
from ppdet.modeling.proposal_generator import rpn_head, target, target_layer

# "Class.method" or "function" -> ppdet's own version, filled by apply()
ORIGINALS: Dict[str, Callable] = {}


def _rois_num(rois: list) -> paddle.Tensor:
    """Return the RoI count of each image as an int32 [N] tensor, as Paddle 2 gave it."""
    return paddle.stack([paddle.shape(r)[0] for r in rois]).astype("int32")


def _with_int64_labels(forward: Callable) -> Callable:
    """Wrap an assigner's forward so ppdet's code sees int64 `gt_labels` (fix 1)."""
    signature = inspect.signature(forward)

    @functools.wraps(forward)
    def wrapped(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        labels = bound.arguments["gt_labels"]
        bound.arguments["gt_labels"] = labels.astype("int64")
        assigned_labels, *rest = forward(*bound.args, **bound.kwargs)
        return (assigned_labels.astype(labels.dtype), *rest)

    return wrapped


def _gen_proposal(self, scores, bbox_deltas, anchors, inputs):
    """`RPNHead._gen_proposal`: the top proposals of each image over all levels (fix 2)."""
    if self.export_onnx:
        return ORIGINALS["RPNHead._gen_proposal"](self, scores, bbox_deltas, anchors, inputs)
    prop_gen = self.train_proposal if self.training else self.test_proposal
    im_shape = inputs["im_shape"]
    rois = []
    for i in range(paddle.shape(im_shape)[0]):
        levels = [prop_gen(scores=s[i:i + 1], bbox_deltas=d[i:i + 1], anchors=a,
                           im_shape=im_shape[i:i + 1])
                  for s, d, a in zip(scores, bbox_deltas, anchors)]
        image_rois = paddle.concat([level[0] for level in levels])
        # as in ppdet, a single level keeps all of its proposals
        if len(levels) > 1:
            probs = paddle.concat([level[1] for level in levels]).flatten()
            top_n = levels[-1][3]
            if probs.shape[0] > top_n:
                image_rois = paddle.gather(image_rois, paddle.topk(probs, top_n)[1])
        rois.append(image_rois)
    return rois, _rois_num(rois)


def _generate_proposal_target(rpn_rois, gt_classes, gt_boxes, batch_size_per_im, fg_fraction,
                              fg_thresh, bg_thresh, num_classes, ignore_thresh=-1., is_crowd=None,
                              use_random=True, is_cascade=False, cascade_iou=0.5,
                              assign_on_cpu=False, add_gt_as_proposals=True):
    """`generate_proposal_target`: sample RoIs per image and give each its targets (fix 2).

    Returns rois, labels, gt boxes and gt indices (lists, one tensor per image) and rois_num.
    """
    if is_cascade:
        fg_thresh = bg_thresh = cascade_iou
    outs = ([], [], [], [])
    for i, rois in enumerate(rpn_rois):
        gt_bbox = gt_boxes[i]
        if add_gt_as_proposals and gt_bbox.shape[0] > 0:
            rois = paddle.concat([rois, gt_bbox])
        matches, match_labels = target.label_box(
            rois, gt_bbox, fg_thresh, bg_thresh, False, ignore_thresh,
            is_crowd[i] if is_crowd else None, assign_on_cpu)
        inds, labels = target.sample_bbox(
            matches, match_labels, gt_classes[i].squeeze(-1), batch_size_per_im, fg_fraction,
            num_classes, use_random, is_cascade)
        if not is_cascade:
            rois, matches = paddle.gather(rois, inds), paddle.gather(matches, inds)
        if gt_bbox.shape[0] > 0:
            boxes = paddle.gather(gt_bbox, matches)
        else:
            boxes = paddle.zeros([rois.shape[0], 4], dtype="float32")
        for t in (rois, matches, boxes):
            t.stop_gradient = True
        for out, t in zip(outs, (rois, labels, boxes, matches)):
            out.append(t)
    return (*outs, _rois_num(outs[0]))


def _replace(key: str, owners: tuple, name: str, new: Callable) -> None:
    """Set `name` on every owner to `new`, once; keep ppdet's version in ORIGINALS[key]."""
    current = getattr(owners[0], name)
    original = getattr(current, "_ppattn_original", current)
    ORIGINALS[key] = original
    if current is not original:
        return  # already patched, perhaps by an earlier copy of this module
    new._ppattn_original = original
    for owner in owners:
        setattr(owner, name, new)


def apply() -> None:
    """Install every fix above. Safe to call more than once."""
    for cls in (atss_assigner.ATSSAssigner, task_aligned_assigner.TaskAlignedAssigner):
        _replace(f"{cls.__name__}.forward", (cls,), "forward",
                 _with_int64_labels(cls.forward))
    _replace("RPNHead._gen_proposal", (rpn_head.RPNHead,), "_gen_proposal", _gen_proposal)
    # target_layer imported the function by name, so it needs its own binding
    _replace("generate_proposal_target", (target, target_layer), "generate_proposal_target",
             _generate_proposal_target)


apply()
