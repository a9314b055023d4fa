"""ppattn.benchmark.deployment and deployment_report: interleaved timing, ratios to no attention
and to ONNX Runtime, the Markdown table; one real run on the demo detector."""
import json
import os

import pytest

from ppattn.benchmark.deployment import DeployPlan, _rows, model_variants, run_deployment, \
    time_runtimes
from ppattn.benchmark.deployment_report import deployment_markdown, write_deployment


class _Recorder:
    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def run(self, feeds):
        self.calls.append(self.name)
        return []


def test_every_entry_runs_once_per_round_in_rotated_order():
    calls = []
    entries = {key: (_Recorder(key, calls), {}) for key in "abc"}
    times = time_runtimes(entries, rounds=3, warmup=2)
    # warm-up and one calibration call (time_interleaved's), untimed
    assert calls[:9] == ["a", "a", "b", "b", "c", "c", "a", "b", "c"]
    assert calls[9:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert {key: len(samples) for key, samples in times.items()} == {"a": 3, "b": 3, "c": 3}


def test_ratios_are_per_round_against_no_attention_and_onnx_runtime():
    times = {("none", "paddle", 1): [10.0, 20.0, 10.0], ("se", "paddle", 1): [11.0, 20.0, 10.5],
             ("none", "onnx", 1): [5.0, 5.0, 5.0], ("se", "onnx", 1): [5.0, 6.0, 5.5]}
    rows = {(r["variant"], r["runtime"]): r
            for r in _rows("m", times, {"none": "placed", "se": "placed"})}
    assert rows[("se", "paddle")]["vs_none"]["median"] == pytest.approx(1.05)
    assert rows[("se", "onnx")]["vs_none"]["median"] == pytest.approx(1.1)
    assert rows[("none", "paddle")]["vs_onnx"]["median"] == pytest.approx(2.0)
    assert rows[("se", "paddle")]["vs_onnx"]["median"] == pytest.approx(2.2)   # 11/5, 20/6, 10.5/5.5
    assert "vs_none" not in rows[("none", "paddle")] and "vs_onnx" not in rows[("se", "onnx")]
    assert rows[("se", "paddle")]["onednn"] == "placed" and rows[("se", "onnx")]["onednn"] is None


def test_unknown_variant_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="no ppyoloe_s config for variant.*sse; known: .*eca"):
        model_variants("ppyoloe_s", ["none", "sse"])
    assert list(model_variants("ppyoloe_s", ["none", "stock"])) == ["none", "stock"]


def test_a_real_run_on_the_demo_detector_writes_the_table(tmp_path):
    for module in ("paddle2onnx", "onnxruntime"):
        pytest.importorskip(module, reason="ONNX Runtime is the other runtime: ppattn[export]")
    plan = DeployPlan(models=("demo",), threads=(1,), rounds=2, warmup=1,
                      work_dir=str(tmp_path / "work"))
    result = run_deployment(plan, log=lambda message: None)
    rows = {(r["variant"], r["runtime"], r["threads"]): r for r in result["rows"]}
    assert set(rows) == {("eca", "paddle", 1), ("eca", "onnx", 1)}
    assert rows[("eca", "paddle", 1)]["onednn"] == "placed"
    assert all(r["ms"]["median"] > 0 and r["ms"]["n"] == 2 for r in rows.values())
    assert rows[("eca", "paddle", 1)]["vs_onnx"]["median"] > 0
    assert result["meta"]["sizes"] == {"demo": [128, 128]}
    paths = write_deployment(result, str(tmp_path))
    with open(paths["json"], encoding="utf-8") as f:
        assert json.load(f)["rows"] == json.loads(json.dumps(result["rows"]))
    with open(paths["md"], encoding="utf-8") as f:
        table = f.read()
    assert table == deployment_markdown(result) + "\n"
    line = next(row for row in table.splitlines() if row.startswith("| eca | 1 |"))
    assert "(placed)" in line and line.count("|") == 8
    assert os.path.isdir(tmp_path / "work" / "demo")
