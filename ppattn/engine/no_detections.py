"""COCO evaluation of a detector that kept no box: AP 0, not a missing result.

ppdet's COCOMetric skips the evaluation when no box passed the NMS score threshold (pycocotools
cannot load an empty result file), so `get_results()` is empty, tools/eval.py prints no AP,
--eval's best-model logic warns "Evaluation results empty", and metrics.json has no numbers. A
short or failed training run hits this, and on which side of the threshold an untrained head's
scores land (the 0.01 prior against a 0.01 threshold) depends on the CPU's float rounding.

`evaluate_empty_detections(trainer)` makes each of the trainer's COCO box metrics evaluate the
empty result set instead: pycocotools scores it (0 where the annotations have boxes, -1 where an
area range has none, as for any result), prints its usual table and a warning that names the
cause, and writes an empty bbox.json so that no older file is taken for this run's.
"""
import json
import os
import sys
from typing import List

from ppdet.metrics import COCOMetric
from ppdet.utils.logger import setup_logger

logger = setup_logger("ppattn.evaluation")


def coco_stats_without_detections(anno_file: str) -> List[float]:
    """pycocotools' 12 box statistics for an empty result set on `anno_file`'s images."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    ground_truth = COCO(anno_file)
    detections = COCO()
    detections.dataset = {"images": ground_truth.dataset["images"], "annotations": [],
                          "categories": ground_truth.dataset["categories"]}
    detections.createIndex()
    evaluation = COCOeval(ground_truth, detections, "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return [float(value) for value in evaluation.stats]


def _accumulate_even_without_detections(metric: COCOMetric):
    """`metric.accumulate`, which scores an empty box result set instead of skipping it."""
    accumulate = metric.accumulate

    def accumulate_even_without_detections():
        kept_nothing = not any(metric.results.values())
        if not kept_nothing or metric.save_prediction_only:
            return accumulate()
        output = os.path.join(metric.output_eval or ".", "bbox.json")
        with open(output, "w", encoding="utf-8") as f:
            json.dump([], f)
        logger.warning("the detector kept no box on any evaluation image (no score above the "
                       "NMS score_threshold), so every AP is 0: train longer, or check that "
                       "-o weights=... names the trained model")
        metric.eval_results["bbox"] = coco_stats_without_detections(metric.anno_file)
        sys.stdout.flush()

    return accumulate_even_without_detections


def evaluate_empty_detections(trainer) -> None:
    """Make each COCO box metric of ppdet's `trainer` report AP 0 when no box was kept."""
    for metric in getattr(trainer, "_metrics", []):
        if isinstance(metric, COCOMetric) and metric.iou_type == "bbox":
            metric.accumulate = _accumulate_even_without_detections(metric)
