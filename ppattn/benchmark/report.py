"""Write a benchmark result as Markdown, JSON and a PNG chart."""
import json
import os
from typing import Dict, List, Optional

from .blocks import FLOOR, NONE

CONVENTIONS = [
    "Times are medians [q1-q3] over interleaved repeats after warm-up; a ratio is the median "
    "[q1-q3] of ratios taken within the same repeat.",
    "FLOPs are each block's own count (ppattn.layers.flop_count): conv and linear multiply-adds "
    "with bias adds, plus pooling, activations, gates and the scale at 1 per element. A model "
    "adds the multiply-adds of its other conv and linear layers; its norms, activations and "
    "adds are left out, as paddle.flops leaves them.",
    "Peak memory is the most bytes Paddle's allocator held during one call above what it held "
    "before (input and weights excluded; output, saved activations and gradients included).",
]


def _stats(stats: Optional[Dict], digits: str = ".3g") -> str:
    if not stats:
        return "-"
    return f"{stats['median']:{digits}} [{stats['q1']:{digits}}-{stats['q3']:{digits}}]"


def _mib(value: Optional[int]) -> str:
    return "-" if value is None else f"{value / 2 ** 20:.1f}"


def header(result: Dict) -> List[str]:
    """Lines naming the machine, threads, sizes and repeats of a run."""
    m, c, meta = result["meta"]["machine"], result["config"], result["meta"]
    plan = c["plan"]
    return [
        "# ppattn attention benchmark", "",
        f"- Machine: {m['cpu']}, {m['logical_cores']} logical cores, GPU: {m['gpu'] or 'none'}; "
        f"Python {m['python']}, Paddle {m['paddle']}; {m['threads']} CPU thread(s); load "
        f"average {'/'.join(f'{v:.1f}' for v in m['load_average'])}; {meta['started']} to "
        f"{meta['finished']}",
        f"- Blocks: slot shapes of a {c['input_size']}x{c['input_size']} input, batch "
        f"{', '.join(map(str, c['batch_sizes']))}; {plan['repeats']} repeats after "
        f"{plan['warmup']} warm-up calls, each sample at least {plan['min_sample_s'] * 1e3:g} ms",
        f"- Models: built from configs/, {c['model_input_size']}x{c['model_input_size']} input, "
        f"batch {c['model_batch']}; {c['model_repeats']} repeats after {c['model_warmup']} "
        f"warm-up calls; no NMS, Faster R-CNN's box head on 1000 fixed RoIs per image",
        *[f"- {line}" for line in CONVENTIONS], ""]


def block_table(rows: List[Dict], device: str) -> List[str]:
    lines = [f"## Blocks on {device}", "",
             "| set | stage | NxCxHxW | block | params | MFLOPs | fwd ms | fwd / floor | "
             "fwd+bwd ms | fwd+bwd / floor | peak fwd MiB | peak fwd+bwd MiB |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in (r for r in rows if r["device"] == device):
        lead = f"| {r['set']} | {r['stage']} | {'x'.join(map(str, r['shape']))} | {r['block']} |"
        if "error" in r:
            lines.append(f"{lead} can't build: {r['error']} |" + " |" * 7)
            continue
        lines.append(
            f"{lead} {r['params']:,} | {r['flops'] / 1e6:.3g} | {_stats(r['fwd_ms'])} | "
            f"{_stats(r['fwd_over_floor'], '.2f')} | {_stats(r['fwdbwd_ms'])} | "
            f"{_stats(r['fwdbwd_over_floor'], '.2f')} | {_mib(r['fwd_peak_bytes'])} | "
            f"{_mib(r['fwdbwd_peak_bytes'])} |")
    return lines + [""]


def model_table(rows: List[Dict], device: str) -> List[str]:
    lines = [f"## Models on {device}", "",
             "| model | variant | config | params (M) | GFLOPs | peak MiB | latency ms | "
             "latency / stock |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in (r for r in rows if r["device"] == device):
        lines.append(
            f"| {r['model']} | {r['variant']} | {r['config']} | {r['params'] / 1e6:.3f} | "
            f"{r['flops'] / 1e9:.3f} | {_mib(r['peak_bytes'])} | {_stats(r['latency_ms'])} | "
            f"{_stats(r['latency_over_stock'], '.3f')} |")
    return lines + [""]


def markdown(result: Dict) -> str:
    """The whole report: header, then per device the block and model tables."""
    lines = header(result)
    for device in sorted({r["device"] for r in result["blocks"] + result["models"]}):
        lines += block_table(result["blocks"], device)
        if result["models"]:
            lines += model_table(result["models"], device)
    return "\n".join(lines)


def chart(result: Dict, path: str) -> None:
    """PNG: each block's forward time over the floor per stage, and model latency over stock."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sets = sorted({r["set"] for r in result["blocks"]})
    panels = len(sets) + bool(result["models"])
    fig, axes = plt.subplots(panels, 1, figsize=(11, 3.6 * panels), squeeze=False)
    colors = plt.get_cmap("tab20").colors           # the default cycle repeats after 10 blocks
    for ax, set_name in zip(axes[:, 0], sets):
        rows = [r for r in result["blocks"] if r["set"] == set_name and r["device"] == "cpu"
                and "error" not in r and r["block"] not in (FLOOR, NONE)]
        groups = sorted({(r["stage"], r["shape"][0]) for r in rows})
        names = sorted({r["block"] for r in rows})
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            values = {(r["stage"], r["shape"][0]): r["fwd_over_floor"]["median"]
                      for r in rows if r["block"] == name}
            ax.bar([g + i * width for g in range(len(groups))],
                   [values.get(k, 0) for k in groups], width, label=name,
                   color=colors[i % len(colors)])
        ax.set_yscale("log")
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
        ax.set_xticklabels([f"{s} N={n}" for s, n in groups])
        ax.set_ylabel("fwd time / floor")
        ax.set_title(f"{set_name}: block forward time over x * x.mean (CPU)")
        ax.legend(ncol=6, fontsize=8)
    if result["models"]:
        rows = [r for r in result["models"] if r["device"] == "cpu"]
        medians = [r["latency_over_stock"]["median"] for r in rows]
        spread = [[m - r["latency_over_stock"]["q1"] for m, r in zip(medians, rows)],
                  [r["latency_over_stock"]["q3"] - m for m, r in zip(medians, rows)]]
        ax = axes[-1, 0]
        ax.bar(range(len(rows)), medians, yerr=spread, capsize=3)
        ax.axhline(1.0, color="k", linewidth=0.8)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([f"{r['model']} {r['variant']}" for r in rows], fontsize=7,
                           rotation=45, ha="right")
        ax.set_ylabel("latency / stock")
        ax.set_title("whole models: forward latency over stock (CPU, median and IQR)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(result: Dict, output_dir: str) -> Dict[str, str]:
    """Write benchmark.md, benchmark.json and benchmark.png; return their paths by extension."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {ext: os.path.join(output_dir, f"benchmark.{ext}") for ext in ("md", "json", "png")}
    with open(paths["md"], "w", encoding="utf-8") as handle:
        handle.write(markdown(result) + "\n")
    with open(paths["json"], "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    chart(result, paths["png"])
    return paths
