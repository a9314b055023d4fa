"""Latency of an exported model in each runtime: the median of timed runs after a warm-up.

Times are wall-clock per `run` call (inputs copied in, outputs copied out), so they include
what a deployment pays per image besides preprocessing. Set OMP_NUM_THREADS=1 as well as
`cpu_threads=1` to compare runtimes on one core.
"""
import statistics
import time
from typing import Dict, List, Optional, Union

import numpy as np

from .runtimes import open_runtime


def run_times_ms(runtime, feeds: Dict[str, np.ndarray], repeats: int = 20,
                 warmup: int = 3) -> List[float]:
    """Milliseconds of each of `repeats` timed `runtime.run(feeds)` calls after `warmup`."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        runtime.run(feeds)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runtime.run(feeds)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def median_latency_ms(model_dir: str, feeds: Dict[str, np.ndarray], runtime: str = "paddle",
                      onednn: Optional[str] = None, cpu_threads: int = 1, repeats: int = 20,
                      warmup: int = 3) -> float:
    """Median milliseconds per run of `model_dir` in `runtime` ('paddle' or 'onnx'); onednn
    as for `open_runtime`."""
    opened = open_runtime(model_dir, runtime, cpu_threads=cpu_threads, onednn=onednn)
    return statistics.median(run_times_ms(opened, feeds, repeats, warmup))


# (label, runtime, Paddle's oneDNN mode) for every CPU configuration we compare
CPU_CONFIGS = (("paddle onednn=off", "paddle", "off"), ("paddle onednn=on", "paddle", "on"),
               ("paddle onednn=fused", "paddle", "fused"),
               ("paddle onednn=placed", "paddle", "placed"), ("onnxruntime", "onnx", None))


def _open_and_warm(model_dir, feeds, runtime, onednn, cpu_threads, warmup):
    opened = open_runtime(model_dir, runtime, cpu_threads=cpu_threads, onednn=onednn)
    run_times_ms(opened, feeds, repeats=1, warmup=warmup)
    return opened


def latency_table(model_dir: str, feeds: Dict[str, np.ndarray], cpu_threads: int = 1,
                  repeats: int = 20, warmup: int = 3) -> Dict[str, Union[float, str]]:
    """Median ms per run for each of `CPU_CONFIGS`; a configuration that cannot run the model
    (oneDNN 'on' or 'placed' with interpolate, Paddle 3.3.1) gets its error message instead.

    The configurations take turns, one run each per round, so that load from other processes
    on a shared machine slows them alike instead of whichever happened to run at the time.
    """
    table: Dict[str, Union[float, str]] = {}
    runtimes = {}
    for label, runtime, onednn in CPU_CONFIGS:
        try:
            runtimes[label] = _open_and_warm(model_dir, feeds, runtime, onednn,
                                             cpu_threads, warmup)
        except (RuntimeError, ValueError, OSError) as error:
            table[label] = f"failed: {str(error).strip().splitlines()[0][:160]}"
    times: Dict[str, List[float]] = {label: [] for label in runtimes}
    for _ in range(repeats):
        for label, opened in runtimes.items():
            times[label] += run_times_ms(opened, feeds, repeats=1, warmup=0)
    table.update({label: statistics.median(t) for label, t in times.items()})
    return {label: table[label] for label, _, _ in CPU_CONFIGS}
