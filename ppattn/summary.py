"""A table of the registered blocks: what each is, where it comes from, and what it costs."""
import inspect
from typing import Dict, List

from .layers.protocol import block_flops
from .registry import ATTENTIONS, build_attention


def paper_of(cls: type) -> str:
    """Return the citation of a block: its docstring's second paragraph, up to the link."""
    paragraphs = inspect.cleandoc(cls.__doc__ or "").split("\n\n")
    if len(paragraphs) < 2:
        return ""
    return " ".join(paragraphs[1].split()).split(" http")[0]


def block_rows(channels: int = 256, height: int = 40, width: int = 40) -> List[Dict]:
    """Describe every registered block built with defaults for a [1, C, H, W] input.

    `flops` is the block's own count (`flops(input_shape)`, rules in ppattn.layers.flop_count):
    conv and linear multiply-adds plus the pooling, activations, gates and the final scale.
    A block whose defaults don't fit C gets its error instead of params and FLOPs.
    """
    rows = []
    for name in sorted(ATTENTIONS):
        cls = ATTENTIONS[name]
        row = {"name": name, "class": cls.__name__, "paper": paper_of(cls)}
        try:
            block = build_attention(name, channels)
        except (TypeError, ValueError) as error:
            rows.append({**row, "error": str(error)})
            continue
        rows.append({**row, "params": int(sum(p.size for p in block.parameters())),
                     "flops": block_flops(block, [1, channels, height, width])})
    return rows


def markdown_table(rows: List[Dict]) -> str:
    """Format `block_rows` output as a Markdown table."""
    lines = ["| name | class | paper | params | FLOPs |", "|---|---|---|---:|---:|"]
    for r in rows:
        cost = (f"can't build: {r['error']} | |" if "error" in r else
                f"{r['params']:,} | {r['flops']:,} |")
        lines.append(f"| {r['name']} | {r['class']} | {r['paper']} | {cost}")
    return "\n".join(lines)
