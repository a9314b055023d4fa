"""Data-parallel training on the CPU: `python -m paddle.distributed.launch --nproc_per_node 2
tools/train.py ...` (gloo) runs the tiny pipeline; both ranks step; only rank 0 writes."""
from tiny_runs import DEMO, NAME, TOOLS, run_tool, tiny_options


def test_two_cpu_processes_split_the_data_and_only_rank_0_saves(tiny_data, tmp_path):
    logs = tmp_path / "launch_log"
    run_tool(["-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir", str(logs),
              f"{TOOLS}/train.py", "-c", DEMO, "--output_dir", str(tmp_path / "out"),
              *tiny_options(tiny_data)], cwd=str(tmp_path), timeout=400)
    rank0 = (logs / "workerlog.0").read_text()
    rank1 = (logs / "workerlog.1").read_text()
    # 16 images / 2 ranks / batch 4 = 2 steps per rank (4 in one process); each step all-reduces
    # gradients across both ranks, so rank 0 reaching its last step means rank 1 stepped too
    assert "Epoch: [0] [1/2]" in rank0 and "[3/4]" not in rank0
    assert "Save checkpoint" in rank0 and "Save checkpoint" not in rank1
    assert "Traceback" not in rank1
    assert (tmp_path / "out" / NAME / "model_final.pdparams").is_file()
