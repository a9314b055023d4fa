"""The neck configs: a stock checkpoint loads into them, they train, and the demo-sized one goes
through the tools (train with evaluation, export with its Paddle Inference check, ONNX with its
parity check)."""
import os
import subprocess
import sys

import numpy as np
import paddle
import pytest
from ppdet.core.workspace import create

from ppattn.detection.backbones import load_pretrained
from ppattn.data import make_shapes_dataset
from ppattn.engine import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOOLS = os.path.join(ROOT, "tools")
STOCK = "configs/ppyoloe/ppyoloe_crn_s_300e_coco.yml"
# leaf -> the neck slot its name promises
PPYOLOE_LEAVES = {"configs/ppyoloe/ppyoloe_crn_s_neck_eca_pan_300e_coco.yml": "pan_attn",
                  "configs/ppyoloe/ppyoloe_crn_s_neck_cbam_input_300e_coco.yml": "input_attn"}
RCNN_LEAF = "configs/faster_rcnn/faster_rcnn_r50_vd_fpn_neck_eca_output_1x_coco.yml"
DEMO = "configs/demo/ppyoloe_crn_t_eca_neck_eca_pan_shapes.yml"
DEMO_NAME = "ppyoloe_crn_t_eca_neck_eca_pan_shapes"
SIZE = 64
# ATSS picks 9 anchors per level: the stride-32 level needs at least 3 x 3 cells
PPYOLOE_SIZE = 128


def _model(leaf):
    cfg = load_config(os.path.join(ROOT, leaf))
    return create(cfg.architecture)


@pytest.mark.parametrize("leaf, slot", sorted(PPYOLOE_LEAVES.items()))
def test_stock_checkpoint_loads_and_only_the_neck_blocks_are_new(leaf, slot, tmp_path):
    stock = _model(STOCK).state_dict()
    model = _model(leaf)
    report = load_pretrained(model, {key: value.numpy() for key, value in stock.items()})
    new = [key for key in model.state_dict() if key.startswith(f"neck.{slot}.")]
    assert new and report.newly_initialized == new
    assert not report.shape_mismatched and not report.unused
    state = model.state_dict()
    for key in ("neck.fpn_stages.0.0.conv1.conv.weight", "neck.pan_routes.0.bn._mean"):
        np.testing.assert_array_equal(state[key].numpy(), stock[key].numpy(), err_msg=key)


def _ppyoloe_batch():
    boxes = [[[8.0, 8.0, 40.0, 48.0], [0.0, 0.0, 0.0, 0.0]], [[4.0, 20.0, 30.0, 60.0]] * 2]
    return {"image": paddle.rand([2, 3, PPYOLOE_SIZE, PPYOLOE_SIZE]),
            "im_shape": paddle.to_tensor([[PPYOLOE_SIZE, PPYOLOE_SIZE]] * 2, "float32"),
            "scale_factor": paddle.ones([2, 2], "float32"),
            "gt_bbox": paddle.to_tensor(boxes, "float32"),
            "gt_class": paddle.to_tensor([[[3], [0]], [[1], [7]]], "int32"),
            "pad_gt_mask": paddle.to_tensor([[[1.0], [0.0]], [[1.0], [1.0]]]),
            "epoch_id": 0}


def _rcnn_batch():
    return {"image": paddle.rand([1, 3, SIZE, SIZE]),
            "im_shape": paddle.to_tensor([[SIZE, SIZE]], "float32"),
            "scale_factor": paddle.ones([1, 2], "float32"),
            "gt_bbox": [paddle.to_tensor([[8.0, 8.0, 40.0, 48.0]])],
            "gt_class": [paddle.to_tensor([[3]], "int32")],
            "is_crowd": [paddle.to_tensor([[0]], "int32")]}


@pytest.mark.parametrize("leaf, slot, batch", [
    *[(leaf, slot, _ppyoloe_batch) for leaf, slot in sorted(PPYOLOE_LEAVES.items())],
    (RCNN_LEAF, "output_attn", _rcnn_batch)],
    ids=lambda v: os.path.basename(v) if isinstance(v, str) else v.__name__.strip("_"))
def test_neck_config_trains_a_few_steps_and_its_blocks_learn(leaf, slot, batch):
    paddle.seed(1)
    model = _model(leaf)
    model.train()
    blocks = getattr(model.neck, slot)
    before = {name: p.numpy().copy() for name, p in blocks.named_parameters()}
    assert before, f"{leaf}: no parameters in neck.{slot}"
    optimizer = paddle.optimizer.SGD(0.01, parameters=model.parameters())
    for step in range(2):
        loss = model(batch())["loss"]
        assert np.isfinite(float(loss)), f"{leaf}: step {step} loss {float(loss)}"
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
    moved = [name for name, p in blocks.named_parameters()
             if not np.array_equal(p.numpy(), before[name])]
    assert moved, f"{leaf}: no parameter of neck.{slot} changed in two steps"


def _run_tool(args, cwd):
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, (f"{' '.join(args)} failed ({result.returncode}):\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result.stdout + result.stderr


def test_demo_with_backbone_and_neck_attention_goes_through_the_tools(tmp_path):
    data = tmp_path / "shapes"
    make_shapes_dataset(str(data), num_train=8, num_val=4, num_test=1, size=96, seed=1)
    options = ["-o", *[f"{d}.dataset_dir={data}" for d in ("TrainDataset", "EvalDataset",
                                                           "TestDataset")],
               "TrainReader.batch_size=4", "log_iter=1", "epoch=1", "snapshot_epoch=1",
               # two steps leave every score under the default 0.01; keep all boxes so that
               # evaluation has detections to score
               "PPYOLOEHead.nms.score_threshold=0.0"]
    config = os.path.join(ROOT, DEMO)
    log = _run_tool([f"{TOOLS}/train.py", "-c", config, "--eval", "--output_dir", str(tmp_path),
                     *options], cwd=str(tmp_path))
    assert "Epoch: [0] [1/2]" in log and "loss: " in log
    assert "Average Precision  (AP) @[ IoU=0.50 " in log
    weights = tmp_path / DEMO_NAME / "model_final"
    assert os.path.isfile(f"{weights}.pdparams")
    # export_model checks Paddle Inference against dygraph, export_onnx --check ONNX Runtime
    # against Paddle Inference; each exits non-zero on a mismatch
    _run_tool([f"{TOOLS}/export_model.py", "-c", config, "--output_dir", str(tmp_path / "inf"),
               *options, f"weights={weights}"], cwd=str(tmp_path))
    log = _run_tool([f"{TOOLS}/export_onnx.py", "--model_dir", str(tmp_path / "inf" / DEMO_NAME),
                     "--check"], cwd=str(tmp_path))
    assert "PASS" in log
