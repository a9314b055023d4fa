"""Latency of every exported model of a study, measured in one session with the models taking
turns (one run each per round), so that load from other processes on a shared machine slows
them alike and their ratios stay comparable.

Each model runs in Paddle Inference with ppattn's default oneDNN mode on one CPU thread, on the
same input (the first model's `sample_inputs`: a random image preprocessed as its
infer_cfg.yml says); the time of a run includes copying inputs in and outputs out. A restarted
study that has the same finished runs reuses the saved measurement (`cached_latency`); any
change times all of them again, together.
"""
import json
import os
import statistics
from typing import Callable, Dict, List, Mapping, Optional

from ..deploy import open_runtime, run_times_ms, sample_inputs


def interleaved_latency_ms(model_dirs: Mapping[str, str], repeats: int = 30, warmup: int = 3,
                           cpu_threads: int = 1,
                           on_round: Callable[[int, int], None] = lambda done, total: None
                           ) -> Dict[str, float]:
    """{key: median ms per run} for the exported model folders `model_dirs` ({key: folder}).

    All models are opened and warmed up first; then each of `repeats` rounds runs every model
    once, in the order given. `on_round(done, repeats)` is called after each round.
    """
    if not model_dirs:
        return {}
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    feeds = sample_inputs(next(iter(model_dirs.values())))
    runtimes = {}
    for key, folder in model_dirs.items():
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"exported model folder {folder!r} ({key}) does not exist")
        runtimes[key] = open_runtime(folder, "paddle", cpu_threads=cpu_threads)
        run_times_ms(runtimes[key], feeds, repeats=1, warmup=warmup)
    times: Dict[str, List[float]] = {key: [] for key in runtimes}
    for done in range(repeats):
        for key, runtime in runtimes.items():
            times[key] += run_times_ms(runtime, feeds, repeats=1, warmup=0)
        on_round(done + 1, repeats)
    return {key: statistics.median(values) for key, values in times.items()}


def cached_latency(path: str, hashes: Mapping[str, str], repeats: int) -> Optional[Dict]:
    """The measurement saved in `path` if it timed exactly these runs ({key: config hash})
    with `repeats` repeats, else None."""
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    if isinstance(saved, dict) and saved.get("hashes") == dict(hashes) and \
            saved.get("repeats") == repeats:
        return saved
    return None
