"""The replacements that let PaddleDetection 2.6.0 train, evaluate and export under Paddle 3, and
save checkpoints that survive a kill.

ppdet 2.6.0 was written for Paddle 2.x. Two Paddle 3 changes break training at the first step, and
the second also breaks Faster R-CNN evaluation and inference (fixes 1-3); fix 4 is ppdet's own;
fix 5 is needed for export. Each fix replaces one ppdet function or method and nothing else.
`ppattn.detection.patches` lists them with the rest of ppattn's changes and installs them (its
`PATCHES`); the originals stay reachable through `ppattn.detection.patching.original`, so the
tests can show each failure.

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
   head's version keeps batch size, counts and the top-n test as tensors, as ppdet does, so that
   `paddle.jit.to_static` can trace it for export. Its ONNX-export branch (`export_onnx=True`)
   still runs ppdet's code, which we have not tested.

3. Box post-processing of Faster R-CNN (`BBoxPostProcess.get_pred`), at evaluation, inference
   and export.
   Fails: the same ``ValueError`` as fix 2, at ``paddle.concat(bbox_num_list)``, or, when no
   image has a box, at ``paddle.concat([scale_x, scale_y, scale_x, scale_y])``.
   Why: the same 0-D change. Both concatenate items indexed out of a tensor (`bbox_num[i]`,
   `scale_factor[i][0]`), which are 0-D in Paddle 3.
   Fix: our own version without the per-image loop, so it also traces for export. As in ppdet,
   an image without boxes gets one fake box (label 0, score 0, box [0, 0, 1, 1]), and each box
   is divided by its image's scale factor, clipped to the original image and labelled -1 if it
   is then empty. The ONNX-export and EdgeBoard branches (`export_onnx`, `export_eb`) still run
   ppdet's code, which we have not tested.

4. Checkpoint saving (`ppdet.utils.checkpoint.save_model`, also bound in `ppdet.engine.callbacks`).
   Fails: a SIGKILL (or a full disk) during a save leaves a truncated `.pdparams` or an empty
   `.pdopt`, written in place over the previous snapshot of that name (`model_final` every run).
   Resuming from it fails with ``EOFError: Ran out of input`` and no file name.
   Fix: every file of the snapshot is written to `<file>.tmp` and flushed to disk; only then is
   the old `.pdparams` removed, the `.pdopt` and `.pdema` renamed into place and the `.pdparams`
   last. So a snapshot with a `.pdparams` is complete and of one save (the old one or the new
   one), and one without is refused by `ppattn.engine.check_snapshot`, naming the file.

5. NMS at export (`ppdet.modeling.ops.multiclass_nms`).
   Fails: ``The type of '%BBoxes' in operator multiclass_nms3 should be one of [str, bytes,
   Variable]`` when `paddle.jit.to_static` traces a detector.
   Why: ppdet's `multiclass_nms` appends an old-IR op in static mode, but Paddle 3 traces into
   PIR. Turning PIR off does not help: jit.save then fails elsewhere.
   Fix: in PIR mode call the PIR op `multiclass_nms3`, as PaddleDetection's develop branch does
   (ppdet/modeling/ops.py there); dygraph and old-IR calls still run ppdet's own function.
"""
import functools
import inspect
import os
from typing import Callable

import paddle
import ppdet.utils.checkpoint as ppdet_checkpoint
from paddle.framework import in_pir_mode
from ppdet.modeling import post_process
from ppdet.modeling.proposal_generator import target

from .patching import original


def _rois_num(rois: list) -> paddle.Tensor:
    """Return the RoI count of each image as an int32 [N] tensor, as Paddle 2 gave it."""
    return paddle.stack([paddle.shape(r)[0] for r in rois]).astype("int32")


def int64_label_forward(forward: Callable) -> Callable:
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


def gen_proposal(self, scores, bbox_deltas, anchors, inputs):
    """`RPNHead._gen_proposal`: the top proposals of each image over all levels (fix 2)."""
    if self.export_onnx:
        return original("RPNHead._gen_proposal")(self, scores, bbox_deltas, anchors, inputs)
    prop_gen = self.train_proposal if self.training else self.test_proposal
    im_shape = inputs["im_shape"]
    rois, counts = [], []
    # tensors, not Python ints, for the batch size, RoI counts and the top-n test, so that
    # export can trace the loop; a [1] slice of a shape concatenates, a 0-D item does not
    for i in range(paddle.shape(im_shape)[0]):
        levels = [prop_gen(scores=s[i:i + 1], bbox_deltas=d[i:i + 1], anchors=a,
                           im_shape=im_shape[i:i + 1])
                  for s, d, a in zip(scores, bbox_deltas, anchors)]
        image_rois = paddle.concat([level[0] for level in levels])
        # as in ppdet, a single level keeps all of its proposals
        if len(levels) > 1:
            probs = paddle.concat([level[1] for level in levels]).flatten()
            top_n = levels[-1][3]
            if paddle.shape(probs)[0] > top_n:
                image_rois = paddle.gather(image_rois, paddle.topk(probs, top_n)[1])
        rois.append(image_rois)
        counts.append(paddle.shape(image_rois)[0:1])
    return rois, paddle.concat(counts).astype("int32")


