"""Keep the numbers ppdet's evaluation prints: a callback that writes them to JSON."""
import json
import os
from typing import Dict, List

from ppdet.engine.callbacks import Callback

# the 12 numbers of pycocotools' COCOeval.summarize(), in its order
COCO_STATS = ("AP", "AP50", "AP75", "APs", "APm", "APl",
              "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def named_stats(results: Dict) -> Dict[str, Dict[str, float]]:
    """{'bbox': [12 COCO stats]} -> {'bbox': {'AP': ..., 'AP50': ..., ...}}; VOC's mAP as 'mAP'."""
    named = {}
    for kind, stats in results.items():
        values = [float(v) for v in list(stats)]
        keys = COCO_STATS if len(values) == len(COCO_STATS) else ("mAP",) * (len(values) == 1)
        named[kind] = dict(zip(keys, values)) if keys else {"values": values}
    return named


class MetricsRecorder(Callback):
    """After every evaluation, append its results (with the epoch) to a JSON list at `path`.

    ppdet resets its metrics right after logging them, so this reads them at the end of the
    eval epoch, before the reset. Only rank 0 writes.
    """

    def __init__(self, trainer, path: str):
        super().__init__(trainer)
        self.path = path
        self.history: List[Dict] = []

    def on_epoch_end(self, status):
        if status.get("mode") != "eval" or getattr(self.model, "_local_rank", 0) != 0:
            return
        record = {"epoch": status.get("epoch_id")}
        for metric in self.model._metrics:
            record.update(named_stats(metric.get_results()))
        self.history.append(record)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(self.history, f, indent=1)
