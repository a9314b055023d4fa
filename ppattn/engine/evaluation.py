"""Keep the numbers ppdet's evaluation prints: a callback that writes them to JSON."""
import json
import logging
import os
import re
from typing import Dict, List, Mapping, Optional

from ppdet.engine.callbacks import Callback

# the 12 numbers of pycocotools' COCOeval.summarize(), in its order
COCO_STATS = ("AP", "AP50", "AP75", "APs", "APm", "APl",
              "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
# where tools/train.py --eval keeps the history and tools/eval.py its results, side by side
TRAINING_METRICS = "metrics.json"
EVAL_METRICS = "eval_metrics.json"


class _ResultPath(logging.Filter):
    """Rewrites ppdet's 'The bbox result is saved to bbox.json.' (it names the file, not
    the folder it is in) to name `folder`/bbox.json; mask, segm and keypoint results alike."""

    _SAVED = re.compile(r"The (\w+) result is saved to (\w+\.json)\.")

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def filter(self, record: logging.LogRecord) -> bool:
        match = self._SAVED.fullmatch(str(record.msg))
        if match:
            path = os.path.join(self.folder, match.group(2))
            record.msg, record.args = f"The {match.group(1)} result is saved to {path}", ()
        return True


def name_result_files(folder: str) -> None:
    """Make ppdet's evaluation log name the real path of its result files in `folder`
    (the config's output_eval)."""
    logger = logging.getLogger("ppdet.metrics.metrics")
    for old in [f for f in logger.filters if isinstance(f, _ResultPath)]:
        logger.removeFilter(old)
    logger.addFilter(_ResultPath(folder or "."))


def named_stats(results: Dict) -> Dict[str, Dict[str, float]]:
    """{'bbox': [12 COCO stats]} -> {'bbox': {'AP': ..., 'AP50': ..., ...}}; VOC's mAP as 'mAP'."""
    named = {}
    for kind, stats in results.items():
        values = [float(v) for v in list(stats)]
        keys = COCO_STATS if len(values) == len(COCO_STATS) else ("mAP",) * (len(values) == 1)
        named[kind] = dict(zip(keys, values)) if keys else {"values": values}
    return named


def read_history(path: str) -> List[Dict]:
    """The records already in `path` ([] when there is no file); an unreadable file is an
    error, since writing over it would lose the history."""
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            history = json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the metrics history {path!r} ({error}); move it away "
                         f"or repair it, so that it is not overwritten") from error
    if not isinstance(history, list):
        raise ValueError(f"{path!r} is not a list of evaluation records; move it away")
    return history


def write_json_atomically(data, path: str) -> None:
    """Write `data` as JSON to a temporary file beside `path`, then rename it over `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(temporary, path)


class MetricsRecorder(Callback):
    """After every evaluation, append its results (with the epoch) to a JSON list at `path`.

    The list already in `path` is kept: after a resume from epoch E, the records of epochs E and
    later (from the run being replaced) give way to the new ones and the earlier ones stay.
    `extra` is added to every record (tools/eval.py records the weights evaluated). ppdet resets
    its metrics right after logging them, so this reads them at the end of the eval epoch,
    before the reset. Only rank 0 writes.
    """

    def __init__(self, trainer, path: str, extra: Optional[Mapping] = None):
        super().__init__(trainer)
        self.path = path
        self.extra = dict(extra or {})
        self.history: List[Dict] = read_history(path)

    def on_epoch_end(self, status):
        if status.get("mode") != "eval" or getattr(self.model, "_local_rank", 0) != 0:
            return
        record = {"epoch": status.get("epoch_id"), **self.extra}
        for metric in self.model._metrics:
            record.update(named_stats(metric.get_results()))
        epoch = record["epoch"]
        if epoch is not None:
            self.history = [r for r in self.history
                            if not isinstance(r.get("epoch"), int) or r["epoch"] < epoch]
        self.history.append(record)
        write_json_atomically(self.history, self.path)
