"""What attention really costs: per-block and whole-model latency, memory and honest FLOPs.

`run(BenchConfig(...))` measures, `write_outputs(result, dir)` writes Markdown, JSON and a PNG.
tools/benchmark.py is the command line. torch (extra `bench`) adds reference timings when present.
The whole-model part imports ppdet, so it is loaded only when models are benchmarked.
"""
from .blocks import TimingPlan, bench_shape, floor, floor_fast
from .flops import FlopCount, count_flops
from .report import markdown, targets, write_outputs
from .runner import BenchConfig, run
from .shapes import FeatureShape, cspresnet_slot_shapes, resnet50_stage_shapes, shape_sets

__all__ = ["BenchConfig", "FeatureShape", "FlopCount", "TimingPlan", "bench_shape",
           "count_flops", "cspresnet_slot_shapes", "floor", "floor_fast", "markdown",
           "resnet50_stage_shapes", "run", "shape_sets", "targets", "write_outputs"]
