"""ppattn/benchmark/blocks.py, runner.py and report.py: a tiny run, its rows and its files."""
import json
import os
import subprocess
import sys

import matplotlib.image
import paddle
import pytest

import ppattn
from ppattn.benchmark import BenchConfig, TimingPlan, bench_shape, floor, run, write_outputs
from ppattn.benchmark.blocks import FLOOR, NONE, run_blocks
from ppattn.benchmark.shapes import FeatureShape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = TimingPlan(repeats=2, warmup=0, min_sample_s=0.0, backward=True)
SPECS = {name: name for name in ("eca", "ese", "ge", "psa", "se")}
TINY = BenchConfig(blocks=("eca", "se"), shape_sets=("ppyoloe_s",), input_size=32,
                   batch_sizes=(1,), plan=QUICK._replace(repeats=1, backward=False), models=())


@pytest.fixture(scope="module")
def rows():
    return {r["block"]: r for r in bench_shape(FeatureShape("tiny", 64, 4), 2, SPECS, QUICK,
                                               conv_reference=True)}


@pytest.fixture(scope="module")
def result():
    return run(TINY, log=lambda line: None)


def test_floor_pools_then_scales():
    x = paddle.to_tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])          # [1, 2, 1, 2]
    assert floor(x).numpy().tolist() == [[[[2.0, 6.0]], [[4.0, 4.0]]]]


def test_every_block_gets_a_row_after_floor_and_none(rows):
    assert list(rows) == [FLOOR, NONE, *SPECS, "conv3x3"]
    assert all(r["shape"] == [2, 64, 4, 4] for r in rows.values())


def test_flops_are_the_blocks_own(rows):
    for name in SPECS:
        assert rows[name]["flops"] == ppattn.build_attention(name, 64).flops([2, 64, 4, 4])
    assert rows[FLOOR]["flops"] == 2 * 2048 and rows[NONE]["flops"] == 0
    assert rows["conv3x3"]["flops"] == 2 * 64 * 16 * 64 * 9


def test_peak_memory_holds_at_least_the_output(rows):
    output_bytes = 2 * 64 * 4 * 4 * 4
    for name in (FLOOR, *SPECS):
        assert rows[name]["fwd_peak_bytes"] >= output_bytes, name
        assert rows[name]["fwdbwd_peak_bytes"] >= 2 * output_bytes, name   # output + x.grad
    assert rows[NONE]["fwd_peak_bytes"] == 0


def test_times_are_ratios_of_the_same_repeats(rows):
    for row in rows.values():
        assert row["fwd_ms"]["n"] == row["fwd_over_floor"]["n"] == QUICK.repeats
    assert rows[FLOOR]["fwd_over_floor"]["median"] == 1.0


def test_a_block_that_cannot_be_built_gets_an_error_row():
    got = bench_shape(FeatureShape("stage1", 48, 2), 1, {"psa": "psa"},
                      QUICK._replace(backward=False))
    assert got[-1]["error"].startswith("ValueError: PSAModule: conv_groups entry")


def test_psa_takes_the_resnet_bottleneck_conv2_shape():
    got = run_blocks({"resnet50": [FeatureShape("res2", 256, 4)]}, {"eca": "eca", "psa": "psa"},
                     [1], QUICK._replace(backward=False), "cpu", log=lambda line: None)
    shapes = {(r["stage"], r["block"]): r["shape"] for r in got}
    assert shapes[("res2", "eca")] == [1, 256, 4, 4] and ("res2", "psa") not in shapes
    assert shapes[("res2 conv2", "psa")] == shapes[("res2 conv2", "conv3x3")] == [1, 64, 4, 4]


def test_write_outputs_makes_markdown_json_and_png(result, tmp_path):
    paths = write_outputs(result, str(tmp_path))
    text = open(paths["md"], encoding="utf-8").read()
    assert "slot shapes of a 32x32 input" in text and "| ppyoloe_s | stage1 | 1x48x8x8 | eca |" in text
    assert json.load(open(paths["json"], encoding="utf-8"))["config"]["blocks"] == ["eca", "se"]
    image = matplotlib.image.imread(paths["png"])
    assert image.shape[:2] == (396, 1210)          # one panel of 11 x 3.6 inches at 110 dpi


def test_unknown_block_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown block 'sse'; known: ca, cbam, eca, "):
        run(TINY._replace(blocks=("sse",)), log=lambda line: None)


def test_cli_smoke(tmp_path):
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "benchmark.py"), "--output_dir",
         str(tmp_path), "--blocks", "ese", "--shape_sets", "ppyoloe_s", "--input_size", "32",
         "--batch_sizes", "1", "--repeats", "1", "--warmup", "0", "--min_sample_ms", "0",
         "--no_backward", "--models"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| ppyoloe_s | stage4 | 1x384x1x1 | ese |" in done.stdout
    assert sorted(os.listdir(tmp_path)) == ["benchmark.json", "benchmark.md", "benchmark.png"]


def test_import_ppattn_leaves_the_benchmark_out():
    code = "import sys, ppattn; print(any(m.startswith('ppattn.benchmark') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr[-2000:]
