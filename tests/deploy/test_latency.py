"""ppattn.deploy.latency: timing loops (checked with a runtime that only counts its calls) and
the table of CPU runtimes."""
import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddle.static import InputSpec

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
def test_latency_table_times_each_runtime(exported):
    _, model_dir = exported("eca")
    convert_to_onnx(model_dir)
    table = latency_table(model_dir, sample_inputs(model_dir), repeats=2, warmup=0)
    assert list(table) == [label for label, _, _ in CPU_CONFIGS]
    assert all(isinstance(ms, float) and ms > 0 for ms in table.values()), table


class _Resize(paddle.nn.Layer):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2., mode="bilinear")


def test_latency_table_reports_what_cannot_run_the_model(tmp_path):
    spec = [InputSpec([None, 2, None, None], "float32", name="x")]
    paddle.jit.save(paddle.jit.to_static(_Resize(), input_spec=spec, full_graph=True),
                    str(tmp_path / "model"))
    table = latency_table(str(tmp_path), {"x": np.ones([1, 2, 4, 4], "float32")}, repeats=2,
                          warmup=0)
    for label in ("paddle onednn=off", "paddle onednn=fused"):
        assert table[label] > 0, table
    # Paddle 3.3.1's oneDNN cannot run interpolate (see ppattn.deploy.paddle_inference)
    for label in ("paddle onednn=on", "paddle onednn=placed"):
        assert table[label].startswith("failed: "), table
    assert table["onnxruntime"].startswith("failed: no ONNX model"), table
