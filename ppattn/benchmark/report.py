"""Write a benchmark result as a Markdown table, a JSON file and a PNG chart."""
import json
import os
from typing import Dict, List, Optional

from .chart import chart

FLOP_CONVENTION = (
    "FLOPs = conv/linear multiply-adds (1 per MAC, bias adds excluded; what papers and "
    "paddle.flops call FLOPs) + the blocks' elementwise work (1 per element per op: pooling adds "
    "and divides, bias adds, activations, gates, softmax at 5 per element, the scale multiply; "
    "copies count 0). Whole models add only their attention blocks' elementwise work.")
MEMORY_CONVENTION = (
    "Peak memory = the most bytes Paddle's allocator held during one call above what it held "
    "before it (input and weights excluded; output, saved activations and gradients included), "
    "from Paddle's host allocator statistics on CPU (tracemalloc can't see them) and its device "
    "statistics on GPU. torch has no CPU statistics, so torch memory is given on GPU only.")
RATIO_CONVENTION = (
    "Times are medians [q1-q3] over interleaved repeats after warm-up; a ratio is the median "
    "[q1-q3] of ratios taken within the same repeat.")
TARGET_BLOCKS = ("se", "ese", "eca", "ge")


def _ms(stats: Optional[Dict]) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.3g} [{stats['q1']:.3g}-{stats['q3']:.3g}]"


def _ratio(stats: Optional[Dict]) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.2f} [{stats['q1']:.2f}-{stats['q3']:.2f}]"


def _mib(value: Optional[int]) -> str:
    return "-" if value is None else f"{value / 2 ** 20:.1f}"


def header(result: Dict) -> List[str]:
    """Lines naming the machine, threads, sizes and repeats of a run."""
    m, c = result["meta"]["machine"], result["config"]
    plan = c["plan"]
    load = "/".join(f"{v:.1f}" for v in m["load_average"] or [])
    end = "/".join(f"{v:.1f}" for v in result["meta"].get("load_average_end") or [])
    return [
        "# ppattn attention benchmark", "",
        f"- Machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['usable_cores']} usable), "
        f"GPU: {m['gpu'] or 'none'}; Python {m['python']}, Paddle {m['paddle']}, "
        f"torch {m['torch'] or 'not installed'}",
        f"- Threads: {m['threads']} (OMP_NUM_THREADS={m['omp_num_threads']}); malloc: "
        f"{result['meta']['malloc']}; load average "
        f"{load} at start, {end} at end; {result['meta']['started']} to "
        f"{result['meta']['finished']}",
        f"- Blocks: shapes of a {c['input_size']}x{c['input_size']} input, batch "
        f"{', '.join(map(str, c['batch_sizes']))}; {plan['repeats']} repeats after "
        f"{plan['warmup']} warm-up calls, each sample at least {plan['min_sample_s'] * 1e3:g} ms",
        f"- Models: {c['model_input_size']}x{c['model_input_size']} input, batch "
        f"{c['model_batch']}; {c['model_repeats']} interleaved repeats after "
        f"{c['model_warmup']} warm-up calls; backbones: {c['backbone_impl']} (stock: ppdet's "
        f"own); no NMS, Faster R-CNN's box head on 1000 fixed RoIs per image",
        f"- {RATIO_CONVENTION}", f"- {FLOP_CONVENTION}", f"- {MEMORY_CONVENTION}", ""]


