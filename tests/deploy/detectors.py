"""Tiny exported detectors for the deploy tests: the demo PP-YOLOE (AttnCSPResNet width 0.25,
depth 0.33, 128 px) with a chosen attention block, random weights, exported by ppattn.engine."""
import importlib.util
import os

import paddle
import pytest
from ppdet.engine import Trainer

from ppattn.engine import export_model, load_config, parse_overrides, select_device

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes.yml")
# the registry's default spec for each block, except where the small widths need other groups:
# the stage blocks see 24..192 channels, so PSA's 4 branches have 6..48 channels
SPECS = {
    "psa": {"name": "psa", "conv_groups": [1, 1, 3, 3], "reduction": 1},
    # SA's 64 groups need C divisible by 128, EMA's factor 32 C divisible by 32
    "sa": {"name": "sa", "groups": 4},
    "ema": {"name": "ema", "factor": 8},
    # extent > 0 gathers with strided convs and scatters back with F.interpolate
    "ge_extent2": {"name": "ge", "extent": 2},
}
HAVE_ONNX = all(importlib.util.find_spec(m) for m in ("paddle2onnx", "onnxruntime", "onnx"))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="paddle2onnx, onnx and onnxruntime are "
                                                      "not installed: pip install ppattn[export]")


def spec_for(block: str):
    return SPECS.get(block, {"name": block})


def build_trainer(data_dir: str, block: str, *options: str) -> Trainer:
    """The demo detector with `block` in every backbone stage, random weights, in eval mode.

    The head's class and box predictors get random weights: freshly initialised, every anchor
    scores the same 0.01 prior and NMS would choose among ties.
    """
    cfg = load_config(DEMO, parse_overrides([
        f"TestDataset.dataset_dir={data_dir}", "weights=unused",
        # keep every box up to 50, so no box sits at the edge of the score threshold
        "PPYOLOEHead.nms.score_threshold=0.0", "PPYOLOEHead.nms.keep_top_k=50", *options]))
    cfg["AttnCSPResNet"]["attn"] = spec_for(block)
    select_device(cfg)
    paddle.seed(0)
    trainer = Trainer(cfg, mode="test")
    for name, param in trainer.model.named_parameters():
        if "pred_cls" in name or "pred_reg" in name:
            param.set_value(paddle.randn(param.shape) * 0.05)
    trainer.model.eval()
    return trainer


def export_block(data_dir: str, out_dir: str, block: str, *options: str):
    """Build and export the detector with `block`; return (trainer, exported folder)."""
    trainer = build_trainer(data_dir, block, *options)
    return trainer, export_model(trainer, out_dir)
