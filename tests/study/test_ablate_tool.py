"""tools/ablate.py end to end on a tiny study (none, se; seed 0; 2 epochs of 4 steps; both runs
at once, --jobs 2):

1. the first run of the command, during which the test kills se's training process (a crash of
   one variant) while none's trains: none completes, se is reported failed with its error;
2. the same command again: none is skipped, se is tried again, and the test kills the study
   with SIGKILL once se's first snapshot is written;
3. the same command again: se resumes from that snapshot and the study completes.

The phases share one module-scoped fixture; each test checks one behaviour of it.
"""
import json
import os
import signal
import subprocess
import sys
import time

import matplotlib.image
import pytest

from ppattn.data import make_shapes_dataset
from ppattn.study.training import stale_trainings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "ablate.py")
STUDY_CONFIG = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes_study.yml")
VARIANTS = ("none", "se")
TIMEOUT_S = 240


def _tiny_config(tmp, data):
    path = os.path.join(tmp, "tiny_study.yml")
    with open(path, "w") as f:
        f.write(f"_BASE_: ['{STUDY_CONFIG}']\nepoch: 2\nsnapshot_epoch: 1\nlog_iter: 1\n"
                f"TrainReader: {{batch_size: 4}}\nEvalReader: {{batch_size: 4}}\n"
                + "".join(f"{d}: {{dataset_dir: {data}}}\n"
                          for d in ("TrainDataset", "EvalDataset", "TestDataset")))
    return path


