"""Run an ablation study: every variant with every seed trained with tools/train.py (`plan.jobs`
runs at once), evaluated as it trains, exported and counted; then the latency of all exported
models in one session; then the report (study.md, study.csv, study.json) and the picture
(study.png).

Nothing is lost when a study stops: each run keeps its state in its folder
(`ppattn.study.runs`), so the same command skips the finished runs, resumes a run cut short
from its last snapshot, and retries a failed one. A run that fails is recorded with its error
and the study goes on with the others.
"""
import collections
import contextlib
import datetime
import os
import signal
import time
from typing import Dict, Optional, Sequence

from ..benchmark.runner import machine_info
from ..engine.evaluation import write_json_atomically
from .latency import cached_latency, interleaved_latency_ms
from .lock import study_lock
from .measure import export_and_count
from .output import StatusLine, output_to
from .plan import StudyPlan, plan_runs, run_header
from .plot import plot_study
from .progress import StudyClock, TrainingProgress, minutes
from .report import write_reports
from .runs import DONE, FAILED, RUNNING, Run
from .summary import summarize
from .training import Training, TrainingError, stale_trainings, train_command

LATENCY_FILE = "latency.json"
LAUNCH_LOGS = "launch_log"
STALE_GRACE_S = 15
POLL_S = 1.0


class _Job:
    """A run under way: trained in a child process (`training`, None when its training had
    finished before), then exported and counted in the study's process."""

    def __init__(self, index: int, run: Run, where: str, resume: Optional[str]):
        self.index, self.run, self.where, self.resume = index, run, where, resume
        self.started = time.monotonic()
        self.training: Optional[Training] = None
        self.progress: Optional[TrainingProgress] = None
        self.exporting = False

    def stage(self) -> str:
        if self.exporting:
            return "exporting"
        if self.progress is None or self.progress.epoch is None:
            return "resuming" if self.resume else "starting"
        return f"epoch {self.progress.epoch}/{self.run.epochs}"

    def remaining_s(self) -> Optional[float]:
        """The training's remaining seconds, None when unknown (or training is over)."""
        if self.exporting or self.progress is None:
            return None
        return self.progress.remaining_s()


