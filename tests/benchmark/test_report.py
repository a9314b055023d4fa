"""ppattn/benchmark/report.py and runner.py: a tiny run written as Markdown, JSON and PNG."""
import json
import os
import subprocess
import sys

import pytest

from ppattn.benchmark import BenchConfig, TimingPlan, run, targets, write_outputs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = BenchConfig(blocks=("eca", "se"), shape_sets=("ppyoloe_s",), input_size=32,
                   batch_sizes=(1,), plan=TimingPlan(1, 0, 0.0, backward=False, torch=False),
                   models=(), threads=1)


@pytest.fixture(scope="module")
def result():
    return run(TINY, log=lambda line: None)


def test_run_states_machine_threads_and_config(result):
    assert result["meta"]["machine"]["threads"] == 1
    assert result["meta"]["machine"]["cpu"]
    assert result["config"]["input_size"] == 32
    assert result["config"]["plan"]["repeats"] == 1
    assert {r["stage"] for r in result["blocks"]} == {"stage1", "stage2", "stage3", "stage4"}


def test_write_outputs_makes_markdown_json_and_png(result, tmp_path):
    paths = write_outputs(result, str(tmp_path / "out"))
    assert sorted(os.path.basename(p) for p in paths.values()) == [
        "benchmark.json", "benchmark.md", "benchmark.png"]
    text = open(paths["md"], encoding="utf-8").read()
    assert "Threads: 1" in text and "shapes of a 32x32 input" in text
    assert "| ppyoloe_s | stage1 | 1x48x8x8 | eca |" in text
    saved = json.load(open(paths["json"], encoding="utf-8"))
    assert saved["targets"]["floor"].keys() == {"eca", "se"}
    assert os.path.getsize(paths["png"]) > 0


def _block(name, ratio):
    return {"device": "cpu", "set": "ppyoloe_s", "block": name,
            "fwd_over_floor": {"median": ratio}}


def test_targets_take_the_worst_stage_and_the_eca_model_ratio():
    eca = {**_block("eca", 1.15), "shape": [1, 48, 80, 80], "fwd_ms": {"median": 2.0}}
    result = {"blocks": [_block("se", 1.1), _block("se", 1.3), eca],
              "models": [{"device": "cpu", "model": "ppyoloe_s", "variant": "eca", "input": 320,
                          "latency_over_none": {"median": 1.01, "q1": 1.0, "q3": 1.015}},
                         {"device": "cpu", "model": "ppyoloe_s", "variant": "none", "input": 320,
                          "latency_ms": {"median": 400.0}}],
              "config": {"input_size": 320}}
    checked = targets(result)
    assert checked["floor"] == {"se": {"worst": 1.3, "pass": False},
                                "eca": {"worst": 1.15, "pass": True}}
    assert checked["eca_added_to_ppyoloe_s"]["verdict"] == "pass"
    assert checked["eca_added_to_ppyoloe_s"]["added"] == pytest.approx(0.01)
    assert checked["eca_added_to_ppyoloe_s"]["block_sum"] == pytest.approx(2.0 / 400.0)


@pytest.mark.parametrize("q1,q3,verdict", [(0.99, 1.019, "pass"), (1.02, 1.05, "FAIL"),
                                            (0.95, 1.05, "inconclusive")])
def test_eca_verdict_needs_the_whole_iqr_on_one_side(q1, q3, verdict):
    result = {"blocks": [], "models": [{"device": "cpu", "model": "ppyoloe_s", "variant": "eca",
                                        "input": 320, "latency_over_none": {
                                            "median": (q1 + q3) / 2, "q1": q1, "q3": q3}}]}
    assert targets(result)["eca_added_to_ppyoloe_s"]["verdict"].startswith(verdict)


def test_unknown_block_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown block 'sse'; known: eca, ese, ge, psa, se"):
        run(TINY._replace(blocks=("sse",)), log=lambda line: None)


def test_cli_smoke(tmp_path):
    out = tmp_path / "cli"
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "benchmark.py"), "--output_dir", str(out),
         "--blocks", "ese", "--shape_sets", "ppyoloe_s", "--input_size", "32",
         "--batch_sizes", "1", "--repeats", "1", "--warmup", "0", "--min_sample_ms", "0",
         "--no_backward", "--no_torch", "--models"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| ppyoloe_s | stage4 | 1x384x1x1 | ese |" in done.stdout
    assert (out / "benchmark.json").exists()


def test_psa_takes_the_resnet_bottleneck_conv2_shape():
    from ppattn.benchmark.runner import run_blocks
    config = TINY._replace(blocks=("eca", "psa"), shape_sets=("resnet50",))
    rows = run_blocks(config, "cpu", log=lambda line: None)
    res2 = {r["block"]: r["shape"] for r in rows if r["stage"] == "res2"}
    conv2 = {r["block"]: r["shape"] for r in rows if r["stage"] == "res2 conv2"}
    assert "psa" not in res2 and res2["eca"] == [1, 256, 8, 8]
    assert conv2["psa"] == conv2["conv3x3"] == [1, 64, 8, 8]
