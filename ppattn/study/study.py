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
import json
import os
import signal
import statistics
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

from ..benchmark.runner import machine_info
from ..engine import load_config
from ..engine.checks import check_config
from ..engine.evaluation import write_json_atomically
from .config_files import read_merged, write_config
from .latency import interleaved_latency_ms
from .lock import study_lock
from .measure import export_and_count
from .plot import plot_study
from .progress import StatusLine, TrainingProgress, minutes
from .report import write_reports
from .runs import DONE, FAILED, RUNNING, Run
from .summary import summarize
from .training import TrainingError, run_training, stale_trainings, train_command
from .variants import Variant, apply_variant

LATENCY_FILE = "latency.json"


class StudyPlan(NamedTuple):
    """What a study runs: `variants` (the first is the baseline) of the base `config`, each
    trained once per seed in `nproc` processes, into `output_dir`."""
    config: str
    variants: Sequence[Variant]
    seeds: Sequence[int]
    output_dir: str
    nproc: int = 1
    latency_repeats: int = 30
    cpu_threads: int = 1


def _header(plan: StudyPlan, variant: Variant, run: Run) -> str:
    keys = ", ".join(f"{k} = {v}" for k, v in variant.keys.items())
    launch = (f"python -m paddle.distributed.launch --nproc_per_node {plan.nproc} "
              if plan.nproc > 1 else "python ")
    return (f"Ablation study variant {variant.name!r} of {plan.config} (tools/ablate.py): the\n"
            f"whole base config with {keys}; every other value is the base's.\n"
            f"Train it alone as the study did (seed {run.seed}):\n"
            f"  {launch}tools/train.py -c {run.config_path} --seed {run.seed} --eval")


def check_variant(cfg: Dict, name: str, folder: str) -> None:
    """Load a variant's whole config as the tools will and check it (keys, values, datasets,
    the backbone built), so that a mistake stops the study before anything trains."""
    path = write_config(cfg, os.path.join(folder, f"{name}.yml"))
    try:
        check_config(load_config(path), ["TrainDataset", "EvalDataset"])
    except ValueError as error:
        raise type(error)(f"variant {name!r}: {error}") from error
    finally:
        os.remove(path)


def plan_runs(plan: StudyPlan) -> List[Run]:
    """Every run of the study, variants in order and seeds within each; each variant's config
    is checked first."""
    base = read_merged(plan.config)
    checks = os.path.join(plan.output_dir, ".checks")
    runs = []
    for variant in plan.variants:
        cfg = apply_variant(variant, base)
        check_variant(cfg, variant.name, checks)
        runs += [Run(variant.name, seed, cfg, plan.output_dir, plan.nproc)
                 for seed in plan.seeds]
    with contextlib.suppress(OSError):
        os.rmdir(checks)
    return runs


