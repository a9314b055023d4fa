"""What the attention blocks do: their maps in a model, summary numbers and pictures.

`attention_maps` and `statistics` need Paddle and NumPy only, `plots` adds matplotlib, and
`images` drives a ppdet Trainer over image files (tools/attention_maps.py).
"""
from .attention_maps import AttentionMapsError, BlockMaps, block_maps, captured_inputs, \
    collect_maps, find_blocks
from .images import analyse_images
from .plots import plot_channel_gates, plot_spatial_maps
from .statistics import gate_statistics, map_kind, spatial_entropy, summarize_blocks

__all__ = ["AttentionMapsError", "BlockMaps", "analyse_images", "block_maps", "captured_inputs",
           "collect_maps", "find_blocks", "gate_statistics", "map_kind", "plot_channel_gates",
           "plot_spatial_maps", "spatial_entropy", "summarize_blocks"]
