"""The deployment table: Markdown and JSON of `run_deployment`'s result."""
import json
import os
from typing import Dict, List

from .deployment import NONE

RUNTIME_NAMES = {"paddle": "Paddle Inference", "onnx": "ONNX Runtime"}


def _ratio(row: Dict, key: str) -> str:
    return f"{row[key]['median']:.3f}x" if key in row else ""


def deployment_header(result: Dict) -> List[str]:
    """Lines naming the machine, sizes, threads and rounds of a run."""
    m, plan = result["meta"]["machine"], result["meta"]["plan"]
    sizes = ", ".join(f"{model} {h}x{w} px" for model, (h, w) in result["meta"]["sizes"].items())
    weights = ", ".join(f"{model} {path or 'random'}"
                        for model, path in result["meta"]["weights"].items())
    return [f"Machine: {m['cpu']} ({m['logical_cores']} logical cores, "
            f"{'AVX-512' if m['avx512'] else 'no AVX-512'}), Paddle {m['paddle']}, "
            f"load average at the start {', '.join(f'{v:.2f}' for v in m['load_average'])}.",
            f"Models: {sizes}; batch 1; weights: {weights}; exported by "
            f"ppattn.engine.export_model. "
            f"Each variant x runtime x threads ran once per round, {plan['rounds']} rounds "
            f"interleaved after {plan['warmup']} warm-up runs; medians in ms, ratios are "
            f"medians of per-round ratios."]


def deployment_table(rows: List[Dict], model: str) -> List[str]:
    """One Markdown row per variant and thread count of `model`."""
    lines = [f"### {model}", "",
             "| variant | threads | Paddle Inference ms (oneDNN) | ONNX Runtime ms | "
             "Paddle / ONNX | Paddle vs none | ONNX vs none |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    by_key = {(r["variant"], r["runtime"], r["threads"]): r for r in rows if r["model"] == model}
    variants = list(dict.fromkeys(r["variant"] for r in rows if r["model"] == model))
    variants.sort(key=lambda name: name != NONE)
    threads = sorted({r["threads"] for r in rows if r["model"] == model})
    for count in threads:
        for variant in variants:
            paddle, onnx = by_key[(variant, "paddle", count)], by_key[(variant, "onnx", count)]
            lines.append(f"| {variant} | {count} | {paddle['ms']['median']:.1f} "
                         f"({paddle['onednn']}) | {onnx['ms']['median']:.1f} | "
                         f"{_ratio(paddle, 'vs_onnx')} | {_ratio(paddle, 'vs_none')} | "
                         f"{_ratio(onnx, 'vs_none')} |")
    return lines + [""]


def deployment_markdown(result: Dict) -> str:
    lines = ["## Deployment latency on the CPU", ""] + deployment_header(result) + [""]
    for model in result["meta"]["sizes"]:
        lines += deployment_table(result["rows"], model)
    return "\n".join(lines)


def write_deployment(result: Dict, output_dir: str) -> Dict[str, str]:
    """Write deployment.md and deployment.json to `output_dir`; return their paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {"md": os.path.join(output_dir, "deployment.md"),
             "json": os.path.join(output_dir, "deployment.json")}
    with open(paths["md"], "w", encoding="utf-8") as f:
        f.write(deployment_markdown(result) + "\n")
    with open(paths["json"], "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return paths
