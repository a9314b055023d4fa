"""Detect with an exported model on the deployment side: the preprocessing its infer_cfg.yml
names, one runtime (Paddle Inference or ONNX Runtime), and the detections.

The preprocessing is ppdet's own, step for step (ppdet/data/transform/operators.py, which the
dygraph model's TestReader runs, and PaddleDetection's deploy/python/preprocess.py): the uint8
image is resized by cv2, then converted to float32 and normalised in float32. Resizing a float
image instead changes the input by up to 0.5 / 255 / std and the boxes by more than 1e-4.
"""
import os
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import yaml

from .runtimes import open_runtime

SUPPORTED_STEPS = ("NormalizeImage", "PadStride", "Permute", "Resize")


def read_infer_cfg(model_dir: str) -> Dict:
    """Load the infer_cfg.yml that ppdet's export writes beside the model."""
    path = os.path.join(model_dir, "infer_cfg.yml")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {path!r}; export the model with tools/export_model.py, "
                                f"which writes it")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _resize(image: np.ndarray, target_size: Sequence[int], keep_ratio: bool, interp: int):
    h, w = image.shape[:2]
    if keep_ratio:
        scale = min(min(target_size) / min(h, w), max(target_size) / max(h, w))
        scale_y = scale_x = scale
        resized_hw = (scale * h, scale * w)
    else:
        resized_hw = tuple(target_size)
        scale_y, scale_x = target_size[0] / h, target_size[1] / w
    image = cv2.resize(image, None, None, fx=scale_x, fy=scale_y, interpolation=interp)
    return image, resized_hw, (scale_y, scale_x)


def _pad(image: np.ndarray, stride: int) -> np.ndarray:
    if stride <= 0:
        return image
    c, h, w = image.shape
    padded = np.zeros((c, -(-h // stride) * stride, -(-w // stride) * stride), np.float32)
    padded[:, :h, :w] = image
    return padded


def preprocess(image: np.ndarray, steps: List[Dict]) -> Dict[str, np.ndarray]:
    """Turn one RGB uint8 [H, W, 3] image into a batch of one: image [1, 3, H', W'], im_shape
    [1, 2] and scale_factor [1, 2] (y, x), as ppdet's reader makes them."""
    im_shape, scale = image.shape[:2], (1.0, 1.0)
    for step in steps:
        kind = step["type"]
        if kind == "Resize":
            image, im_shape, scale = _resize(image, step["target_size"],
                                             step.get("keep_ratio", True),
                                             step.get("interp", cv2.INTER_LINEAR))
        elif kind == "NormalizeImage":
            image = image.astype(np.float32)
            if step.get("is_scale", True):
                image *= 1.0 / 255.0
            if step.get("norm_type", "mean_std") == "mean_std":
                image -= np.array(step["mean"])[None, None, :]
                image /= np.array(step["std"])[None, None, :]
        elif kind == "Permute":
            image = image.transpose((2, 0, 1))
        elif kind == "PadStride":
            image = _pad(image, step.get("stride", 0))
        else:
            raise ValueError(f"infer_cfg.yml: preprocessing step {kind!r} is not supported; "
                             f"supported: {', '.join(SUPPORTED_STEPS)}")
    return {"image": np.ascontiguousarray(image[None], np.float32),
            "im_shape": np.array([im_shape], np.float32),
            "scale_factor": np.array([scale], np.float32)}


def sort_detections(rows: np.ndarray) -> np.ndarray:
    """Rows of (class, score, x1, y1, x2, y2), best score first; ties broken by the other
    columns, so two runtimes whose NMS orders equal scores differently give the same array."""
    rows = np.asarray(rows).reshape(-1, 6)
    keys = [rows[:, i] for i in (5, 4, 3, 2, 0)] + [-rows[:, 1]]
    return rows[np.lexsort(keys)]


class DeployPredictor:
    """An exported detector folder (model.json, model.pdiparams, infer_cfg.yml and, for the
    ONNX runtime, model.onnx) run by `runtime` ('paddle' or 'onnx') on the CPU.

    Args:
        model_dir: the folder tools/export_model.py wrote (and tools/export_onnx.py added to).
        runtime: 'paddle' (Paddle Inference) or 'onnx' (ONNX Runtime).
        cpu_threads: intra-op threads.
        onednn: Paddle Inference's oneDNN mode, "auto" when None; see
            `ppattn.deploy.paddle_inference.create_predictor`.
    """

    def __init__(self, model_dir: str, runtime: str = "paddle", cpu_threads: int = 1,
                 onednn: Optional[str] = None):
        infer_cfg = read_infer_cfg(model_dir)
        self.preprocess_steps: List[Dict] = infer_cfg["Preprocess"]
        self.labels: List[str] = infer_cfg.get("label_list", [])
        self.draw_threshold: float = infer_cfg.get("draw_threshold", 0.5)
        self.runtime = open_runtime(model_dir, runtime, cpu_threads, onednn)

    def inputs(self, image: np.ndarray) -> Dict[str, np.ndarray]:
        """The model's inputs for one RGB uint8 image."""
        return preprocess(image, self.preprocess_steps)

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """The model's raw outputs: with NMS, boxes [K, 6] and counts [N]; exported with
        `exclude_nms=True`, boxes [N, A, 4] and scores [N, classes, A]."""
        return self.runtime.run(feeds)

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Detect in one RGB uint8 image: [K, 6] rows of (class, score, x1, y1, x2, y2) in the
        image's pixels, best first (see `sort_detections`)."""
        outputs = self.run(self.inputs(image))
        boxes = outputs[0]
        if boxes.ndim != 2 or boxes.shape[-1] != 6:
            raise ValueError(f"predict needs a model exported with NMS (outputs [K, 6] boxes), "
                             f"got an output of shape {list(boxes.shape)}; for a model exported "
                             f"with exclude_nms=True use run() and apply NMS yourself")
        return sort_detections(boxes[:int(outputs[1][0])])
