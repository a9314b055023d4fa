"""ppattn.engine.evaluation: COCO numbers by name, written after each evaluation."""
import json
import logging
from types import SimpleNamespace

import pytest

from ppattn.engine import MetricsRecorder, named_stats


def test_coco_stats_are_named_in_pycocotools_order():
    got = named_stats({"bbox": [0.5, 0.7] + [0.0] * 10})
    assert got["bbox"]["AP"] == 0.5 and got["bbox"]["AP50"] == 0.7
    assert list(got["bbox"])[-1] == "ARl"


def test_voc_map_is_named():
    assert named_stats({"bbox": [0.75]}) == {"bbox": {"mAP": 0.75}}


class _Metric:
    def __init__(self, value):
        self.value = value

    def get_results(self):
        return {"bbox": [self.value] * 12}


@pytest.mark.parametrize("rank, written", [(0, True), (1, False)])
def test_recorder_appends_each_evaluation_on_rank_0_only(tmp_path, rank, written):
    trainer = SimpleNamespace(_local_rank=rank, _metrics=[_Metric(0.25)])
    recorder = MetricsRecorder(trainer, str(tmp_path / "m" / "metrics.json"))
    recorder.on_epoch_end({"mode": "train", "epoch_id": 0})
    recorder.on_epoch_end({"mode": "eval", "epoch_id": 0})
    trainer._metrics = [_Metric(0.5)]
    recorder.on_epoch_end({"mode": "eval", "epoch_id": 1})
    path = tmp_path / "m" / "metrics.json"
    assert path.exists() == written
    if written:
        history = json.load(open(path))
        assert [(h["epoch"], h["bbox"]["AP"]) for h in history] == [(0, 0.25), (1, 0.5)]


def _recorder(path, *records, extra=None):
    """A recorder at `path` that has seen evaluations of (epoch, AP) pairs."""
    trainer = SimpleNamespace(_local_rank=0, _metrics=[])
    recorder = MetricsRecorder(trainer, str(path), extra=extra)
    for epoch, ap in records:
        trainer._metrics = [_Metric(ap)]
        recorder.on_epoch_end({"mode": "eval", "epoch_id": epoch})
    return recorder


def _epochs(path):
    return [(h["epoch"], h["bbox"]["AP"]) for h in json.load(open(path))]


def test_a_resumed_run_appends_to_the_history(tmp_path):
    path = tmp_path / "metrics.json"
    _recorder(path, (0, 0.1), (1, 0.2), (2, 0.3))
    _recorder(path, (3, 0.4), (4, 0.5))                  # resumed from snapshot 2
    assert _epochs(path) == [(0, 0.1), (1, 0.2), (2, 0.3), (3, 0.4), (4, 0.5)]


def test_a_run_resumed_from_an_earlier_snapshot_replaces_the_later_epochs(tmp_path):
    path = tmp_path / "metrics.json"
    _recorder(path, (0, 0.1), (1, 0.2), (2, 0.3))
    _recorder(path, (1, 0.25))                           # resumed from snapshot 0
    assert _epochs(path) == [(0, 0.1), (1, 0.25)]


def test_evaluations_without_an_epoch_are_all_kept_with_their_extra_fields(tmp_path):
    path = tmp_path / "eval_metrics.json"
    _recorder(path, (None, 0.5), extra={"weights": "a"})
    _recorder(path, (None, 0.6), extra={"weights": "b"})
    history = json.load(open(path))
    assert [(h["weights"], h["bbox"]["AP"]) for h in history] == [("a", 0.5), ("b", 0.6)]


def test_an_unreadable_history_is_an_error_not_overwritten(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text('[{"epoch": 0, "bbox"')
    with pytest.raises(ValueError, match="cannot read the metrics history .*metrics.json"):
        _recorder(path)
    assert path.read_text() == '[{"epoch": 0, "bbox"'


def test_the_bbox_message_names_the_file_in_output_eval(tmp_path):
    from ppattn.engine.evaluation import name_result_files
    logger = logging.getLogger("ppdet.metrics.metrics")
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        name_result_files(str(tmp_path))
        logger.warning("The bbox result is saved to bbox.json.")
        logger.warning("Start evaluate...")
    finally:
        logger.removeHandler(handler)
    assert seen == [f"The bbox result is saved to {tmp_path}/bbox.json", "Start evaluate..."]
