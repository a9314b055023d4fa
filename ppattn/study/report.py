"""A study's tables: study.md (for people), study.csv (one row per variant, flat columns) and
study.json (everything, runs included), from the rows of `ppattn.study.summary.summarize`."""
import csv
import json
import os
from typing import Dict, List, Mapping, Optional, Sequence

from .summary import ACCURACY, BASELINE, BETTER, UNKNOWN, WITHIN_NOISE, WORSE

CSV_COLUMNS = ("variant", "status", "seeds", "AP50_mean", "AP50_std", "AP50_diff",
               "AP50_verdict", "AP_mean", "AP_std", "AP_diff", "AP_verdict", "params",
               "params_ratio", "flops", "flops_ratio", "latency_ms", "latency_ms_std",
               "latency_ratio", "pareto", "error")
_ERROR_CHARS = 240


def _number(value: Optional[float], digits: int = 3, suffix: str = "") -> str:
    return "" if value is None else f"{value:.{digits}f}{suffix}"


def _error_text(row: Mapping) -> str:
    """The failed seeds' errors on one line: 'seed 1: ...; seed 2: ...'."""
    parts = [f"seed {seed}: {' '.join(str(error).split())}" for seed, error in
             row["failed"].items()]
    return "; ".join(parts)


def _difference(row: Mapping, metric: str) -> str:
    """'+0.012 (within noise)'; a gain only where the verdict says so."""
    versus = row["vs_baseline"][metric]
    if versus is None:
        return ""
    if versus["verdict"] == BASELINE:
        return BASELINE
    return f"{versus['diff']:+.3f} ({versus['verdict']})"


def _spread(stats: Mapping, digits: int = 3) -> str:
    if stats["mean"] is None:
        return ""
    spread = f" ± {stats['std']:.{digits}f}" if stats["std"] is not None else ""
    return f"{stats['mean']:.{digits}f}{spread}"


def _ratio(value: Optional[float]) -> str:
    return "" if value is None else f"x{value:.3f}"


def markdown_table(rows: Sequence[Mapping]) -> str:
    """The study table: one line per variant, differences and ratios to the first."""
    lines = ["| variant | seeds | AP50 | vs baseline | AP | vs baseline | params (M) | MFLOPs "
             "| latency (ms) | Pareto | failed |",
             "|---|---|---:|---|---:|---|---:|---:|---:|:---:|---|"]
    for row in rows:
        versus = row["vs_baseline"]
        params = (f"{row['params'] / 1e6:.3f} {_ratio(versus['params_ratio'])}"
                  if row["params"] else "")
        flops = f"{row['flops'] / 1e6:.1f} {_ratio(versus['flops_ratio'])}" if row["flops"] \
            else ""
        latency = (f"{_spread(row['latency_ms'], 2)} {_ratio(versus['latency_ratio'])}"
                   if row["latency_ms"]["mean"] is not None else "")
        error = _error_text(row).replace("|", "\\|")
        if len(error) > _ERROR_CHARS:
            error = error[:_ERROR_CHARS - 3] + "..."
        lines.append(f"| {row['variant']} | {', '.join(map(str, row['seeds'])) or '-'} | "
                     f"{_spread(row['AP50'])} | {_difference(row, 'AP50')} | "
                     f"{_spread(row['AP'])} | {_difference(row, 'AP')} | {params} | {flops} | "
                     f"{latency} | {'yes' if row['pareto'] else ''} | {error} |")
    return "\n".join(lines)


