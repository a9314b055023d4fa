"""A table of the registered blocks: what each is, where it comes from, and what it costs."""
import inspect
from typing import Dict, List

import paddle

from .registry import ATTENTIONS, build_attention


def paper_of(cls: type) -> str:
    """Return the citation of a block: its docstring's second paragraph, up to the link."""
    paragraphs = inspect.cleandoc(cls.__doc__ or "").split("\n\n")
    if len(paragraphs) < 2:
        return ""
    return " ".join(paragraphs[1].split()).split(" http")[0]


def block_rows(channels: int = 256, height: int = 40, width: int = 40) -> List[Dict]:
    """Describe every registered block built with defaults for a [1, C, H, W] input.

    `layer_flops` counts the multiply-adds of conv and linear sublayers as `paddle.flops` does;
    the pooling and the final scale (about 2 * C * H * W more for every block) are not in it.
    """
    rows = []
    for name in sorted(ATTENTIONS):
        block = build_attention(name, channels)
        rows.append({
            "name": name,
            "class": type(block).__name__,
            "paper": paper_of(type(block)),
            "params": int(sum(p.size for p in block.parameters())),
            "layer_flops": int(paddle.flops(block, [1, channels, height, width])),
        })
    return rows


def markdown_table(rows: List[Dict]) -> str:
    """Format `block_rows` output as a Markdown table."""
    lines = ["| name | class | paper | params | layer FLOPs |", "|---|---|---|---:|---:|"]
    lines += [f"| {r['name']} | {r['class']} | {r['paper']} | {r['params']:,} | "
              f"{r['layer_flops']:,} |" for r in rows]
    return "\n".join(lines)
