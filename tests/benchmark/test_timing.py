"""ppattn/benchmark/timing.py: summaries, interleaving and memory (no timing assertions)."""
import paddle
import pytest

from ppattn.benchmark import timing
from ppattn.benchmark.timing import (paddle_peak_bytes, per_repeat_ratios, summarize,
                                     time_interleaved)


def test_summarize_gives_median_quartiles_and_range():
    stats = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert stats == {"median": 3.0, "q1": 2.0, "q3": 4.0, "min": 1.0, "max": 5.0, "n": 5}


def test_summarize_of_one_sample():
    assert summarize([2.0])["q1"] == summarize([2.0])["q3"] == 2.0


def test_per_repeat_ratios_need_samples_of_the_same_run():
    assert per_repeat_ratios([2.0, 6.0], [1.0, 3.0]) == [2.0, 2.0]
    with pytest.raises(ValueError, match="same run, got 2 and 1"):
        per_repeat_ratios([1.0, 2.0], [1.0])


def test_time_interleaved_rotates_the_order_every_repeat():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    samples = time_interleaved(fns, {n: (lambda: None) for n in fns}, repeats=3, warmup=1)
    # warm-up, one calibration call each, then repeats in rotated order
    assert calls[:6] == list("abcabc")
    assert calls[6:] == list("abc") + list("bca") + list("cab")
    assert {n: len(s) for n, s in samples.items()} == {"a": 3, "b": 3, "c": 3}


@pytest.mark.parametrize("inner, calls_per_sample", [(4, 5), (1, 1)])
def test_fast_candidates_get_one_untimed_call_before_each_sample(monkeypatch, inner,
                                                                 calls_per_sample):
    monkeypatch.setattr(timing, "calibrate_inner", lambda fn, sync, min_sample_s: inner)
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "ab"}
    time_interleaved(fns, {n: (lambda: None) for n in fns}, repeats=2, warmup=1)
    assert calls.count("a") == 1 + 2 * calls_per_sample


def test_time_interleaved_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeats >= 1 and warmup >= 0, got repeats=0"):
        time_interleaved({"a": lambda: None}, {"a": lambda: None}, repeats=0, warmup=0)


def test_paddle_peak_bytes_sees_a_host_tensor():
    size = 256 * 1024                                   # float32: 1 MiB
    used = paddle_peak_bytes(lambda: paddle.ones([size]), on_gpu=False)
    assert used >= 4 * size
