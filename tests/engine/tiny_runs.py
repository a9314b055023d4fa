"""Helpers for the engine tests that run the tools: paths, -o options for tiny runs, run_tool."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
DEMO = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes.yml")
NAME = "ppyoloe_crn_t_eca_shapes"


def tiny_options(data, *extra):
    """-o options: the tiny dataset, batch 4 (4 steps an epoch), logging every step."""
    return ["-o", f"TrainDataset.dataset_dir={data}", f"EvalDataset.dataset_dir={data}",
            f"TestDataset.dataset_dir={data}", "TrainReader.batch_size=4",
            "EvalReader.batch_size=4", "log_iter=1", "epoch=1", "snapshot_epoch=1",
            *extra]


def run_tool(args, cwd, timeout=300):
    """Run `python <args>` from the repository with one thread; return the finished process."""
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, (f"{' '.join(args)} failed ({result.returncode}):\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def run_failing_tool(args, cwd, timeout=300):
    """Run `python <args>` like run_tool; assert it stopped with status 1 and no traceback (the
    tools' way of reporting a problem the user can fix); return the finished process."""
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr, (
        f"{' '.join(args)} gave status {result.returncode}:\n{result.stderr[-5000:]}")
    return result