def generate_proposal_target(rpn_rois, gt_classes, gt_boxes, batch_size_per_im, fg_fraction,
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


def get_pred(self, bboxes, bbox_num, im_shape, scale_factor):
    """`BBoxPostProcess.get_pred`: boxes in original-image pixels, clipped to it (fix 3).

    Takes NMS output, bboxes [M, 6] (label, score, x1, y1, x2, y2) and bbox_num [N]. Returns
    those with a fake box for each image that had none, the final boxes, and their bbox_num.
    """
    if self.export_eb or self.export_onnx:
        return original("BBoxPostProcess.get_pred")(self, bboxes, bbox_num, im_shape,
                                                     scale_factor)
    fake = paddle.to_tensor([[0., 0., 0., 0., 1., 1.]], dtype=bboxes.dtype)
    num = bbox_num.astype("int64")  # cumsum gives int64, and Paddle 3 does not mix int types
    out_num = paddle.maximum(num, paddle.ones_like(num))
    # for each output box, its image and its row in [bboxes; fake]
    image = paddle.repeat_interleave(paddle.arange(paddle.shape(num)[0]), out_num)
    first_in, first_out = (paddle.gather(paddle.cumsum(n) - n, image) for n in (num, out_num))
    row = paddle.arange(paddle.shape(image)[0]) - first_out + first_in
    row = paddle.where(paddle.gather(num, image) > 0, row, paddle.shape(bboxes)[0])
    bboxes = paddle.gather(paddle.concat([bboxes, fake]), row)
    # scale_factor and im_shape are (y, x); boxes are (x1, y1, x2, y2)
    self.origin_shape_list = paddle.gather(paddle.floor(im_shape / scale_factor + 0.5), image)
    size = paddle.tile(paddle.flip(self.origin_shape_list, [1]), [1, 2])
    scale = paddle.tile(paddle.flip(paddle.gather(scale_factor, image), [1]), [1, 2])
    box = paddle.clip(paddle.minimum(bboxes[:, 2:] / scale, size), min=0.)
    keep = post_process.nonempty_bbox(box, return_mask=True).unsqueeze(1)
    label = paddle.where(keep, bboxes[:, :1], paddle.full_like(bboxes[:, :1], -1.))
    pred = paddle.concat([label, bboxes[:, 1:2], box], axis=1)
    return bboxes, pred, out_num.astype(bbox_num.dtype)


def _write_temporary(obj, path: str) -> str:
    """paddle.save `obj` to `path`.tmp and flush it to disk; return the temporary path."""
    temporary = path + ".tmp"
    paddle.save(obj, temporary)
    with open(temporary, "rb") as f:
        os.fsync(f.fileno())
    return temporary


def save_model(model, optimizer, save_dir, save_name, last_epoch, ema_model=None):
    """`save_model`: ppdet's snapshot files, replaced all together only once all are on disk
    (fix 4). As in ppdet, `.pdparams` holds the EMA weights when there are any and `.pdema` the
    raw ones, `.pdopt` the optimizer state with `last_epoch`; only rank 0 saves."""
    if paddle.distributed.get_rank() != 0:
        return
    if not isinstance(model, dict) or not isinstance(ema_model, (dict, type(None))):
        raise TypeError("save_model takes state dicts (model.state_dict()), got "
                        f"{type(model).__name__} and {type(ema_model).__name__}")
    os.makedirs(save_dir, exist_ok=True)
    base = os.path.join(save_dir, save_name)
    state = optimizer.state_dict()
    state["last_epoch"] = last_epoch
    files = {".pdopt": state, ".pdparams": model if ema_model is None else ema_model}
    if ema_model is not None:
        files[".pdema"] = model
    temporaries = {suffix: _write_temporary(obj, base + suffix) for suffix, obj in files.items()}
    # no moment where an old .pdparams stands beside new companions: it goes first, comes last
    if os.path.exists(base + ".pdparams"):
        os.remove(base + ".pdparams")
    for suffix in (".pdopt", ".pdema", ".pdparams"):
        if suffix in temporaries:
            os.replace(temporaries[suffix], base + suffix)
    folder = os.open(save_dir, os.O_RDONLY)
    try:
        os.fsync(folder)   # the renames themselves reach the disk
    finally:
        os.close(folder)
    ppdet_checkpoint.logger.info(f"Save checkpoint: {save_dir}")


def pir_multiclass_nms(ppdet_nms: Callable) -> Callable:
    """`multiclass_nms` that traces into PIR (fix 5); other calls run `ppdet_nms`."""
    @functools.wraps(ppdet_nms)
    def multiclass_nms(bboxes, scores, score_threshold, nms_top_k, keep_top_k,
                       nms_threshold=0.3, normalized=True, nms_eta=1., background_label=-1,
                       return_index=False, return_rois_num=True, rois_num=None, name=None):
        if not in_pir_mode():
            return ppdet_nms(bboxes, scores, score_threshold, nms_top_k, keep_top_k,
                             nms_threshold, normalized, nms_eta, background_label, return_index,
                             return_rois_num, rois_num, name)
        # argument order of Paddle's ops.yaml `multiclass_nms3`
        output, index, nms_rois_num = paddle._C_ops.multiclass_nms3(
            bboxes, scores, rois_num, score_threshold, nms_top_k, keep_top_k, nms_threshold,
            normalized, nms_eta, background_label)
        return output, nms_rois_num, (index if return_index else None)
    return multiclass_nms
