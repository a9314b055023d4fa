"""ppattn.engine.progress: a progress line with an ETA at least every 10 s, whatever log_iter."""
import logging
from types import SimpleNamespace

from ppattn.engine import progress
from ppattn.engine.progress import ProgressLogger, progress_line


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _logged(run):
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    progress.logger.addHandler(handler)
    try:
        run()
    finally:
        progress.logger.removeHandler(handler)
    return lines


def test_progress_line_gives_rate_and_eta():
    assert progress_line("train", 30, 120, 60.0, epoch=2, epochs=8) == \
        "train epoch 3/8 step 30/120 (25%), 0.50 steps/s, ETA 0:03:00"
    assert progress_line("eval", 1, 50, 10.0) == "eval step 1/50 (2%), 0.10 steps/s, ETA 0:08:10"


def test_training_with_a_large_log_iter_still_reports_every_10_s():
    clock = _Clock()
    trainer = SimpleNamespace(cfg=SimpleNamespace(epoch=2, log_iter=100), start_epoch=0)
    callback = ProgressLogger(trainer, clock=clock)

    def run():
        for epoch in range(2):
            callback.on_epoch_begin({"mode": "train", "epoch_id": epoch})
            for step in range(10):
                clock.now += 4.0    # a step every 4 s: a line every third step
                callback.on_step_end({"mode": "train", "epoch_id": epoch, "step_id": step,
                                      "steps_per_epoch": 10})
    lines = _logged(run)
    assert len(lines) == 6   # 80 s; ppdet logs step 0 of each epoch itself
    assert lines[0] == "train epoch 1/2 step 4/20 (20%), 0.25 steps/s, ETA 0:01:04"


def test_a_slow_evaluation_reports_every_10_s():
    clock = _Clock()
    trainer = SimpleNamespace(loader=[None] * 5, cfg=SimpleNamespace())
    callback = ProgressLogger(trainer, clock=clock)

    def run():
        callback.on_epoch_begin({"mode": "eval"})
        for step in range(5):
            clock.now += 10.0   # 0.1 FPS
            callback.on_step_end({"mode": "eval", "step_id": step})
    assert _logged(run) == ["eval step 2/5 (40%), 0.10 steps/s, ETA 0:00:30",
                            "eval step 3/5 (60%), 0.10 steps/s, ETA 0:00:20",
                            "eval step 4/5 (80%), 0.10 steps/s, ETA 0:00:10",
                            "eval step 5/5 (100%), 0.10 steps/s, ETA 0:00:00"]
