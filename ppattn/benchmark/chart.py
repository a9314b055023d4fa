"""The benchmark's PNG: block time over the floor per shape, and model latency over stock."""
from typing import Dict

from .blocks import FLOOR, NONE


def chart(result: Dict, path: str) -> None:
    """PNG: each block's forward time over the floor per shape, and model latency over stock."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sets = sorted({r["set"] for r in result["blocks"]})
    panels = len(sets) + (1 if result["models"] else 0)
    fig, axes = plt.subplots(panels, 1, figsize=(11, 3.6 * panels), squeeze=False)
    for ax, set_name in zip(axes[:, 0], sets):
        rows = [r for r in result["blocks"] if r["set"] == set_name and r["device"] == "cpu"
                and r.get("fwd_over_floor") and r["block"] not in (FLOOR, NONE)]
        groups = sorted({(r["stage"], r["shape"][0]) for r in rows})
        names = sorted({r["block"] for r in rows})
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            values = {(r["stage"], r["shape"][0]): r["fwd_over_floor"]["median"]
                      for r in rows if r["block"] == name}
            ax.bar([g + i * width for g in range(len(groups))],
                   [values.get(k, 0) for k in groups], width, label=name)
        ax.axhline(1.2, color="k", linestyle="--", linewidth=0.8, label="1.2x floor")
        ax.set_yscale("log")
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
        ax.set_xticklabels([f"{s} N={n}" for s, n in groups])
        ax.set_ylabel("fwd time / floor")
        ax.set_title(f"{set_name}: block forward time over x * x.mean (CPU)")
        ax.legend(ncol=4, fontsize=8)
    if result["models"]:
        ax = axes[-1, 0]
        rows = [r for r in result["models"] if r["device"] == "cpu" and "latency_over_stock" in r]
        labels = [f"{r['model']}\n{r['variant']}" for r in rows]
        medians = [r["latency_over_stock"]["median"] for r in rows]
        spread = [[m - r["latency_over_stock"]["q1"] for m, r in zip(medians, rows)],
                  [r["latency_over_stock"]["q3"] - m for m, r in zip(medians, rows)]]
        ax.bar(range(len(rows)), medians, yerr=spread, capsize=3)
        ax.axhline(1.0, color="k", linewidth=0.8)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_ylabel("latency / stock")
        ax.set_title("whole models: forward latency over stock (CPU, median and IQR)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
