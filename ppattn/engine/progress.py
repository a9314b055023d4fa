"""A progress line at least every ~10 s, with an ETA, in training and evaluation.

ppdet logs a training step every `log_iter` steps and an evaluation step every 100: with
`log_iter: 100` a small run prints nothing until an epoch ends, and Faster R-CNN evaluating
at 0.1 FPS on a CPU prints nothing for minutes. `ProgressLogger` fills the gaps.
"""
import datetime
import time
from typing import Callable, Dict, Optional

from ppdet.engine.callbacks import Callback
from ppdet.utils.logger import setup_logger

logger = setup_logger("ppattn.progress")
INTERVAL_S = 10.0


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


def progress_line(mode: str, done: int, total: int, elapsed: float,
                  epoch: Optional[int] = None, epochs: Optional[int] = None) -> str:
    """'train epoch 2/26 step 5/12 (37%), 0.8 steps/s, ETA 0:01:10' from steps done of
    `total` (all epochs together in training) in `elapsed` seconds."""
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = _clock((total - done) / rate) if rate > 0 else "unknown"
    where = f"epoch {epoch + 1}/{epochs} " if epoch is not None else ""
    return (f"{mode} {where}step {done}/{total} ({100 * done / max(total, 1):.0f}%), "
            f"{rate:.2f} steps/s, ETA {eta}")


class ProgressLogger(Callback):
    """Log `progress_line` when `interval` seconds have passed since the last progress line
    and ppdet does not log the step itself."""

    def __init__(self, trainer, interval: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(trainer)
        self.interval, self.clock = interval, clock
        self.start: Dict[str, float] = {}   # mode -> when its steps began
        self.last = clock()

    def on_epoch_begin(self, status):
        mode = status.get("mode", "train")
        if mode == "eval" or mode not in self.start:  # training's clock runs over all epochs
            self.start[mode] = self.last = self.clock()

    def _totals(self, status):
        """(steps done, total steps, epoch, epochs, ppdet logs this step)."""
        step = status["step_id"]
        if status.get("mode") == "eval":
            loader = getattr(self.model, "_eval_loader", None) or self.model.loader
            return step + 1, len(loader), None, None, step % 100 == 0
        per_epoch, epochs = status["steps_per_epoch"], self.model.cfg.epoch
        epoch = status["epoch_id"]
        done = (epoch - self.model.start_epoch) * per_epoch + step + 1
        total = (epochs - self.model.start_epoch) * per_epoch
        return done, total, epoch, epochs, step % self.model.cfg.log_iter == 0

    def on_step_end(self, status):
        mode = status.get("mode", "train")
        if getattr(self.model, "_local_rank", 0) != 0 or mode not in self.start:
            return
        now = self.clock()
        done, total, epoch, epochs, ppdet_logs = self._totals(status)
        if ppdet_logs:
            self.last = now
        elif now - self.last >= self.interval:
            self.last = now
            logger.info(progress_line(mode, done, total, now - self.start[mode], epoch, epochs))
