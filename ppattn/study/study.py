"""Run an ablation study: every variant with every seed trained with tools/train.py, evaluated
as it trains, exported and counted; then the latency of all exported models in one session;
then the report (study.md, study.csv, study.json) and the picture (study.png).

Nothing is lost when a study stops: each run keeps its state in its folder
(`ppattn.study.runs`), so the same command skips the finished runs, resumes a run cut short
from its last snapshot, and retries a failed one. A run that fails is recorded with its error
and the study goes on with the others.
"""
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
from .training import TrainingError, run_training, stale_trainings, train_command

LATENCY_FILE = "latency.json"
LAUNCH_LOGS = "launch_log"
STALE_GRACE_S = 15


class Study:
    """Runs a StudyPlan, showing progress on `status` (default: a StatusLine on the terminal).
    Building it checks every variant's config."""

    def __init__(self, plan: StudyPlan, status: Optional[StatusLine] = None):
        self.plan = plan
        self.status = status or StatusLine()
        self.runs = plan_runs(plan)
        self.variants = {variant.name: variant for variant in plan.variants}

    def run(self) -> Dict[str, str]:
        """Run every run not finished yet, measure latency, write the reports; return the
        paths written, by extension."""
        with study_lock(self.plan.output_dir):
            todo = [run for run in self.runs if not run.is_done()]
            clock = StudyClock(len(todo))
            states = []
            for index, run in enumerate(self.runs):
                if run in todo:
                    states.append(self._execute(index, run, clock))
                else:
                    states.append(run.state())
                    self.status.print(f"{self._where(index, run)}: finished before, skipped "
                                      f"(AP50 {states[-1]['AP50']:.3f})")
            latency = self._latency(states)
            self.status.close()
            return self._report(states, latency)

    def _where(self, index: int, run: Run) -> str:
        return f"variant {index + 1}/{len(self.runs)} ({run.label})"

    def _execute(self, index: int, run: Run, clock: StudyClock) -> Dict:
        """Train (or resume), export and count one run; a failure is saved, not raised."""
        where = self._where(index, run)
        removed = run.prepare(run_header(self.plan, self.variants[run.variant], run))
        if removed:
            self.status.print(f"{where}: the config changed (hash {removed} -> {run.hash}); "
                              f"its old files were removed and it starts again")
        self._stop_stale(run)
        run.save_state(RUNNING)
        started = time.monotonic()
        try:
            resumed = self._train(where, run, clock, started)
            self.status.show(f"{where}: exporting, ETA "
                             f"{minutes(clock.eta(time.monotonic() - started, None))}")
            with output_to(os.path.join(run.folder, "export.log")):
                measured = export_and_count(run.config_path, run.cfg["weights"], run.export_dir)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # one failed run is reported; the study goes on
            clock.finished(time.monotonic() - started)
            state = run.save_state(FAILED, error=f"{type(error).__name__}: {error}")
            self.status.print(f"{where}: FAILED: {state['error'].splitlines()[0]}")
            return state
        seconds = time.monotonic() - started
        clock.finished(seconds)
        final = run.final_metrics()["bbox"]
        self.status.print(f"{where}: AP50 {final['AP50']:.3f}, AP {final['AP']:.3f} in "
                          f"{seconds:.0f} s" + (f" (resumed from {resumed})" if resumed
                                                else ""))
        return run.save_state(DONE, AP=final["AP"], AP50=final["AP50"], seconds=seconds,
                              resumed_from=resumed, **measured)

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

    def _train(self, where: str, run: Run, clock: StudyClock, started: float) -> Optional[str]:
        """Train the run, from its last snapshot if it has one, unless training finished
        already; return the snapshot resumed from."""
        if run.final_metrics() is not None:
            return None
        resume = run.resume_point()
        progress = TrainingProgress(self._progress_log(run), run.epochs)

        def poll():
            progress.update()
            epoch = (f"epoch {progress.epoch}/{run.epochs}" if progress.epoch else
                     ("resuming" if resume else "starting"))
            eta = clock.eta(time.monotonic() - started, progress.remaining_s())
            self.status.show(f"{where}: {epoch}, ETA {minutes(eta)}")
        command = train_command(os.path.abspath(run.config_path), run.seed,
                                os.path.abspath(run.folder), self.plan.nproc,
                                resume=os.path.abspath(resume) if resume else None,
                                log_dir=os.path.abspath(os.path.join(run.folder, LAUNCH_LOGS)))
        run_training(command, run.log_path, poll)
        if run.final_metrics() is None:
            raise TrainingError(f"training ended without evaluating its last epoch "
                                f"({run.epochs - 1}) and saving model_final (log: "
                                f"{run.log_path})")
        return resume

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
                "nproc": self.plan.nproc, "epochs": self.runs[0].epochs,
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