def block_table(rows: List[Dict], device: str) -> List[str]:
    """Markdown rows of the per-block results on one device."""
    lines = [f"## Blocks on {device}", "",
             "| set | stage | NxCxHxW | block | params | MFLOPs | fwd ms | fwd / floor | "
             "fwd+bwd ms | fwd+bwd / floor | peak fwd MiB | peak fwd+bwd MiB | "
             "Paddle / torch fwd | Paddle / torch fwd+bwd |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["device"] != device:
            continue
        lead = f"| {r['set']} | {r['stage']} | {'x'.join(map(str, r['shape']))} | {r['block']} |"
        if "error" in r:
            lines.append(f"{lead} can't build: {r['error']} |" + " |" * 9)
            continue
        lines.append(
            f"{lead} {r['params']:,} | {r['flops'] / 1e6:.3g} | {_ms(r['fwd_ms'])} | "
            f"{_ratio(r['fwd_over_floor'])} | {_ms(r['fwdbwd_ms'])} | "
            f"{_ratio(r['fwdbwd_over_floor'])} | {_mib(r['fwd_peak_bytes'])} | "
            f"{_mib(r['fwdbwd_peak_bytes'])} | {_ratio(r['paddle_over_torch_fwd'])} | "
            f"{_ratio(r['paddle_over_torch_fwdbwd'])} |")
    return lines + [""]


def model_table(rows: List[Dict], device: str) -> List[str]:
    """Markdown rows of the whole-model results on one device, ratios against stock."""
    lines = [f"## Models on {device}", "",
             "| model | variant | params (M) | params / stock | GFLOPs | GFLOPs / stock | "
             "peak MiB | latency ms | latency / stock | latency / none |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    stock = {r["model"]: r for r in rows if r["variant"] == "stock" and "error" not in r}
    for r in rows:
        if r["device"] != device:
            continue
        if "error" in r:
            lines.append(f"| {r['model']} | {r['variant']} | can't build: {r['error']} |" +
                         " |" * 7)
            continue
        s = stock[r["model"]]
        lines.append(
            f"| {r['model']} | {r['variant']} | {r['params'] / 1e6:.3f} | "
            f"{r['params'] / s['params']:.3f} | {r['flops'] / 1e9:.3f} | "
            f"{r['flops'] / s['flops']:.4f} | {_mib(r['peak_bytes'])} | {_ms(r['latency_ms'])} | "
            f"{_ratio(r.get('latency_over_stock'))} | {_ratio(r.get('latency_over_none'))} |")
    return lines + [""]


def targets(result: Dict, device: str = "cpu", limit: float = 1.2,
            eca_budget: float = 0.02) -> Dict:
    """Check the speed targets: SE, ESE, ECA and GE within `limit` x the floor at PP-YOLOE-s
    shapes (worst stage and batch), and ECA adding less than `eca_budget` to PP-YOLOE-s."""
    floor = {}
    for name in TARGET_BLOCKS:
        ratios = [r["fwd_over_floor"]["median"] for r in result["blocks"]
                  if r["device"] == device and r["set"] == "ppyoloe_s" and r["block"] == name
                  and r.get("fwd_over_floor")]
        if ratios:
            floor[name] = {"worst": max(ratios), "pass": max(ratios) <= limit}
    models = {r["variant"]: r for r in result["models"] if r["device"] == device
              and r["model"] == "ppyoloe_s" and "error" not in r}
    added = None
    if "eca" in models and "latency_over_none" in models["eca"]:
        ratio = models["eca"]["latency_over_none"]
        added = {"added": ratio["median"] - 1, "q1": ratio["q1"] - 1, "q3": ratio["q3"] - 1,
                 "verdict": _verdict(ratio["q1"] - 1, ratio["q3"] - 1, eca_budget),
                 "input": models["eca"]["input"],
                 "block_sum": _eca_block_sum(result, models.get("none"), device)}
    return {"floor_limit": limit, "floor": floor, "eca_budget": eca_budget,
            "eca_added_to_ppyoloe_s": added}


def _verdict(low: float, high: float, budget: float) -> str:
    """'pass' when the whole IQR is under budget, 'FAIL' when it is all at or over, else neither."""
    if high < budget:
        return "pass"
    if low >= budget:
        return "FAIL"
    return "inconclusive (the IQR spans the target; add --model_repeats)"


def _eca_block_sum(result: Dict, none_model: Optional[Dict], device: str) -> Optional[float]:
    """ECA's four PP-YOLOE-s slots' forward medians at batch 1 over the no-attention model's
    latency: a low-noise estimate of what ECA adds, when blocks and model share the input size."""
    config = result.get("config", {})
    if none_model is None or config.get("input_size") != none_model["input"]:
        return None
    times = [r["fwd_ms"]["median"] for r in result["blocks"] if r["device"] == device
             and r["set"] == "ppyoloe_s" and r["block"] == "eca" and r["shape"][0] == 1
             and r.get("fwd_ms")]
    return sum(times) / none_model["latency_ms"]["median"] if times else None


def target_lines(checked: Dict) -> List[str]:
    lines = ["## Targets (CPU)", ""]
    for name, t in checked["floor"].items():
        lines.append(f"- {name}: worst fwd / floor at PP-YOLOE-s shapes {t['worst']:.2f} "
                     f"(target <= {checked['floor_limit']}): {'pass' if t['pass'] else 'FAIL'}")
    added = checked["eca_added_to_ppyoloe_s"]
    if added:
        lines.append(f"- eca: adds {added['added'] * 100:+.1f}% [{added['q1'] * 100:+.1f}% to "
                     f"{added['q3'] * 100:+.1f}%] to PP-YOLOE-s latency at "
                     f"{added['input']}x{added['input']} vs no attention (target < "
                     f"{checked['eca_budget'] * 100:g}%): {added['verdict']}")
        if added["block_sum"] is not None:
            lines.append(f"- eca: its 4 blocks' forward times at batch 1 sum to "
                         f"{added['block_sum'] * 100:.2f}% of the no-attention model's latency "
                         f"(an estimate that does not depend on whole-model noise)")
    return lines + [""]


def markdown(result: Dict) -> str:
    """The whole report: header, per-device block and model tables, targets."""
    lines = header(result)
    for device in sorted({r["device"] for r in result["blocks"] + result["models"]}):
        lines += block_table(result["blocks"], device)
        if result["models"]:
            lines += model_table(result["models"], device)
    lines += target_lines(result["targets"])
    return "\n".join(lines)


def write_outputs(result: Dict, output_dir: str) -> Dict[str, str]:
    """Write benchmark.md, benchmark.json and benchmark.png; return their paths."""
    os.makedirs(output_dir, exist_ok=True)
    result = {**result, "targets": targets(result)}
    paths = {ext: os.path.join(output_dir, f"benchmark.{ext}") for ext in ("md", "json", "png")}
    with open(paths["md"], "w", encoding="utf-8") as handle:
        handle.write(markdown(result) + "\n")
    with open(paths["json"], "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    chart(result, paths["png"])
    return paths
