"""Train one run with tools/train.py in a child process: the study has no training loop of its
own. With several processes the child is `python -m paddle.distributed.launch --nproc_per_node N
tools/train.py ...`, as tools/run_demo.sh trains the demo.

The child's output goes to the run's train.log. The child is asked to end with the study: it
gets SIGTERM when the study process dies (Linux's parent-death signal), and paddle's launcher
passes SIGTERM on to its workers. `stale_trainings` finds a training of a run that outlived its
study anyway (the launcher itself killed with SIGKILL leaves its workers running).
"""
import ctypes
import os
import signal
import subprocess
import sys
from typing import List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN_TOOL = os.path.join(ROOT, "tools", "train.py")
_PR_SET_PDEATHSIG = 1
try:  # looked up here: the child, forked from a process with threads, should only call it
    _PRCTL = ctypes.CDLL(None).prctl
except (OSError, AttributeError):  # not Linux: a killed study leaves its child running
    _PRCTL = None


class TrainingError(RuntimeError):
    """tools/train.py ended with an error; the message holds the end of its log."""


def train_command(config: str, seed: int, output_dir: str, nproc: int,
                  resume: Optional[str] = None, log_dir: Optional[str] = None) -> List[str]:
    """The command that trains `config` with `seed` into `output_dir` and evaluates every
    snapshot (--eval), resuming from the snapshot `resume` if given."""
    command = [sys.executable]
    if nproc > 1:
        command += ["-m", "paddle.distributed.launch", "--nproc_per_node", str(nproc),
                    "--log_dir", log_dir or os.path.join(output_dir, "launch_log")]
    command += [TRAIN_TOOL, "-c", config, "--seed", str(seed), "--output_dir", output_dir,
                "--eval"]
    return command + (["-r", resume] if resume else [])


def _end_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the study process dies."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def log_tail(path: str, lines: int = 12) -> str:
    """The last `lines` non-empty lines of a log, for an error message."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = [line.rstrip() for line in f if line.strip()]
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


def error_summary(path: str) -> str:
    """The line of a failed training's log that says what went wrong: the tool's `error: ...`
    line, else the last exception line of a traceback, else the log's last line."""
    tail = log_tail(path, 200).splitlines()
    for line in reversed(tail):
        if line.startswith("error: "):
            return line[len("error: "):]
    for line in reversed(tail):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception", "Interrupt")) and " " not in head:
            return line
    return tail[-1] if tail else "no output"


class Training:
    """tools/train.py running in a child process, its output appended to `log_path`; the study
    polls it (`ended`) while it shows progress and runs other trainings.

    The child gets one intra-op thread, as tools/run_demo.sh trains, unless OMP_NUM_THREADS
    says otherwise.
    """

    def __init__(self, command: List[str], log_path: str):
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        self.log_path = log_path
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            self.child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                          cwd=ROOT, env=env, preexec_fn=_end_with_parent)

    def ended(self) -> bool:
        return self.child.poll() is not None

    def check(self) -> None:
        """Raise TrainingError (with the log's gist) if the ended child failed."""
        status = self.child.returncode
        if status < 0:   # a signal: the log ends wherever training was
            raise TrainingError(f"tools/train.py exited with status {status} (killed by "
                                f"{signal.Signals(-status).name}) (log: {self.log_path})")
        if status > 0:
            raise TrainingError(f"tools/train.py exited with status {status}: "
                                f"{error_summary(self.log_path)} (log: {self.log_path})")

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `grace_s` (the launcher stops its workers on SIGTERM)."""
        if self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()


def stale_trainings(config_path: str) -> List[int]:
    """PIDs of live processes other than this one whose command line names `config_path`
    (absolute, as `train_command` is given it): trainings of a run left over from a study
    that was killed."""
    wanted = os.path.abspath(config_path)
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                arguments = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if wanted in arguments:
            found.append(int(entry))
    return sorted(found)
