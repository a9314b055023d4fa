"""Data helpers: a synthetic COCO-format dataset for the demo and the pipeline tests."""
from .synthetic import SHAPES, draw_sample, make_shapes_dataset

__all__ = ["SHAPES", "draw_sample", "make_shapes_dataset"]
