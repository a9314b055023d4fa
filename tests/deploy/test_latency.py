"""ppattn.deploy.latency: timing loops (checked with a runtime that only counts its calls) and
the table of CPU runtimes."""
import pytest

from ppattn.deploy import CPU_CONFIGS, convert_to_onnx, latency_table, run_times_ms, \
    sample_inputs

from detectors import needs_onnx


class _CountingRuntime:
    def __init__(self):
        self.calls = 0

    def run(self, feeds):
        self.calls += 1
        return []


def test_run_times_ms_times_each_repeat_after_the_warmup():
    runtime = _CountingRuntime()
    times = run_times_ms(runtime, {}, repeats=4, warmup=2)
    assert runtime.calls == 6 and len(times) == 4 and all(t >= 0 for t in times)


def test_run_times_ms_needs_a_repeat():
    with pytest.raises(ValueError, match="repeats must be at least 1, got 0"):
        run_times_ms(_CountingRuntime(), {}, repeats=0)


@needs_onnx
def test_latency_table_times_each_runtime_and_reports_onednns_failure(exported):
    _, model_dir = exported("eca")
    convert_to_onnx(model_dir)
    table = latency_table(model_dir, sample_inputs(model_dir), repeats=2, warmup=0)
    assert list(table) == [label for label, _, _ in CPU_CONFIGS]
    for label in ("paddle onednn=off", "paddle onednn=fused", "onnxruntime"):
        assert table[label] > 0, table
    # Paddle 3.3.1's oneDNN cannot run the neck's interpolate (see ppattn.deploy.paddle_inference)
    assert table["paddle onednn=on"].startswith("failed: "), table
