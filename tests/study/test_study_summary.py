"""ppattn.study.summary: mean and spread over seeds, verdicts against the baseline, Pareto front."""
import math

import pytest

from ppattn.study.summary import BASELINE, BETTER, UNKNOWN, WITHIN_NOISE, WORSE, \
    mean_and_spread, pareto_front, summarize, verdict


def _run(variant, seed, ap50, latency=10.0, params=1000, status="done", error=None):
    return {"variant": variant, "seed": seed, "status": status, "AP50": ap50,
            "AP": None if ap50 is None else ap50 / 2, "latency_ms": latency, "params": params,
            "flops": 2 * params, "error": error}


def test_mean_and_sample_spread_by_hand():
    stats = mean_and_spread([0.5, 0.7])
    assert stats["mean"] == pytest.approx(0.6)
    assert stats["std"] == pytest.approx(math.sqrt(0.02))  # ((0.1^2 + 0.1^2) / (2 - 1))^0.5
    assert stats["n"] == 2


def test_one_value_has_no_spread_and_none_no_mean():
    assert mean_and_spread([0.4])["std"] is None
    assert mean_and_spread([])["mean"] is None


@pytest.mark.parametrize("diff, spread, base_spread, want", [
    (0.05, 0.02, 0.01, BETTER), (-0.05, 0.02, 0.01, WORSE),
    (0.015, 0.02, 0.01, WITHIN_NOISE), (0.015, 0.01, 0.02, WITHIN_NOISE),
    (-0.02, 0.02, 0.0, WITHIN_NOISE), (0.3, None, 0.01, UNKNOWN), (0.3, 0.01, None, UNKNOWN)])
def test_verdict_needs_a_difference_larger_than_both_spreads(diff, spread, base_spread, want):
    assert verdict(diff, spread, base_spread) == want


def test_a_gain_smaller_than_the_seed_spread_is_within_noise():
    runs = [_run("none", 0, 0.50), _run("none", 1, 0.60),
            _run("eca", 0, 0.54), _run("eca", 1, 0.62)]
    rows = summarize(["none", "eca"], runs)
    eca = rows[1]["vs_baseline"]["AP50"]
    assert eca["diff"] == pytest.approx(0.03)
    assert eca["verdict"] == WITHIN_NOISE
    assert rows[0]["vs_baseline"]["AP50"]["verdict"] == BASELINE


def test_ratios_are_to_the_first_variant():
    runs = [_run("none", 0, 0.5, latency=10.0, params=1000),
            _run("se", 0, 0.5, latency=12.5, params=1100)]
    versus = summarize(["none", "se"], runs)[1]["vs_baseline"]
    assert versus["latency_ratio"] == pytest.approx(1.25)
    assert versus["params_ratio"] == pytest.approx(1.1)
    assert versus["flops_ratio"] == pytest.approx(1.1)


def test_failed_variant_keeps_its_error_and_others_are_compared():
    runs = [_run("none", 0, 0.5), _run("bad", 0, None, status="failed",
                                       error="TrainingError: boom"),
            _run("eca", 0, 0.6)]
    rows = summarize(["none", "bad", "eca"], runs)
    assert rows[1]["status"] == "failed"
    assert rows[1]["failed"] == {"0": "TrainingError: boom"}
    assert rows[1]["AP50"]["mean"] is None and rows[1]["vs_baseline"]["AP50"] is None
    assert rows[2]["vs_baseline"]["AP50"]["diff"] == pytest.approx(0.1)


def test_pareto_front_keeps_the_points_nothing_beats():
    points = {"a": (10.0, 0.5), "b": (12.0, 0.6), "c": (12.0, 0.55), "d": (9.0, 0.4),
              "e": (15.0, 0.6), "f": (20.0, 0.7)}
    # c: b is as fast and better; e: b is faster and as good
    assert pareto_front(points) == ["d", "a", "b", "f"]


def test_pareto_front_keeps_equal_points_and_skips_missing_values():
    assert pareto_front({"a": (1.0, 0.5), "b": (1.0, 0.5), "c": (float("nan"), 0.9)}) == \
        ["a", "b"]


def test_summarize_marks_the_front():
    runs = [_run("none", 0, 0.5, latency=10), _run("se", 0, 0.4, latency=12),
            _run("eca", 0, 0.6, latency=11)]
    assert [r["pareto"] for r in summarize(["none", "se", "eca"], runs)] == [True, False, True]
