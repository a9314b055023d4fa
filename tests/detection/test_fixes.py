"""ppattn.detection.fixes: each Paddle 3 failure of ppdet 2.6.0, its fix, and one training step
per detector.

Each fix test calls ppdet's own function (`ppattn.detection.patching.original`), checks that it
raises Paddle 3's error, and then checks the replacement on a case small enough to work out by hand.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import paddle
import pytest
from paddle.static import InputSpec
import ppdet.utils.checkpoint as ppdet_checkpoint
from ppdet.modeling.architectures import PPYOLOE, FasterRCNN
from ppdet.modeling.assigners import ATSSAssigner, TaskAlignedAssigner
from ppdet.modeling.backbones.cspresnet import CSPResNet
from ppdet.modeling.backbones.resnet import ResNet
from ppdet.modeling.heads.bbox_head import BBoxHead, TwoFCHead
from ppdet.modeling.heads.ppyoloe_head import PPYOLOEHead
from ppdet.modeling.necks.custom_pan import CustomCSPPAN
from ppdet.modeling.necks.fpn import FPN
from ppdet.modeling.post_process import BBoxPostProcess
from ppdet.modeling.proposal_generator import rpn_head, target_layer

from ppattn.detection.patching import original

INT_PROMOTION_ERROR = "Type promotion only support calculations between floating-point"
ZERO_D_CONCAT_ERROR = r"The axis is expected to be in range of \[0, 0\)"
BG = 4  # num_classes = 4, so the background label is 4

# Four 10x10 anchors in a row. Image 0's gt box is anchor 0 (label 1), image 1's is anchor 3
# (label 3), so each assigner should make exactly that anchor positive in each image.
ANCHORS = [[0, 0, 10, 10], [10, 0, 20, 10], [20, 0, 30, 10], [30, 0, 40, 10]]
WANT_LABELS = [[1, BG, BG, BG], [BG, BG, BG, 3]]


def _tensor(values, dtype="float32"):
    return paddle.to_tensor(values, dtype=dtype)


def _gt_one_per_image():
    """gt_labels (int32, as ppdet's data pipeline makes them), gt_bboxes and pad_gt_mask."""
    labels = _tensor([[[1]], [[3]]], "int32")
    boxes = _tensor([[ANCHORS[0]], [ANCHORS[3]]])
    return labels, boxes, paddle.ones([2, 1, 1])


def _assert_one_positive_per_image(labels, boxes, scores):
    assert labels.dtype == paddle.int32
    np.testing.assert_array_equal(labels.numpy(), WANT_LABELS)
    np.testing.assert_array_equal(boxes.numpy()[0, 0], ANCHORS[0])
    np.testing.assert_array_equal(boxes.numpy()[1, 3], ANCHORS[3])
    want_scores = np.zeros([2, 4, BG], np.float32)
    want_scores[0, 0, 1] = want_scores[1, 3, 3] = 1.0
    np.testing.assert_allclose(scores.numpy(), want_scores, atol=1e-6)


def test_atss_assigner_takes_int32_labels():
    assigner = ATSSAssigner(topk=3, num_classes=BG)
    labels, boxes, mask = _gt_one_per_image()
    # IoUs of the 3 nearest anchors are (1, 0, 0): threshold mean + std = 0.91, so 1 anchor wins
    args = (_tensor(ANCHORS), [4], labels, boxes, mask)
    with pytest.raises(TypeError, match=INT_PROMOTION_ERROR):
        original("ATSSAssigner.forward")(assigner, *args, bg_index=BG)
    out = assigner(*args, bg_index=BG)
    _assert_one_positive_per_image(*out[:3])


def test_task_aligned_assigner_takes_int32_labels():
    assigner = TaskAlignedAssigner(topk=1)
    labels, boxes, mask = _gt_one_per_image()
    # predictions equal the anchors and every score is 0.5: the anchor inside each gt wins,
    # and its target score is rescaled to its IoU, 1
    pred_bboxes = _tensor([ANCHORS, ANCHORS])
    points = (pred_bboxes[0, :, :2] + pred_bboxes[0, :, 2:]) / 2
    args = (paddle.full([2, 4, BG], 0.5), pred_bboxes, points, [4], labels, boxes, mask)
    with pytest.raises(TypeError, match=INT_PROMOTION_ERROR):
        original("TaskAlignedAssigner.forward")(assigner, *args, bg_index=BG)
    out = assigner(*args, bg_index=BG)
    _assert_one_positive_per_image(*out[:3])


def _rpn_case():
    """RPN outputs for 2 images, their anchors and im_shape; the 3 best proposals of each image."""
    # level 0: 2x2 cells of 8x8 anchors; level 1: one 16x16 anchor. Deltas are 0, so every
    # proposal is its anchor, and the 3 best of 5 scores over both levels survive.
    anchors = [_tensor([[0, 0, 8, 8], [8, 0, 16, 8], [0, 8, 8, 16], [8, 8, 16, 16]]),
               _tensor([[0, 0, 16, 16]])]
    scores = [_tensor([[[[4, 1], [2, 3]]], [[[1, 2], [3, 4]]]]), _tensor([[[[5]]], [[[0]]]])]
    deltas = [paddle.zeros([2, 4, 2, 2]), paddle.zeros([2, 4, 1, 1])]
    want = [[[0, 0, 16, 16], [0, 0, 8, 8], [8, 8, 16, 16]],
            [[8, 8, 16, 16], [0, 8, 8, 16], [8, 0, 16, 8]]]
    return scores, deltas, anchors, _tensor([[32, 32], [32, 32]]), want


def _rpn_head(training: bool):
    proposal = dict(min_size=0., nms_thresh=0.7, pre_nms_top_n=10, post_nms_top_n=3,
                    topk_after_collect=True)
    head = rpn_head.RPNHead(in_channel=4, train_proposal=proposal, test_proposal=proposal)
    head.train(training)
    return head


def test_rpn_proposals_count_rois_per_image():
    head = _rpn_head(training=True)
    scores, deltas, anchors, im_shape, want = _rpn_case()
    inputs = {"im_shape": im_shape}
    with pytest.raises(ValueError, match=ZERO_D_CONCAT_ERROR):
        original("RPNHead._gen_proposal")(head, scores, deltas, anchors, inputs)
    rois, rois_num = head._gen_proposal(scores, deltas, anchors, inputs)
    assert rois_num.dtype == paddle.int32
    np.testing.assert_array_equal(rois_num.numpy(), [3, 3])
    np.testing.assert_array_equal(rois[0].numpy(), want[0])
    np.testing.assert_array_equal(rois[1].numpy(), want[1])


def test_rpn_proposals_trace_for_export():
    head = _rpn_head(training=False)
    scores, deltas, anchors, im_shape, want = _rpn_case()

    def proposals(score0, score1, delta0, delta1, im_shape):
        rois, rois_num = head._gen_proposal([score0, score1], [delta0, delta1], anchors,
                                            {"im_shape": im_shape})
        return paddle.concat(rois), rois_num

    # as export traces it: whole graph, batch size and feature map sizes unknown
    specs = [InputSpec([None, c, -1, -1]) for c in (1, 1, 4, 4)] + [InputSpec([None, 2])]
    static = paddle.jit.to_static(proposals, input_spec=specs, full_graph=True)
    rois, rois_num = static(*scores, *deltas, im_shape)
    np.testing.assert_array_equal(rois_num.numpy(), [3, 3])
    np.testing.assert_array_equal(rois.numpy(), want[0] + want[1])


def test_proposal_targets_count_rois_per_image():
    rpn_rois = [_tensor([[0, 0, 10, 10], [20, 20, 30, 30]]), _tensor([[0, 0, 10, 10]])]
    inputs = {"gt_class": [_tensor([[2]], "int32"), _tensor([[1]], "int32")],
              "gt_bbox": [_tensor([[0, 0, 10, 10]]), _tensor([[20, 20, 30, 30]])]}
    with pytest.raises(ValueError, match=ZERO_D_CONCAT_ERROR):
        original("generate_proposal_target")(
            rpn_rois, inputs["gt_class"], inputs["gt_bbox"], 8, 0.5, 0.5, 0.5, BG,
            use_random=False)
    # gt boxes join the proposals; IoU 1 is foreground, IoU 0 background; foreground first
    assigner = target_layer.BBoxAssigner(batch_size_per_im=8, use_random=False, num_classes=BG)
    rois, rois_num, (labels, gt_boxes, gt_inds) = assigner(rpn_rois, None, inputs)
    assert rois_num.dtype == paddle.int32
    np.testing.assert_array_equal(rois_num.numpy(), [3, 2])
    np.testing.assert_array_equal(rois[0].numpy(), [[0, 0, 10, 10], [0, 0, 10, 10],
                                                    [20, 20, 30, 30]])
    np.testing.assert_array_equal(rois[1].numpy(), [[20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_array_equal(labels[0].numpy(), [2, 2, BG])
    np.testing.assert_array_equal(labels[1].numpy(), [1, BG])
    np.testing.assert_array_equal(gt_boxes[1].numpy(), [[20, 20, 30, 30]] * 2)
    np.testing.assert_array_equal(gt_inds[0].numpy(), [0, 0, 0])


def _post_process_case():
    """get_pred's inputs for 3 images with 3, 0 and 1 boxes after NMS, and its expected output."""
    # rows are label, score, x1, y1, x2, y2
    bboxes = _tensor([[1, .9, 10, 10, 20, 30], [2, .8, 50, 30, 70, 50], [3, .7, 70, 0, 80, 10],
                      [0, .5, 4, 4, 8, 8]])
    # image 0 was resized by 2 in y and 0.5 in x from 20 x 120 (h x w); image 2 by 0.5 from 32 x 32
    im_shape = _tensor([[40, 60], [32, 32], [16, 16]])
    scale_factor = _tensor([[2, .5], [1, 1], [.5, .5]])
    fake = [0, 0, 0, 0, 1, 1]
    # x divided by 0.5, y by 2, clipped to 120 x 20: the third box is then empty, so label -1
    want = [[1, .9, 20, 5, 40, 15], [2, .8, 100, 15, 120, 20], [-1, .7, 120, 0, 120, 5], fake,
            [0, .5, 8, 8, 16, 16]]
    return (bboxes, _tensor([3, 0, 1], "int32"), im_shape, scale_factor), fake, want


def test_box_post_process_rescales_clips_and_fills_each_image():
    args, fake, want = _post_process_case()
    post = BBoxPostProcess(num_classes=BG)
    with pytest.raises(ValueError, match=ZERO_D_CONCAT_ERROR):
        original("BBoxPostProcess.get_pred")(post, *args)
    kept, pred, pred_num = post.get_pred(*args)
    assert pred_num.dtype == paddle.int32
    np.testing.assert_array_equal(pred_num.numpy(), [3, 1, 1])
    np.testing.assert_array_equal(kept.numpy(), np.insert(args[0].numpy(), 3, fake, axis=0))
    np.testing.assert_allclose(pred.numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(post.get_origin_shape().numpy(),
                                  [[20, 120]] * 3 + [[32, 32]] * 2)


def test_box_post_process_traces_for_export():
    args, _, want = _post_process_case()
    post = BBoxPostProcess(num_classes=BG)

    def get_pred(bboxes, bbox_num, im_shape, scale_factor):
        return post.get_pred(bboxes, bbox_num, im_shape, scale_factor)

    # as export traces it: whole graph, batch size and box counts unknown
    specs = [InputSpec([None, 6]), InputSpec([None], "int32"), InputSpec([None, 2]),
             InputSpec([None, 2])]
    static = paddle.jit.to_static(get_pred, input_spec=specs, full_graph=True)
    _, pred, pred_num = static(*args)
    np.testing.assert_array_equal(pred_num.numpy(), [3, 1, 1])
    np.testing.assert_allclose(pred.numpy(), want, rtol=1e-6)


def _assert_trained_one_step(model, inputs):
    """Forward in train mode, backward, and check losses and gradients are finite."""
    model.train()
    losses = model(inputs)
    losses["loss"].backward()
    values = {k: float(v) for k, v in losses.items()}
    assert all(np.isfinite(v) for v in values.values()), values
    grads = [p.grad for p in model.parameters() if not p.stop_gradient]
    assert grads and all(g is not None and np.isfinite(g.numpy()).all() for g in grads[:5])
    assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)


def _tiny_ppyoloe():
    """PP-YOLOE-s layout at width 0.25 and depth 0.33; ATSS for epoch 0, task-aligned after."""
    backbone = CSPResNet(layers=[3, 6, 6, 3], channels=[64, 128, 256, 512, 1024],
                         return_idx=[1, 2, 3], use_large_stem=True, width_mult=0.25,
                         depth_mult=0.33)
    neck = CustomCSPPAN(in_channels=[s.channels for s in backbone.out_shape],
                        out_channels=[768, 384, 192], stage_num=1, block_num=3, act="swish",
                        spp=True, width_mult=0.25, depth_mult=0.33)
    head = PPYOLOEHead(in_channels=[s.channels for s in neck.out_shape], num_classes=BG,
                       static_assigner_epoch=1, static_assigner=ATSSAssigner(num_classes=BG),
                       assigner=TaskAlignedAssigner(), nms=None)
    return PPYOLOE(backbone=backbone, neck=neck, yolo_head=head, post_process=None)


@pytest.mark.parametrize("epoch, assigner", [(0, "static_assigner"), (1, "assigner")])
def test_tiny_ppyoloe_trains_one_step(epoch, assigner):
    model = _tiny_ppyoloe()
    called = []
    getattr(model.yolo_head, assigner).register_forward_post_hook(
        lambda layer, args, out: called.append(layer))
    inputs = {"image": paddle.rand([2, 3, 128, 128]), "epoch_id": epoch,
              "gt_class": _tensor([[[1], [2]], [[3], [0]]], "int32"),
              "gt_bbox": _tensor([[[10, 10, 60, 70], [50, 40, 120, 110]],
                                  [[20, 30, 90, 100], [0, 0, 0, 0]]]),
              "pad_gt_mask": _tensor([[[1], [1]], [[1], [0]]])}
    _assert_trained_one_step(model, inputs)
    assert called == [getattr(model.yolo_head, assigner)]


def _tiny_faster_rcnn():
    """ResNet-18, FPN and RPN with 32 channels, a 64-wide two-FC box head."""
    backbone = ResNet(depth=18, variant="b", freeze_at=0, return_idx=[0, 1, 2, 3])
    neck = FPN(in_channels=[s.channels for s in backbone.out_shape], out_channel=32)
    rpn = rpn_head.RPNHead(
        anchor_generator=dict(aspect_ratios=[0.5, 1., 2.], strides=[4, 8, 16, 32, 64],
                              anchor_sizes=[[32], [64], [128], [256], [512]]),
        rpn_target_assign=dict(batch_size_per_im=64, fg_fraction=0.5),
        train_proposal=dict(min_size=0., nms_thresh=0.7, pre_nms_top_n=200, post_nms_top_n=100,
                            topk_after_collect=True),
        in_channel=32)
    bbox_head = BBoxHead(
        head=TwoFCHead(in_channel=32, out_channel=64, resolution=7), in_channel=64,
        roi_extractor=dict(resolution=7, spatial_scale=[1. / s.stride for s in neck.out_shape],
                           aligned=True),
        bbox_assigner=target_layer.BBoxAssigner(batch_size_per_im=64, num_classes=BG),
        num_classes=BG)
    return FasterRCNN(backbone=backbone, rpn_head=rpn, bbox_head=bbox_head,
                      bbox_post_process=None, neck=neck)


def test_tiny_faster_rcnn_trains_one_step():
    inputs = {"image": paddle.rand([2, 3, 128, 128]),
              "im_shape": _tensor([[128, 128], [128, 128]]),
              "gt_class": [_tensor([[1], [2]], "int32"), _tensor([[3]], "int32")],
              "gt_bbox": [_tensor([[10, 10, 60, 70], [50, 40, 120, 110]]),
                          _tensor([[20, 30, 90, 100]])],
              "is_crowd": [paddle.zeros([2, 1], "int32"), paddle.zeros([1, 1], "int32")]}
    _assert_trained_one_step(_tiny_faster_rcnn(), inputs)


# Fix 4: a child process saves snapshots in a loop, generation g filling every tensor with g; the
# test kills it with SIGKILL in the middle of a save.
_SAVER = textwrap.dedent("""
    import sys
    import paddle
    import ppattn  # noqa: F401  (installs the atomic save_model)
    from ppattn.detection.patching import original
    import ppdet.utils.checkpoint as checkpoint

    class Optimizer:
        def __init__(self, g):
            self.g = g

        def state_dict(self):
            return {"moment": paddle.full([SIZE], float(self.g))}

    save = original("save_model") if sys.argv[2] == "ppdet" else checkpoint.save_model
    for g in range(1, 1000):
        print(f"saving {g}", flush=True)
        weights = {"w": paddle.full([SIZE], float(g))}
        save(weights, Optimizer(g), sys.argv[1], "snap", g, ema_model=dict(weights))
""")
_SIZE = 4_000_000   # 16 MB a file, so that a save takes long enough to be caught in the middle


def _start_saver(folder, which):
    code = _SAVER.replace("SIZE", str(_SIZE))
    return subprocess.Popen([sys.executable, "-c", code, str(folder), which],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def _kill_during_save(folder, which, in_save, delay=0.0):
    """Let the saver finish one save, wait until `in_save(folder)` says the next is under way,
    wait `delay` seconds more, then SIGKILL it."""
    saver = _start_saver(folder, which)
    try:
        for line in saver.stdout:
            if line.strip() == "saving 2":
                break
        deadline = time.time() + 60
        while not in_save(folder) and time.time() < deadline:
            time.sleep(0.001)
        assert in_save(folder), "the saver never got into a save"
        time.sleep(delay)
        saver.send_signal(signal.SIGKILL)
    finally:
        saver.kill()
        saver.wait()


def _generation(path):
    value = paddle.load(path)
    tensor = value["w"] if "w" in value else value["moment"]
    values = np.unique(tensor.numpy())
    assert values.size == 1, f"{path} mixes generations {values}"
    return int(values[0])


def test_snapshot_killed_during_a_save_is_the_old_or_the_new_one_whole(tmp_path):
    from ppattn.engine import CheckpointError, check_snapshot, read_state
    # a temporary file exists from the first write of a save to the last rename; the random
    # delay lands the kill anywhere from there to after the save (each outcome must hold)
    delay = np.random.default_rng().uniform(0, 0.3)
    _kill_during_save(tmp_path, "ppattn", lambda d: any(n.endswith(".tmp") for n in os.listdir(d)),
                      delay)
    files = {n: os.path.getsize(tmp_path / n) for n in sorted(os.listdir(tmp_path))}
    print(f"killed {delay:.3f} s into save 2: {files}")
    base = str(tmp_path / "snap")
    if os.path.exists(base + ".pdparams"):
        generations = {s: _generation(base + s) for s in (".pdparams", ".pdema", ".pdopt")}
        assert len(set(generations.values())) == 1, (generations, files)   # one save, no mix
        assert check_snapshot(base, ema=True) == generations[".pdparams"] in (1, 2)
        assert read_state(base + ".pdopt")["last_epoch"] == generations[".pdparams"]
    else:   # killed between removing the old weights and renaming the new ones in
        with pytest.raises(CheckpointError, match=r"snap.pdparams' \(the weights\) is missing"):
            check_snapshot(base, ema=True)


def test_ppdets_own_save_killed_during_a_save_leaves_a_truncated_file(tmp_path):
    """Why fix 4 exists: ppdet writes in place, so the killed save leaves a partial file."""
    full = None

    def in_save(folder):
        nonlocal full
        path = os.path.join(folder, "snap.pdparams")
        size = os.path.getsize(path) if os.path.exists(path) else 0
        full = full or (size if size > 4 * _SIZE else None)
        return full is not None and size < full

    _kill_during_save(tmp_path, "ppdet", in_save)
    with pytest.raises(Exception):
        paddle.load(str(tmp_path / "snap.pdparams"))


def test_failed_save_keeps_the_previous_snapshot(tmp_path, monkeypatch):
    class Optimizer:
        def state_dict(self):
            return {"moment": paddle.ones([3])}

    ppdet_checkpoint.save_model({"w": paddle.ones([3])}, Optimizer(), str(tmp_path), "snap", 1,
                                ema_model={"w": paddle.ones([3])})
    real_save = paddle.save

    def save_then_fail(obj, path, *args, **kwargs):
        real_save(obj, path, *args, **kwargs)
        if path.endswith(".pdema.tmp"):
            raise OSError("No space left on device")

    monkeypatch.setattr(paddle, "save", save_then_fail)
    with pytest.raises(OSError, match="No space left"):
        ppdet_checkpoint.save_model({"w": paddle.zeros([3])}, Optimizer(), str(tmp_path),
                                    "snap", 2, ema_model={"w": paddle.zeros([3])})
    for suffix in (".pdparams", ".pdema"):
        np.testing.assert_array_equal(paddle.load(str(tmp_path / f"snap{suffix}"))["w"].numpy(),
                                      np.ones(3))
    assert paddle.load(str(tmp_path / "snap.pdopt"))["last_epoch"] == 1
