"""Latency and memory measurement: interleaved repeats after warm-up, robust summaries.

Every repeat times each candidate once, in an order rotated by one per repeat, so slow drift of a
shared machine (other jobs, clocks) hits all candidates alike; per-repeat ratios between two
candidates cancel most of what is left. A sample repeats a fast call `inner` times, chosen during
warm-up so that one sample lasts at least `min_sample_s`, and reports the time per call.
"""
import statistics
import time
from typing import Callable, Dict, List

from paddle.base import core

Timed = Callable[[], object]


def summarize(samples: List[float]) -> Dict[str, float]:
    """Return median, quartiles (q1, q3), min, max and count of `samples`."""
    ordered = sorted(samples)
    if len(ordered) > 1:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {"median": statistics.median(ordered), "q1": q1, "q3": q3,
            "min": ordered[0], "max": ordered[-1], "n": len(ordered)}


def per_repeat_ratios(numerator: List[float], denominator: List[float]) -> List[float]:
    """Ratios of samples taken in the same repeat (the lists come from one interleaved run)."""
    if len(numerator) != len(denominator):
        raise ValueError(f"per_repeat_ratios needs samples from the same run, got "
                         f"{len(numerator)} and {len(denominator)} samples")
    return [a / b for a, b in zip(numerator, denominator)]


def calibrate_inner(fn: Timed, sync: Callable[[], None], min_sample_s: float,
                    max_inner: int = 1000) -> int:
    """Return how many calls make one sample last at least `min_sample_s` (1 for slow calls)."""
    start = time.perf_counter()
    fn()
    sync()
    once = time.perf_counter() - start
    if once <= 0:
        return max_inner
    return max(1, min(max_inner, int(min_sample_s / once + 0.999)))


def _warm_up(fn: Timed, sync: Callable[[], None], calls: int, max_s: float) -> None:
    """Call `fn` `calls` times, stopping early once `max_s` has passed (slow calls warm at once)."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
        sync()
        if time.perf_counter() - start > max_s:
            return


def time_interleaved(candidates: Dict[str, Timed], sync: Dict[str, Callable[[], None]],
                     repeats: int, warmup: int, min_sample_s: float = 0.0,
                     max_warmup_s: float = 2.0) -> Dict[str, List[float]]:
    """Time every candidate `repeats` times, interleaved; return seconds per call for each.

    `sync[name]` waits for the device work `candidates[name]` queued (a no-op on CPU). Each
    candidate gets `warmup` calls, fewer if they take more than `max_warmup_s`. A candidate fast
    enough to be called several times per sample gets one more untimed call before each sample,
    so it does not pay for the caches and allocator state the previous candidate left (after
    PSA's 100 ms calls, a 0.3 ms block measured up to 30 % slower without it).
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"time_interleaved needs repeats >= 1 and warmup >= 0, got "
                         f"repeats={repeats}, warmup={warmup}")
    names = list(candidates)
    for name in names:
        _warm_up(candidates[name], sync[name], warmup, max_warmup_s)
    inner = {name: calibrate_inner(candidates[name], sync[name], min_sample_s) for name in names}
    samples: Dict[str, List[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            fn, done = candidates[name], sync[name]
            if inner[name] > 1:
                fn()
                done()
            start = time.perf_counter()
            for _ in range(inner[name]):
                fn()
            done()
            samples[name].append((time.perf_counter() - start) / inner[name])
    return samples


def paddle_peak_bytes(fn: Timed, on_gpu: bool, device_id: int = 0) -> int:
    """Peak bytes Paddle's allocator held during `fn()`, above what it held just before.

    CPU: Paddle's host allocator statistics ('Allocated'), which see every Paddle tensor on the
    host (tracemalloc does not). GPU: the device allocator's. The input and weights, allocated
    before the call, are not counted; the output and everything the call kept alive are.
    """
    if on_gpu:
        reset, current, peak = (core.device_memory_stat_reset_peak_value,
                                core.device_memory_stat_current_value,
                                core.device_memory_stat_peak_value)
    else:
        reset, current, peak = (core.host_memory_stat_reset_peak_value,
                                core.host_memory_stat_current_value,
                                core.host_memory_stat_peak_value)
    reset("Allocated", device_id)
    before = current("Allocated", device_id)
    result = fn()
    used = peak("Allocated", device_id) - before
    del result
    return int(used)