def _start(config, output_dir):
    command = [sys.executable, TOOL, "-c", config, "--variants", *VARIANTS, "--seeds", "0",
               "--output_dir", output_dir, "--latency_repeats", "3", "--jobs", "2"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def _wait_for(condition, process, what):
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the study ended before {what}:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {what} within {TIMEOUT_S} s")
        time.sleep(0.05)


def _finish(process):
    output, _ = process.communicate(timeout=TIMEOUT_S)
    return process.returncode, output


def _snapshot_complete(folder, name="0"):
    return all(os.path.isfile(os.path.join(folder, name + s))
               for s in (".pdparams", ".pdopt", ".pdema"))


def _has_stepped(log):
    return os.path.isfile(log) and "ppdet.engine INFO: Epoch: [0]" in open(log).read()


def _state(output_dir, variant):
    with open(os.path.join(output_dir, variant, "seed0", "run.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The three phases; returns what each printed and the files' state after each."""
    tmp = str(tmp_path_factory.mktemp("study"))
    data = os.path.join(tmp, "shapes")
    make_shapes_dataset(data, num_train=16, num_val=8, num_test=2, size=96, seed=1)
    config, out = _tiny_config(tmp, data), os.path.join(tmp, "out")
    se_config = os.path.join(out, "se", "seed0", "se.yml")

    first = _start(config, out)
    _wait_for(lambda: _has_stepped(os.path.join(out, "se", "seed0", "train.log")), first,
              "se's first training step")
    for pid in stale_trainings(se_config):
        os.kill(pid, signal.SIGKILL)          # se crashes; the study goes on
    first_result = _finish(first)
    after_first = {v: _state(out, v) for v in VARIANTS}
    with open(os.path.join(out, "study.md")) as f:
        first_table = f.read()
    with open(os.path.join(out, "study.json")) as f:
        first_rows = json.load(f)["variants"]
    mtimes = {"none": os.path.getmtime(os.path.join(out, "none", "seed0", "run.json"))}

    second = _start(config, out)
    checkpoints = os.path.join(out, "se", "seed0", "se")
    _wait_for(lambda: _snapshot_complete(checkpoints), second, "se's first snapshot")
    os.kill(second.pid, signal.SIGKILL)       # the study dies mid-variant
    second_result = _finish(second)
    deadline = time.monotonic() + 15          # the child gets SIGTERM as its parent dies
    while stale_trainings(se_config) and time.monotonic() < deadline:
        time.sleep(0.1)
    left_running = stale_trainings(se_config)

    third_result = _finish(_start(config, out))
    return {"out": out, "first": first_result, "after_first": after_first,
            "first_table": first_table, "first_rows": first_rows,
            "second": second_result, "third": third_result, "mtimes": mtimes,
            "left_running": left_running}


def test_first_run_completes_the_others_when_one_variant_crashes(study):
    code, output = study["first"]
    assert code == 0, output
    states = study["after_first"]
    assert states["none"]["status"] == "done"
    assert states["se"]["status"] == "failed"
    assert "tools/train.py exited with status -9 (killed by SIGKILL)" in states["se"]["error"]
    assert "variant 2/2 (se, seed 0): FAILED" in output


def test_failed_variant_is_in_the_table_with_its_error(study):
    rows = {row["variant"]: row for row in study["first_rows"]}
    assert [rows[v]["status"] for v in VARIANTS] == ["done", "failed"]
    assert rows["se"]["failed"]["0"].startswith("TrainingError: tools/train.py exited with "
                                                "status -9")
    se_line = next(line for line in study["first_table"].splitlines()
                   if line.startswith("| se |"))
    assert "seed 0: TrainingError: tools/train.py exited with status -9" in se_line


def test_progress_names_variant_seed_and_epoch(study):
    output = study["first"][1]
    assert "variant 1/2 (none, seed 0): epoch 1/2" in output
    assert "variant 1/2 (none, seed 0): epoch 2/2" in output
    assert "variant 1/2 (none, seed 0): epoch 2/2, ETA" in output   # se failed: none alone


def test_two_jobs_train_two_runs_at_once(study):
    assert "variant 1/2 (none, seed 0): starting; variant 2/2 (se, seed 0): starting, ETA" \
        in study["first"][1]


def test_training_logs_go_to_files_not_the_terminal(study):
    output = study["first"][1]
    assert "ppdet.engine INFO" not in output and "Exported model" not in output
    log = os.path.join(study["out"], "none", "seed0", "train.log")
    assert "ppdet.engine INFO: Epoch: [1]" in open(log).read()
    assert "Exported model saved" in open(os.path.join(study["out"], "none", "seed0",
                                                       "export.log")).read()


def test_restart_skips_finished_runs(study):
    path = os.path.join(study["out"], "none", "seed0")
    assert os.path.getmtime(os.path.join(path, "run.json")) == study["mtimes"]["none"]
    assert open(os.path.join(path, "train.log")).read().count("$ ") == 1  # trained once
    for phase in ("second", "third"):
        assert "variant 1/2 (none, seed 0): finished before, skipped" in study[phase][1]


def test_killed_study_leaves_no_training_behind(study):
    assert study["second"][0] == -signal.SIGKILL
    assert study["left_running"] == []


def test_run_cut_mid_training_resumes_from_its_last_snapshot(study):
    code, output = study["third"]
    assert code == 0, output
    state = _state(study["out"], "se")
    assert state["status"] == "done"
    assert state["resumed_from"] == os.path.join(study["out"], "se", "seed0", "se", "0")
    log = open(os.path.join(study["out"], "se", "seed0", "train.log")).read()
    assert f"-r {state['resumed_from']}" in log
    assert "(se, seed 0): AP50" in output and "(resumed from" in output


def test_report_has_every_variant_after_the_resume(study):
    out = study["out"]
    with open(os.path.join(out, "study.json")) as f:
        rows = json.load(f)["variants"]
    assert [(r["variant"], r["status"]) for r in rows] == [(v, "done") for v in VARIANTS]
    assert all(r["params"] > 1e6 and r["flops"] > 1e7 and r["latency_ms"]["mean"] > 0
               for r in rows)
    table = open(os.path.join(out, "study.md")).read()
    assert "| se | 0 |" in table and "noise unknown: 1 seed" in table
    assert matplotlib.image.imread(os.path.join(out, "study.png")).shape[:2] == (550, 800)


def test_each_variants_config_can_be_trained_alone(study):
    path = os.path.join(study["out"], "se", "seed0", "se.yml")
    text = open(path).read()
    assert f"tools/train.py -c {path} --seed 0 --eval" in text
    assert "_BASE_" not in text and "attn: se" in text