class Study:
    """Runs a StudyPlan, `plan.jobs` runs at a time, showing progress on `status` (default: a
    StatusLine on the terminal). Building it checks every variant's config."""

    def __init__(self, plan: StudyPlan, status: Optional[StatusLine] = None):
        self.plan = plan
        self.status = status or StatusLine()
        self.runs = plan_runs(plan)
        self.variants = {variant.name: variant for variant in plan.variants}

    def run(self) -> Dict[str, str]:
        """Run every run not finished yet, measure latency, write the reports; return the
        paths written, by extension."""
        with study_lock(self.plan.output_dir):
            states: Dict[int, Dict] = {}
            for index, run in enumerate(self.runs):
                if run.is_done():
                    states[index] = run.state()
                    self.status.print(f"{self._where(index, run)}: finished before, skipped "
                                      f"(AP50 {states[index]['AP50']:.3f})")
            todo = [index for index in range(len(self.runs)) if index not in states]
            self._execute(todo, StudyClock(len(todo), self.plan.jobs), states)
            ordered = [states[index] for index in range(len(self.runs))]
            latency = self._latency(ordered)
            self.status.close()
            return self._report(ordered, latency)

    def _where(self, index: int, run: Run) -> str:
        return f"variant {index + 1}/{len(self.runs)} ({run.label})"

    def _execute(self, todo: Sequence[int], clock: StudyClock, states: Dict[int, Dict]) -> None:
        """Train the runs `todo` (indices), up to `plan.jobs` at once, each exported and
        counted as its training ends; put their states in `states`. A failed run is saved,
        not raised; an interruption stops every training under way."""
        waiting, underway = collections.deque(todo), []
        try:
            while waiting or underway:
                while waiting and len(underway) < self.plan.jobs:
                    underway.append(self._start(waiting.popleft()))
                for job in [job for job in underway if self._training_over(job)]:
                    job.exporting = True
                    self._show(underway, clock)
                    states[job.index] = self._finish(job, clock)
                    underway.remove(job)
                if underway:
                    self._show(underway, clock)
                    time.sleep(POLL_S)
        except BaseException:
            for job in underway:
                if job.training is not None:
                    job.training.stop()
            raise

    def _start(self, index: int) -> _Job:
        """Prepare a run's folder and start its training (from its last snapshot if it has
        one), unless training finished already."""
        run = self.runs[index]
        where = self._where(index, run)
        removed = run.prepare(run_header(self.plan, self.variants[run.variant], run))
        if removed:
            self.status.print(f"{where}: the config changed (hash {removed} -> {run.hash}); "
                              f"its old files were removed and it starts again")
        self._stop_stale(run)
        run.save_state(RUNNING)
        if run.final_metrics() is not None:
            return _Job(index, run, where, resume=None)
        resume = run.resume_point()
        job = _Job(index, run, where, resume)
        job.progress = TrainingProgress(self._progress_log(run), run.epochs)
        job.training = Training(
            train_command(os.path.abspath(run.config_path), run.seed,
                          os.path.abspath(run.folder), self.plan.nproc,
                          resume=os.path.abspath(resume) if resume else None,
                          log_dir=os.path.abspath(os.path.join(run.folder, LAUNCH_LOGS))),
            run.log_path)
        return job

    @staticmethod
    def _training_over(job: _Job) -> bool:
        """Whether the job's training has ended, well or not."""
        if job.training is None:
            return True
        job.progress.update()
        return job.training.ended()

    def _finish(self, job: _Job, clock: StudyClock) -> Dict:
        """Export and count a trained run and save its state; a failure is saved, not raised."""
        run = job.run
        try:
            if job.training is not None:
                job.training.check()
            if run.final_metrics() is None:
                raise TrainingError(f"training ended without evaluating its last epoch "
                                    f"({run.epochs - 1}) and saving model_final (log: "
                                    f"{run.log_path})")
            with output_to(os.path.join(run.folder, "export.log")):
                measured = export_and_count(run.config_path, run.cfg["weights"], run.export_dir)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # one failed run is reported; the study goes on
            clock.finished(time.monotonic() - job.started)
            state = run.save_state(FAILED, error=f"{type(error).__name__}: {error}")
            self.status.print(f"{job.where}: FAILED: {state['error'].splitlines()[0]}")
            return state
        seconds = time.monotonic() - job.started
        clock.finished(seconds)
        final = run.final_metrics()["bbox"]
        self.status.print(f"{job.where}: AP50 {final['AP50']:.3f}, AP {final['AP']:.3f} in "
                          f"{seconds:.0f} s" + (f" (resumed from {job.resume})" if job.resume
                                                else ""))
        return run.save_state(DONE, AP=final["AP"], AP50=final["AP50"], seconds=seconds,
                              resumed_from=job.resume, **measured)

    def _show(self, underway: Sequence[_Job], clock: StudyClock) -> None:
        """'variant 3/14 (eca, seed 1): epoch 12/26[; variant 4/14 ...], ETA 4 min'."""
        now = time.monotonic()
        eta = clock.eta([(now - job.started, job.remaining_s()) for job in underway])
        self.status.show("; ".join(f"{job.where}: {job.stage()}" for job in underway)
                         + f", ETA {minutes(eta)}")

    def _stop_stale(self, run: Run) -> None:
        """End trainings of this run left running by a killed study (its own, found by the
        run's config path on their command lines)."""
        for pid in stale_trainings(run.config_path):
            self.status.print(f"{run.label}: stopping a training left over from a killed "
                              f"study (pid {pid})")
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STALE_GRACE_S
        while stale_trainings(run.config_path) and time.monotonic() < deadline:
            time.sleep(0.5)

    def _progress_log(self, run: Run) -> str:
        """The log that shows the training's steps first: rank 0's own log with several
        processes (paddle's launcher copies it to its output only now and then)."""
        if self.plan.nproc > 1:
            return os.path.join(run.folder, LAUNCH_LOGS, "workerlog.0")
        return run.log_path

    def _latency(self, states: Sequence[Dict]) -> Dict:
        """{'ms': {'variant/seed': median ms}, 'machine': ...} for every finished run, timed
        together (or reused from latency.json when it timed exactly these runs)."""
        done = {f"{s['variant']}/{s['seed']}": s for s in states if s["status"] == DONE}
        if not done:
            return {"ms": {}, "machine": {}}
        path = os.path.join(self.plan.output_dir, LATENCY_FILE)
        hashes = {key: state["hash"] for key, state in done.items()}
        cached = cached_latency(path, hashes, self.plan.latency_repeats)
        if cached is not None:
            return cached
        self.status.show(f"latency: {len(done)} exported model(s), taking turns")
        with output_to(os.path.join(self.plan.output_dir, "latency.log")):
            ms = interleaved_latency_ms(
                {key: state["export"] for key, state in done.items()},
                self.plan.latency_repeats, cpu_threads=self.plan.cpu_threads,
                on_round=lambda r, n: self.status.show(f"latency: round {r}/{n} over "
                                                       f"{len(done)} model(s)"))
        measured = {"hashes": hashes, "repeats": self.plan.latency_repeats, "ms": ms,
                    "machine": machine_info(self.plan.cpu_threads)}
        write_json_atomically(measured, path)
        return measured

    def _report(self, states: Sequence[Dict], latency: Dict) -> Dict[str, str]:
        records = [{**s, "latency_ms": latency["ms"].get(f"{s['variant']}/{s['seed']}")}
                   for s in states]
        rows = summarize(list(self.variants), records)
        meta = {"config": self.plan.config, "seeds": list(self.plan.seeds),
                "nproc": self.plan.nproc, "jobs": self.plan.jobs, "epochs": self.runs[0].epochs,
                "latency_repeats": self.plan.latency_repeats,
                "cpu_threads": self.plan.cpu_threads, "machine": latency["machine"],
                "variants": {name: v.keys for name, v in self.variants.items()},
                "finished": datetime.datetime.now().isoformat(timespec="seconds")}
        paths = write_reports(rows, records, meta, self.plan.output_dir)
        try:
            paths["png"] = plot_study(rows, os.path.join(self.plan.output_dir, "study.png"),
                                      f"{os.path.basename(self.plan.config)}: AP50 against "
                                      f"latency, {len(self.plan.seeds)} seed(s)")
        except ValueError as error:  # every variant failed: the tables say why
            self.status.print(f"no study.png: {error}")
        return paths
