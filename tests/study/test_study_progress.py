"""ppattn.study.progress: training progress from log lines, and the study's ETA."""
import pytest

from ppattn.study.progress import StudyClock, TrainingProgress, minutes, training_position

PPDET = ("[12/01 15:54:46] ppdet.engine INFO: Epoch: [1] [ 4/12] learning_rate: 0.004920 "
         "loss: 3.158126 eta: 0:01:03")
PPATTN = "[12/01] ppattn.progress INFO: train epoch 3/8 step 30/96 (31%), 0.8 steps/s, ETA 0:01"


def test_positions_from_ppdet_and_ppattn_lines():
    assert training_position(PPDET, 12) == (1, 5)
    assert training_position(PPATTN, 12) == (2, 6)   # step 30 since the start: 2 x 12 + 6
    assert training_position("Eval iter: 0", 12) is None


def test_progress_follows_a_growing_log(tmp_path):
    log = tmp_path / "train.log"
    progress = TrainingProgress(str(log), epochs=8)
    progress.update()
    assert progress.epoch is None and progress.fraction == 0.0
    log.write_text(PPDET + "\n" + PPDET.replace("[1] [ 4/12]", "[3] [ 0/12]")[:60])
    progress.update()
    assert progress.epoch == 2                      # the half-written line waits
    assert progress.fraction == (12 + 5) / 96
    with open(log, "a") as f:
        f.write(PPDET.replace("[1] [ 4/12]", "[3] [ 0/12]")[60:] + "\n")
    progress.update()
    assert progress.epoch == 4


def test_minutes():
    assert [minutes(s) for s in (None, 0.2, 59, 61, 3600, 3725)] == \
        ["unknown", "1 s", "59 s", "2 min", "1 h 0 min", "1 h 3 min"]


def test_remaining_time_follows_the_pace_since_the_first_step(tmp_path):
    now = [100.0]
    log = tmp_path / "train.log"
    progress = TrainingProgress(str(log), epochs=2, clock=lambda: now[0])
    log.write_text(PPDET.replace("[1] [ 4/12]", "[0] [ 2/12]") + "\n")   # 3 of 24 steps
    progress.update()
    assert progress.remaining_s() is None            # no pace yet
    now[0] = 130.0
    log.write_text(log.read_text() + PPDET.replace("[1] [ 4/12]", "[0] [ 8/12]") + "\n")
    progress.update()                                # 6 steps in 30 s, 15 to go
    assert progress.remaining_s() == pytest.approx(75.0)


def test_clock_projects_the_first_run_then_uses_finished_ones():
    clock = StudyClock(runs_to_do=3)
    assert clock.eta([(10.0, None)]) is None
    assert clock.eta([(30.0, 30.0)]) == 30.0 + 2 * 60.0
    clock.finished(80.0)
    assert clock.eta([(20.0, 50.0)]) == 50.0 + 80.0
    assert clock.eta([(20.0, None)]) == 60.0 + 80.0
    assert clock.eta([]) == 2 * 80.0                 # between runs


def test_clock_gives_waiting_runs_to_the_job_that_frees_first():
    clock = StudyClock(runs_to_do=5, jobs=2)
    # two under way, 100 s projected each; three waiting: 40+100+100 on one job, 60+100 on
    # the other
    assert clock.eta([(60.0, 40.0), (40.0, 60.0)]) == 240.0
    clock.finished(100.0)
    clock.finished(100.0)
    assert clock.eta([(0.0, None)]) == 200.0         # 100 + 100 s on one job, 100 s on the other
