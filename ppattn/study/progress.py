"""How far a study is, for its status line "variant 3/14 (eca, seed 1): epoch 12/26, ETA 4 min".

The training runs in another process and writes its log to a file; `LogFollower` reads the lines
added since it last looked and `training_position` finds how far training is from ppdet's step
lines (`Epoch: [11] [ 4/12] ...`, epochs counted from 0) and ppattn's progress lines
(`train epoch 12/26 step 5/12 ...`). `StudyClock` turns that into the study's ETA.
"""
import math
import os
import re
import statistics
import time
from typing import Callable, Optional, Sequence, Tuple

_PPDET_STEP = re.compile(r"Epoch: \[(\d+)\] \[\s*(\d+)/(\d+)\]")
_PPATTN_STEP = re.compile(r"train epoch (\d+)/\d+ step (\d+)/\d+")

Position = Tuple[int, int]   # (epochs finished, steps into the current epoch)


def training_position(line: str, steps_per_epoch: int) -> Optional[Position]:
    """(epoch index from 0, steps finished in that epoch) from one training log line, or None.

    Both kinds of line are written when a step ends: ppdet's names the step's index in its
    epoch, ppattn's counts the steps since training (re)started, over all epochs.
    """
    match = _PPDET_STEP.search(line)
    if match:
        return int(match.group(1)), int(match.group(2)) + 1
    match = _PPATTN_STEP.search(line)
    if match and steps_per_epoch:
        done = int(match.group(2))
        return int(match.group(1)) - 1, (done - 1) % steps_per_epoch + 1
    return None


def steps_per_epoch_in(line: str) -> Optional[int]:
    """The steps of one epoch, from a ppdet step line (`[ 4/12]`), or None."""
    match = _PPDET_STEP.search(line)
    return int(match.group(3)) if match else None


class LogFollower:
    """Reads the complete lines appended to a file since the last `new_lines` call; a file
    that shrank (written again from the start) is read from its start."""

    def __init__(self, path: str):
        self.path, self.offset, self.partial = path, 0, ""

    def new_lines(self):
        if not os.path.isfile(self.path):
            return []
        if os.path.getsize(self.path) < self.offset:
            self.offset, self.partial = 0, ""
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        return lines


class TrainingProgress:
    """How far one training is, from its log: `epoch` (1-based, the one under way), `fraction`
    of all its steps, and `remaining_s`, from the pace since the first step seen (start-up
    and data loading before it do not count)."""

    def __init__(self, log_path: str, epochs: int, clock: Callable[[], float] = time.monotonic):
        self.follower = LogFollower(log_path)
        self.epochs, self.clock = epochs, clock
        self.steps_per_epoch = 0
        self.position: Optional[Position] = None
        self.first: Optional[Tuple[float, float]] = None   # (time, fraction) of the first step

    def update(self) -> None:
        for line in self.follower.new_lines():
            self.steps_per_epoch = steps_per_epoch_in(line) or self.steps_per_epoch
            position = training_position(line, self.steps_per_epoch)
            if position is not None:
                self.position = position
        if self.first is None and self.position is not None:
            self.first = (self.clock(), self.fraction)

    @property
    def epoch(self) -> Optional[int]:
        return None if self.position is None else self.position[0] + 1

    @property
    def fraction(self) -> float:
        if self.position is None or not self.steps_per_epoch:
            return 0.0
        epoch, step = self.position
        return min(1.0, (epoch * self.steps_per_epoch + step) / (self.epochs *
                                                                 self.steps_per_epoch))

    def remaining_s(self) -> Optional[float]:
        """Seconds until the last step at the pace so far, or None before the pace is known."""
        if self.first is None:
            return None
        since, start = self.clock() - self.first[0], self.first[1]
        done = self.fraction - start
        return (1.0 - self.fraction) * since / done if done > 0 and since > 0 else None


def minutes(seconds: Optional[float]) -> str:
    """'45 s', '4 min', '1 h 5 min' (rounded up), or 'unknown' for None."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 60:
        return f"{max(0, int(math.ceil(seconds)))} s"
    total = int(math.ceil(seconds / 60))
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60} min"


class StudyClock:
    """The study's ETA with up to `jobs` runs at once. Each run under way has its own remaining
    time; each run not started takes the mean wall time of the runs finished in this session
    (before one ends, the mean projected total of those under way) on whichever job frees
    first. `runs_to_do`: the runs unfinished when the study began."""

    def __init__(self, runs_to_do: int, jobs: int = 1):
        self.left, self.jobs, self.durations = runs_to_do, jobs, []

    def eta(self, running: Sequence[Tuple[float, Optional[float]]]) -> Optional[float]:
        """Seconds to the study's end, given (elapsed, remaining) seconds of each run under
        way, remaining None where unknown; None when nothing is known yet."""
        if self.durations:
            typical = statistics.fmean(self.durations)
        else:
            projected = [elapsed + remaining for elapsed, remaining in running
                         if remaining is not None]
            if not projected:
                return None
            typical = statistics.fmean(projected)
        jobs = [remaining if remaining is not None else max(0.0, typical - elapsed)
                for elapsed, remaining in running]
        jobs += [0.0] * max(0, self.jobs - len(jobs))
        for _ in range(max(0, self.left - len(running))):
            jobs[jobs.index(min(jobs))] += typical
        return max(jobs)

    def finished(self, seconds: float) -> None:
        self.durations.append(seconds)
        self.left -= 1
