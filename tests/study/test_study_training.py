"""ppattn.study.training: the tools/train.py command, a failed log's gist, leftover trainings."""
import subprocess
import sys
import time

from ppattn.study.training import TRAIN_TOOL, error_summary, stale_trainings, train_command


def test_one_process_runs_train_py_with_seed_and_eval():
    command = train_command("/s/eca.yml", 1, "/s/out", 1)
    assert command == [sys.executable, TRAIN_TOOL, "-c", "/s/eca.yml", "--seed", "1",
                       "--output_dir", "/s/out", "--eval"]


def test_several_processes_go_through_paddle_launch_and_resume():
    command = train_command("/s/eca.yml", 0, "/s/out", 2, resume="/s/out/eca/3")
    assert command[1:7] == ["-m", "paddle.distributed.launch", "--nproc_per_node", "2",
                            "--log_dir", "/s/out/launch_log"]
    assert command[-2:] == ["-r", "/s/out/eca/3"]


def test_error_summary_prefers_the_tools_error_line(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("step 1\nerror: config x: 1 problem(s)\n")
    assert error_summary(str(log)) == "config x: 1 problem(s)"
    log.write_text("Traceback (most recent call last):\n  File x\nValueError: bad shape\n"
                   "LAUNCH INFO exit\n")
    assert error_summary(str(log)) == "ValueError: bad shape"


def test_stale_trainings_finds_a_process_naming_the_config(tmp_path):
    config = str(tmp_path / "eca.yml")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", config])
    try:
        deadline = time.monotonic() + 10
        while child.pid not in stale_trainings(config) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.pid in stale_trainings(config)
        assert stale_trainings(str(tmp_path / "other.yml")) == []
    finally:
        child.kill()
        child.wait()
