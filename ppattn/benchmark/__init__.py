"""What attention really costs: per-block and whole-model latency, memory and FLOPs.

`run(BenchConfig(...))` measures, `write_outputs(result, dir)` writes Markdown, JSON and a PNG;
tools/benchmark.py is the command line. Not imported by `import ppattn`; the whole-model part
imports ppdet and builds the detectors from configs/.
"""
from .blocks import TimingPlan, bench_shape, floor
from .report import markdown, write_outputs
from .runner import BenchConfig, run

__all__ = ["BenchConfig", "TimingPlan", "bench_shape", "floor", "markdown", "run",
           "write_outputs"]
