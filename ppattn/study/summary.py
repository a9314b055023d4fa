"""A study's numbers: per variant the mean and spread over seeds, the difference to the
baseline (the first variant), whether that difference is larger than the noise, and the
Pareto front of accuracy against latency.

Spread is the sample standard deviation over seeds (n - 1 in the denominator). A difference
in AP is a gain or a loss only when it is larger than the seed spread of both the variant and
the baseline; otherwise it is "within noise". With one seed there is no spread, and the
verdict is "noise unknown": a study needs two seeds or more to claim anything.
"""
import math
import statistics
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

ACCURACY = ("AP50", "AP")
BASELINE, WITHIN_NOISE, BETTER, WORSE, UNKNOWN = (
    "baseline", "within noise", "better", "worse", "noise unknown: 1 seed")


def mean_and_spread(values: Sequence[float]) -> Dict:
    """{'mean', 'std', 'n', 'values'}; 'std' is None for fewer than two values, and 'mean'
    for none."""
    values = [float(v) for v in values]
    return {"mean": statistics.fmean(values) if values else None,
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "n": len(values), "values": values}


def verdict(diff: float, spread: Optional[float], baseline_spread: Optional[float]) -> str:
    """'better', 'worse', 'within noise' (|diff| no larger than the larger spread) or
    'noise unknown: 1 seed'."""
    if spread is None or baseline_spread is None:
        return UNKNOWN
    if abs(diff) <= max(spread, baseline_spread):
        return WITHIN_NOISE
    return BETTER if diff > 0 else WORSE


def _ratio(value: Optional[float], base: Optional[float]) -> Optional[float]:
    if value is None or not base:
        return None
    return value / base


def variant_row(name: str, runs: Sequence[Mapping]) -> Dict:
    """Aggregate one variant's run records ({'seed', 'status', 'AP50', 'AP', 'params', 'flops',
    'latency_ms', 'error'}) into one row."""
    done = [r for r in runs if r.get("status") == "done"]
    failed = {str(r["seed"]): r.get("error") or "failed" for r in runs
              if r.get("status") != "done"}
    row = {"variant": name, "seeds": [r["seed"] for r in done], "failed": failed,
           "status": "done" if not failed else ("failed" if not done else "partly failed")}
    for metric in ACCURACY:
        row[metric] = mean_and_spread([r[metric] for r in done])
    latencies = [r["latency_ms"] for r in done if r.get("latency_ms") is not None]
    row["latency_ms"] = mean_and_spread(latencies)
    row["params"] = done[0]["params"] if done else None
    row["flops"] = done[0]["flops"] if done else None
    return row


def compare_to_baseline(row: Dict, baseline: Mapping) -> Dict:
    """The row's differences to `baseline` and its cost ratios; `row` is left unchanged."""
    versus = {}
    for metric in ACCURACY:
        mine, base = row[metric], baseline[metric]
        if mine["mean"] is None or base["mean"] is None:
            versus[metric] = None
            continue
        diff = mine["mean"] - base["mean"]
        versus[metric] = {"diff": diff, "verdict": BASELINE if row is baseline else
                          verdict(diff, mine["std"], base["std"])}
    versus["params_ratio"] = _ratio(row["params"], baseline["params"])
    versus["flops_ratio"] = _ratio(row["flops"], baseline["flops"])
    versus["latency_ratio"] = _ratio(row["latency_ms"]["mean"], baseline["latency_ms"]["mean"])
    return {**row, "vs_baseline": versus}


def pareto_front(points: Mapping[str, Tuple[float, float]]) -> List[str]:
    """Names of the points {name: (latency, accuracy)} that no other point beats: none is at
    most as slow and at least as accurate and better in one of the two. Fastest first."""
    finite = {name: p for name, p in points.items() if all(math.isfinite(v) for v in p)}
    front = [name for name, (lat, acc) in finite.items()
             if not any(o_lat <= lat and o_acc >= acc and (o_lat, o_acc) != (lat, acc)
                        for other, (o_lat, o_acc) in finite.items() if other != name)]
    return sorted(front, key=lambda name: finite[name])


def summarize(variants: Sequence[str], runs: Sequence[Mapping]) -> List[Dict]:
    """One row per variant, in `variants` order, compared with the first one; each row's
    'pareto' says whether it lies on the AP50-latency front."""
    rows = [variant_row(name, [r for r in runs if r["variant"] == name]) for name in variants]
    rows = [compare_to_baseline(row, rows[0]) for row in rows]
    points = {row["variant"]: (row["latency_ms"]["mean"], row["AP50"]["mean"]) for row in rows
              if row["latency_ms"]["mean"] is not None and row["AP50"]["mean"] is not None}
    front = set(pareto_front(points))
    return [{**row, "pareto": row["variant"] in front} for row in rows]