def markdown(rows: Sequence[Mapping], meta: Mapping) -> str:
    """study.md: what was run, the table, and how to read it."""
    baseline = rows[0]["variant"]
    gains = [r["variant"] for r in rows if any(
        (r["vs_baseline"][m] or {}).get("verdict") == BETTER for m in ACCURACY)]
    losses = [r["variant"] for r in rows if any(
        (r["vs_baseline"][m] or {}).get("verdict") == WORSE for m in ACCURACY)]
    machine = meta.get("machine", {})
    load = machine.get("load_average")
    lines = [
        f"# Ablation study: {meta.get('config', '')}", "",
        f"Variants: {', '.join(r['variant'] for r in rows)} (baseline: {baseline}); seeds: "
        f"{', '.join(map(str, meta.get('seeds', [])))}; {meta.get('epochs', '?')} epochs in "
        f"{meta.get('nproc', 1)} training process(es) a run, {meta.get('jobs', 1)} run(s) at "
        f"once. Finished {meta.get('finished', '')}.",
        "", markdown_table(rows), "",
        f"AP and AP50: COCO AP on the config's EvalDataset after the last epoch, mean ± sample "
        f"standard deviation over seeds. A difference to {baseline} is called better or worse "
        f"only when it is larger than the seed spread of both; otherwise it is '{WITHIN_NOISE}' "
        f"and is no gain. With one seed the verdict is '{UNKNOWN}'.",
        f"Better than {baseline} beyond the noise: {', '.join(gains) or 'no variant'}. "
        f"Worse beyond the noise: {', '.join(losses) or 'no variant'}.", "",
        f"Parameters and FLOPs (conv and linear layers plus each attention block's own count, "
        f"at the exported input size) with their ratio to {baseline}. Latency: the exported "
        f"model in Paddle Inference (ppattn's default oneDNN mode), "
        f"{meta.get('cpu_threads', 1)} thread, median of {meta.get('latency_repeats', '?')} "
        f"runs, all models taking turns in one session "
        f"(mean over seeds); ratio to {baseline}.",
        f"Machine: {machine.get('cpu', 'unknown')}, {machine.get('logical_cores', '?')} logical "
        f"cores, load average {', '.join(f'{v:.2f}' for v in load) if load else 'unknown'} "
        f"when latency was measured; Paddle {machine.get('paddle', '?')}.",
        "", "Each run's config, log, metrics and exported model: "
        "`<output_dir>/<variant>/seed<seed>/`. Plot: study.png.", ""]
    return "\n".join(lines)


def csv_rows(rows: Sequence[Mapping]) -> List[Dict]:
    """The rows flattened to CSV_COLUMNS."""
    flat = []
    for row in rows:
        versus = row["vs_baseline"]
        entry = {"variant": row["variant"], "status": row["status"],
                 "seeds": " ".join(map(str, row["seeds"])), "params": row["params"],
                 "params_ratio": versus["params_ratio"], "flops": row["flops"],
                 "flops_ratio": versus["flops_ratio"], "latency_ms": row["latency_ms"]["mean"],
                 "latency_ms_std": row["latency_ms"]["std"],
                 "latency_ratio": versus["latency_ratio"], "pareto": row["pareto"],
                 "error": _error_text(row)}
        for metric in ACCURACY:
            entry[f"{metric}_mean"] = row[metric]["mean"]
            entry[f"{metric}_std"] = row[metric]["std"]
            entry[f"{metric}_diff"] = (versus[metric] or {}).get("diff")
            entry[f"{metric}_verdict"] = (versus[metric] or {}).get("verdict")
        flat.append({key: "" if entry[key] is None else entry[key] for key in CSV_COLUMNS})
    return flat


def write_reports(rows: Sequence[Mapping], runs: Sequence[Mapping], meta: Mapping,
                  output_dir: str) -> Dict[str, str]:
    """Write study.md, study.csv and study.json into `output_dir`; return their paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {ext: os.path.join(output_dir, f"study.{ext}") for ext in ("md", "csv", "json")}
    with open(paths["md"], "w", encoding="utf-8") as f:
        f.write(markdown(rows, meta))
    with open(paths["csv"], "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(rows))
    with open(paths["json"], "w", encoding="utf-8") as f:
        json.dump({"meta": dict(meta), "variants": list(rows), "runs": list(runs)}, f, indent=1)
    return paths