@contextlib.contextmanager
def output_to(path: str):
    """Send everything this process writes to stdout and stderr (Python, ppdet's loggers,
    Paddle's C++ logs) to the file `path` for the `with` block."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


class _Clock:
    """Study ETA from the wall time of the runs trained so far in this session."""

    def __init__(self, runs_to_do: int):
        self.left, self.durations = runs_to_do, []

    def eta(self, elapsed: float, fraction: float) -> Optional[float]:
        typical = statistics.fmean(self.durations) if self.durations else (
            elapsed / fraction if fraction > 0.05 else None)
        if typical is None:
            return None
        current = typical * (1 - fraction) if not self.durations else max(0.0, typical - elapsed)
        return current + typical * max(0, self.left - 1)

    def finished(self, seconds: float) -> None:
        self.durations.append(seconds)
        self.left -= 1


class Study:
    """Runs a StudyPlan, showing progress on `status` (a ppattn.study.progress.StatusLine)."""

    def __init__(self, plan: StudyPlan, status: Optional[StatusLine] = None):
        self.plan = plan
        self.status = status or StatusLine()
        self.runs = plan_runs(plan)

    def _where(self, index: int, run: Run) -> str:
        return f"variant {index + 1}/{len(self.runs)} ({run.label})"

    def _stop_stale(self, run: Run) -> None:
        for pid in stale_trainings(run.config_path):
            self.status.print(f"{run.label}: stopping a training left over from a killed "
                              f"study (pid {pid})")
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while stale_trainings(run.config_path) and time.monotonic() < deadline:
            time.sleep(0.5)

    def _train(self, index: int, run: Run, clock: _Clock, started: float) -> Optional[str]:
        """Train (or resume) the run unless training already finished; return the snapshot
        resumed from."""
        if run.final_metrics() is not None:
            return None
        resume = run.resume_point()
        progress = TrainingProgress(run.log_path, run.epochs)
        where = self._where(index, run)

        def poll():
            progress.update()
            epoch = (f"epoch {progress.epoch}/{run.epochs}" if progress.epoch else
                     ("resuming" if resume else "starting"))
            eta = clock.eta(time.monotonic() - started, progress.fraction)
            self.status.show(f"{where}: {epoch}, ETA {minutes(eta)}")
        command = train_command(os.path.abspath(run.config_path), run.seed,
                                os.path.abspath(run.folder), self.plan.nproc,
                                resume=os.path.abspath(resume) if resume else None)
        run_training(command, run.log_path, poll)
        if run.final_metrics() is None:
            raise TrainingError(f"training ended without evaluating its last epoch "
                                f"({run.epochs - 1}) and saving model_final (log: "
                                f"{run.log_path})")
        return resume

    def _execute(self, index: int, run: Run, clock: _Clock) -> Dict:
        where = self._where(index, run)
        removed = run.prepare(_header(self.plan, self._variant(run.variant), run))
        if removed:
            self.status.print(f"{where}: the config changed (hash {removed} -> {run.hash}); "
                              f"its old files were removed and it starts again")
        self._stop_stale(run)
        run.save_state(RUNNING)
        started = time.monotonic()
        try:
            resumed = self._train(index, run, clock, started)
            self.status.show(f"{where}: exporting, ETA "
                             f"{minutes(clock.eta(time.monotonic() - started, 0.95))}")
            with output_to(os.path.join(run.folder, "export.log")):
                measured = export_and_count(run.config_path, run.cfg["weights"], run.export_dir)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # one failed run is reported; the study goes on
            state = run.save_state(FAILED, error=f"{type(error).__name__}: {error}")
            self.status.print(f"{where}: FAILED: {state['error'].splitlines()[0]}")
            clock.finished(time.monotonic() - started)
            return state
        final = run.final_metrics()["bbox"]
        seconds = time.monotonic() - started
        state = run.save_state(DONE, AP=final["AP"], AP50=final["AP50"], seconds=seconds,
                               resumed_from=resumed, **measured)
        clock.finished(seconds)
        self.status.print(f"{where}: AP50 {final['AP50']:.3f}, AP {final['AP']:.3f} in "
                          f"{minutes(seconds)}" + (f" (resumed from {resumed})" if resumed
                                                    else ""))
        return state

    def _variant(self, name: str) -> Variant:
        return next(v for v in self.plan.variants if v.name == name)

    def _latency(self, states: Sequence[Dict]) -> Dict:
        """{'ms': median ms per exported model keyed 'variant/seed', 'machine': ...}; reused
        from latency.json when it holds the same runs with the same hashes."""
        done = {f"{s['variant']}/{s['seed']}": s for s in states if s["status"] == DONE}
        if not done:
            return {"ms": {}, "machine": {}}
        path = os.path.join(self.plan.output_dir, LATENCY_FILE)
        wanted = {key: s["hash"] for key, s in done.items()}
        try:
            with open(path, encoding="utf-8") as f:
                cached = json.load(f)
            if cached.get("hashes") == wanted and \
                    cached.get("repeats") == self.plan.latency_repeats:
                return cached
        except (OSError, ValueError):
            pass
        self.status.show(f"latency: {len(done)} exported models, taking turns")
        with output_to(os.path.join(self.plan.output_dir, "latency.log")):
            ms = interleaved_latency_ms(
                {key: s["export"] for key, s in done.items()}, self.plan.latency_repeats,
                cpu_threads=self.plan.cpu_threads,
                on_round=lambda r, n: self.status.show(f"latency: round {r}/{n} over "
                                                       f"{len(done)} models"))
        measured = {"hashes": wanted, "repeats": self.plan.latency_repeats, "ms": ms,
                    "machine": machine_info(self.plan.cpu_threads)}
        write_json_atomically(measured, path)
        return measured

    def run(self) -> Dict[str, str]:
        """Run every run not finished yet, measure latency, write the reports; return the
        paths written."""
        plan = self.plan
        with study_lock(plan.output_dir):
            todo = [r for r in self.runs if not r.is_done()]
            clock = _Clock(len(todo))
            states = []
            for index, run in enumerate(self.runs):
                if run in todo:
                    states.append(self._execute(index, run, clock))
                else:
                    state = run.state()
                    self.status.print(f"{self._where(index, run)}: finished before, skipped "
                                      f"(AP50 {state['AP50']:.3f})")
                    states.append(state)
            latency = self._latency(states)
            self.status.close()
            return self._report(states, latency)

    def _report(self, states: Sequence[Dict], latency: Dict) -> Dict[str, str]:
        records = [{**s, "latency_ms": latency["ms"].get(f"{s['variant']}/{s['seed']}")}
                   for s in states]
        rows = summarize([v.name for v in self.plan.variants], records)
        meta = {"config": self.plan.config, "seeds": list(self.plan.seeds),
                "nproc": self.plan.nproc, "epochs": self.runs[0].epochs,
                "latency_repeats": self.plan.latency_repeats,
                "cpu_threads": self.plan.cpu_threads, "machine": latency["machine"],
                "variants": {v.name: v.keys for v in self.plan.variants},
                "finished": datetime.datetime.now().isoformat(timespec="seconds")}
        paths = write_reports(rows, records, meta, self.plan.output_dir)
        try:
            paths["png"] = plot_study(rows, os.path.join(self.plan.output_dir, "study.png"),
                                      f"{os.path.basename(self.plan.config)}: AP50 against "
                                      f"latency, {len(self.plan.seeds)} seed(s)")
        except ValueError as error:  # every variant failed: the tables say why
            self.status.print(f"no study.png: {error}")
        return paths
