"""Decide whether two runs of one detector agree: a runtime against dygraph, or ONNX Runtime
against Paddle Inference.

With NMS in the graph the outputs are detections: boxes [K, 6] (class, score, x1, y1, x2, y2)
and counts [N]. Comparing rows by index is wrong: NMS orders near-tied scores arbitrarily, and a
rounding difference of 1e-7 reorders them (a correct PP-YOLOE-s looked 792 px off that way).
So each image's detections are matched: a row matches a row of the other run with the same
class, a score within `score_atol` and every coordinate within `box_atol`. Rows left over are
excused in two cases only, both consequences of near-ties:
- a tie swap: the other run has a leftover row of the same class and a score within
  `score_atol` (NMS kept the other one of two tied, overlapping boxes);
- the cut: the row's score is within `score_atol` of the lowest score each run kept
  (keep_top_k or the score threshold cut between tied rows). When the other run kept nothing,
  its cut lay at or above this run's lowest score: an untrained head scores every anchor at its
  prior, 0.01, which is also the score threshold, and a rounding difference of 1e-9 keeps all
  of them in one run and none in the other.
Any other leftover row is a mismatch, and one mismatch fails the comparison.

Without NMS (exported with `exclude_nms=True`) the outputs are dense boxes and scores and are
compared elementwise.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .predictor import preprocess, read_infer_cfg, sort_detections
from .runtimes import open_runtime

SCORE_ATOL = 1e-4
BOX_RTOL = 1e-4      # of the largest coordinate, and never below MIN_BOX_ATOL pixels
MIN_BOX_ATOL = 1e-2


@dataclass
class Comparison:
    """The outcome of `compare_outputs`.

    differences: 'scores' and 'boxes', the largest |difference| over matched rows (or all
    elements of raw outputs); for NMS outputs also 'matched' (pairs of rows), 'mismatched'
    (rows without a match) and 'excused' (tie swaps and rows at the cut).
    tolerance: the 'scores' and 'boxes' tolerances used.
    """

    passed: bool
    differences: Dict[str, float]
    tolerance: Dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: PASS or FAIL, the differences and the tolerances."""
        verdict = "PASS" if self.passed else "FAIL"
        found = ", ".join(f"{k} {_fmt(v)}" for k, v in self.differences.items())
        allowed = ", ".join(f"{k} {_fmt(v)}" for k, v in self.tolerance.items())
        return f"{verdict}: {found} (tolerance: {allowed})"


def _fmt(value: float) -> str:
    return f"{value:d}" if isinstance(value, int) else f"{value:.3g}"


def has_nms(outputs: Sequence[np.ndarray]) -> bool:
    """Whether outputs are NMS detections ([K, 6] boxes and [N] counts) rather than raw."""
    return len(outputs) == 2 and outputs[0].ndim == 2 and outputs[0].shape[-1] == 6


def _per_image(outputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    boxes, counts = outputs[0], outputs[1].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    return [sort_detections(boxes[s:e]) for s, e in zip(starts[:-1], starts[1:])]


def match_detections(a: np.ndarray, b: np.ndarray, score_atol: float,
                     box_atol: float) -> Tuple[List[Tuple[int, int]], List[int], List[int]]:
    """Pair rows of `a` and `b` ([K, 6] each) that agree within the tolerances.

    Returns (pairs of row indices, leftover rows of a, leftover rows of b). Each row of `a`, best
    score first, takes the agreeing row of `b` with the closest box.
    """
    pairs, taken = [], np.zeros(len(b), bool)
    for i, row in enumerate(a):
        close = ((b[:, 0] == row[0]) & (np.abs(b[:, 1] - row[1]) <= score_atol)
                 & (np.abs(b[:, 2:] - row[2:]).max(axis=1, initial=0) <= box_atol) & ~taken)
        if close.any():
            candidates = np.flatnonzero(close)
            j = candidates[np.abs(b[candidates, 2:] - row[2:]).max(axis=1).argmin()]
            taken[j] = True
            pairs.append((i, int(j)))
    matched_a = {i for i, _ in pairs}
    return pairs, [i for i in range(len(a)) if i not in matched_a], list(np.flatnonzero(~taken))


def _unexcused(rows: np.ndarray, left: List[int], other: np.ndarray, other_left: List[int],
               score_atol: float) -> int:
    """How many leftover rows are neither a tie swap nor at the cut (see the module docstring)."""
    lowest = rows[:, 1].min() if len(rows) else 0.0
    other_lowest = other[:, 1].min() if len(other) else lowest
    count = 0
    for i in left:
        score = rows[i, 1]
        swapped = any(other[j, 0] == rows[i, 0] and abs(other[j, 1] - score) <= score_atol
                      for j in other_left)
        at_cut = score - lowest <= score_atol and abs(score - other_lowest) <= score_atol
        count += not (swapped or at_cut)
    return count


def _box_atol(reference: np.ndarray) -> float:
    largest = float(np.abs(reference).max()) if reference.size else 0.0
    return max(MIN_BOX_ATOL, BOX_RTOL * largest)


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0


def compare_outputs(reference: Sequence[np.ndarray], other: Sequence[np.ndarray],
                    score_atol: float = SCORE_ATOL) -> Comparison:
    """Whether `other` gives `reference`'s detections (or raw boxes and scores); see the module
    docstring for the rules."""
    if has_nms(reference) != has_nms(other):
        raise ValueError("one run has NMS outputs and the other raw outputs; compare two runs "
                         "of the same exported model")
    box_atol = _box_atol(reference[0][..., -4:])
    tolerance = {"scores": score_atol, "boxes": box_atol}
    if not has_nms(reference):
        diffs = {"scores": _max_abs(reference[1], other[1]),
                 "boxes": _max_abs(reference[0], other[0])}
        passed = diffs["scores"] <= score_atol and diffs["boxes"] <= box_atol
        return Comparison(passed, diffs, tolerance)
    diffs = {"scores": 0.0, "boxes": 0.0, "matched": 0, "mismatched": 0, "excused": 0}
    images_a, images_b = _per_image(reference), _per_image(other)
    if len(images_a) != len(images_b):
        raise ValueError(f"the runs have {len(images_a)} and {len(images_b)} images")
    for a, b in zip(images_a, images_b):
        pairs, left_a, left_b = match_detections(a, b, score_atol, box_atol)
        diffs["matched"] += len(pairs)
        for i, j in pairs:
            diffs["scores"] = max(diffs["scores"], _max_abs(a[i, 1:2], b[j, 1:2]))
            diffs["boxes"] = max(diffs["boxes"], _max_abs(a[i, 2:], b[j, 2:]))
        bad = (_unexcused(a, left_a, b, left_b, score_atol)
               + _unexcused(b, left_b, a, left_a, score_atol))
        diffs["mismatched"] += bad
        diffs["excused"] += len(left_a) + len(left_b) - bad
    return Comparison(diffs["mismatched"] == 0, diffs, tolerance)


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


def compare_runtimes(model_dir: str, feeds: Dict[str, np.ndarray]) -> Comparison:
    """Run `feeds` through Paddle Inference (model.json) and ONNX Runtime (model.onnx) in
    `model_dir`, and compare ONNX Runtime's outputs with Paddle Inference's.

    Paddle runs with oneDNN off: its plain kernels round as ONNX Runtime's do, so the check
    sees the conversion alone.
    """
    paddle_outputs = open_runtime(model_dir, "paddle", onednn="off").run(feeds)
    onnx_outputs = open_runtime(model_dir, "onnx").run(feeds)
    return compare_outputs(paddle_outputs, onnx_outputs)
