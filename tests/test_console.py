"""ppattn.console: the tools' stdout without the known-irrelevant lines, everything else kept."""
import io
import os
import subprocess
import sys

from ppattn.console import LineFilter, is_noise

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOISE = ["loading annotations into memory...", "Done (t=0.52s)", "creating index...",
         "index created!", "Loading and preparing results...", "DONE (t=0.14s).",
         "Running per image evaluation...", "Evaluate annotation type *bbox*",
         "Accumulating evaluation results...",
         "Warning: Unable to use numba in PP-Tracking, please install numba, for example"
         "(python3.7): `pip install numba==0.56.4`"]


def test_known_lines_are_noise_and_others_are_not():
    assert all(is_noise(line) for line in NOISE)
    assert not any(is_noise(line) for line in [
        "Done", "index created! (5 images)", "Warning: something else",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.002"])


def test_the_filter_drops_noise_printed_in_pieces_and_keeps_the_rest():
    out = io.StringIO()
    stream = LineFilter(out)
    for line in ["kept 1", *NOISE, "kept 2"]:
        print(line, file=stream)     # print writes the text and the newline separately
    stream.write("partial")
    stream.flush()
    assert out.getvalue() == "kept 1\nkept 2\npartial"


def test_a_tool_stopping_on_a_config_error_prints_only_the_error(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools/train.py"), "-c",
                             os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes.yml"),
                             "-o", "epoch=0", "TrainDataset.dataset_dir=."],
                            capture_output=True, text=True, cwd=str(tmp_path), timeout=300)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    # no ccache warning, numba note or FLAGS block: the error and its indented problems
    assert lines[0] == "error: ppyoloe_crn_t_eca_shapes: 3 problem(s):", result.stderr
    assert lines[1:] == ["  epoch must be an integer >= 1, got 0",
                         "  TrainDataset: image_dir './images' does not exist",
                         "  TrainDataset: anno_path './annotations/train.json' does not exist"]
