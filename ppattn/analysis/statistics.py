"""Summary numbers of attention maps: how sharply the gates select, and where a spatial map looks.

Maps are per-sample arrays [K, h, w] (see ppattn.analysis.attention_maps). For each map:

- mean, min and max of its values;
- the fraction of its values below LOW (0.1, nearly closed) and above HIGH (0.9, nearly open):
  for a channel gate [K, 1, 1] the fraction of channels; for a spatial map of all K x h x w values;
- for a spatial map, the entropy of its profile (the mean over K, normalised to sum to 1) in nats,
  and that entropy divided by log(h w): 1 for a map that weighs every position alike, 0 for one
  that looks at a single position. Undefined (None) for a profile with negative values or sum 0.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .attention_maps import BlockMaps

LOW, HIGH = 0.1, 0.9
CHANNEL, SPATIAL = "channel", "spatial"


def map_kind(sample_map: np.ndarray) -> str:
    """'channel' for a [K, 1, 1] map, 'spatial' for any map with h or w above 1."""
    return CHANNEL if sample_map.shape[-2:] == (1, 1) else SPATIAL


def gate_statistics(values: np.ndarray) -> Dict[str, float]:
    """Mean, min, max and the fractions of `values` below LOW and above HIGH."""
    values = np.asarray(values, np.float64).ravel()
    return {"mean": float(values.mean()), "min": float(values.min()),
            "max": float(values.max()),
            f"fraction_below_{LOW}": float((values < LOW).mean()),
            f"fraction_above_{HIGH}": float((values > HIGH).mean())}


def spatial_profile(sample_map: np.ndarray) -> np.ndarray:
    """The [h, w] mean over the K maps of a [K, h, w] spatial map: what the pictures show."""
    return np.asarray(sample_map, np.float64).mean(axis=0)


def spatial_entropy(profile: np.ndarray) -> Tuple[Optional[float], Optional[float]]:
    """(entropy in nats, entropy / log(h w)) of `profile` normalised to sum 1; (None, None) where
    it has negative values or sums to 0."""
    profile = np.asarray(profile, np.float64)
    total = profile.sum()
    if (profile < 0).any() or total <= 0:
        return None, None
    p = profile.ravel() / total
    p = p[p > 0]
    entropy = float(-(p * np.log(p)).sum())
    positions = profile.size
    return entropy, (entropy / math.log(positions) if positions > 1 else 0.0)


def summarize_map(sample_map: np.ndarray) -> Dict:
    """The numbers of the module docstring for one [K, h, w] map."""
    kind = map_kind(sample_map)
    summary = {"kind": kind, "shape": [int(d) for d in sample_map.shape],
               **gate_statistics(sample_map)}
    if kind == SPATIAL:
        entropy, normalised = spatial_entropy(spatial_profile(sample_map))
        summary.update(entropy=entropy, entropy_normalized=normalised)
    return summary


def summarize_blocks(blocks: Sequence[BlockMaps], sample: int = 0) -> Dict:
    """The JSON summary of one sample: per block its class, input shape and per-map numbers,
    and the blocks without maps with the reason."""
    summary: Dict = {"blocks": {}, "no_maps": {}}
    for entry in blocks:
        if entry.no_maps is not None:
            summary["no_maps"][entry.name] = {"block": entry.block, "reason": entry.no_maps}
            continue
        summary["blocks"][entry.name] = {
            "block": entry.block, "input_shape": [1, *entry.input_shape[1:]],
            "maps": {key: summarize_map(value[sample]) for key, value in entry.maps.items()}}
    return summary
