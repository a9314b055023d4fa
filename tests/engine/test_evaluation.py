"""ppattn.engine.evaluation: COCO numbers by name, written after each evaluation."""
import json
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
