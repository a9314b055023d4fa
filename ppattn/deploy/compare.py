"""Check that the ONNX model gives what Paddle Inference gives on the same inputs.

With NMS in the graph the outputs are detections: boxes [K, 6] (class, score, x1, y1, x2, y2)
and counts [N]. NMS orders equal scores arbitrarily, so each image's rows are sorted (see
`sort_detections`) before boxes, scores and labels are compared. Without NMS (exported with
`exclude_nms=True`) the outputs are dense boxes and scores and are compared as they are.
"""
from typing import Dict, List, Sequence

import numpy as np

from .predictor import preprocess, read_infer_cfg, sort_detections
from .runtimes import open_runtime


def _per_image(outputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    boxes, counts = outputs[0], outputs[1].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    return [sort_detections(boxes[s:e]) for s, e in zip(starts[:-1], starts[1:])]


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0


def has_nms(outputs: Sequence[np.ndarray]) -> bool:
    """Whether outputs are NMS detections ([K, 6] boxes and [N] counts) rather than raw."""
    return len(outputs) == 2 and outputs[0].ndim == 2 and outputs[0].shape[-1] == 6


def output_differences(reference: Sequence[np.ndarray],
                       other: Sequence[np.ndarray]) -> Dict[str, float]:
    """The largest differences between two runtimes' outputs of one model.

    NMS outputs give `boxes` and `scores` (max |diff|), `labels` (rows whose class differs)
    and `count` (|difference in the number of detections|; when non-zero the rows are compared
    only up to the shorter list). Raw outputs give `boxes` and `scores` as max |diff|.
    """
    if not has_nms(reference):
        return {"boxes": _max_abs(reference[0], other[0]),
                "scores": _max_abs(reference[1], other[1])}
    result = {"boxes": 0.0, "scores": 0.0, "labels": 0, "count": 0}
    for a, b in zip(_per_image(reference), _per_image(other)):
        n = min(len(a), len(b))
        result["count"] = max(result["count"], abs(len(a) - len(b)))
        result["labels"] += int((a[:n, 0] != b[:n, 0]).sum())
        result["scores"] = max(result["scores"], _max_abs(a[:n, 1], b[:n, 1]))
        result["boxes"] = max(result["boxes"], _max_abs(a[:n, 2:], b[:n, 2:]))
    return result


def sample_inputs(model_dir: str, batch: int = 1, seed: int = 0) -> Dict[str, np.ndarray]:
    """Inputs for `batch` random uint8 images of 1.5 x the model's input size, preprocessed as
    the model's infer_cfg.yml says (so resize and scale_factor are exercised)."""
    steps = read_infer_cfg(model_dir)["Preprocess"]
    size = next((s["target_size"] for s in steps if s["type"] == "Resize"), [320, 320])
    rng = np.random.default_rng(seed)
    images = [rng.integers(0, 256, (size[0] * 3 // 2, size[1] * 3 // 2, 3), dtype=np.uint8)
              for _ in range(batch)]
    feeds = [preprocess(image, steps) for image in images]
    return {name: np.concatenate([f[name] for f in feeds]) for name in feeds[0]}


def compare_runtimes(model_dir: str, feeds: Dict[str, np.ndarray]) -> Dict[str, float]:
    """Run `feeds` through Paddle Inference (model.json) and ONNX Runtime (model.onnx) in
    `model_dir`; return `output_differences` with Paddle Inference as the reference.

    Paddle runs with oneDNN off: its plain kernels round as ONNX Runtime's do, so the check
    sees the conversion alone. oneDNN's fusions move scores by ~1e-7, enough to reorder
    near-tied detections (the random-weight test detectors have many).
    """
    paddle_outputs = open_runtime(model_dir, "paddle", onednn="off").run(feeds)
    onnx_outputs = open_runtime(model_dir, "onnx").run(feeds)
    return output_differences(paddle_outputs, onnx_outputs)
