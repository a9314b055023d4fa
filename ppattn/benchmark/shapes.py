"""Feature-map shapes where the attention blocks sit, at a given input size.

PP-YOLOE-s: ppdet's CSPResNet with width 0.5. Stage i maps channels[i] -> channels[i + 1] at
stride 4 * 2^i, and its attention block sees the concatenation of its two branches, ch_mid =
(channels[i] + channels[i + 1]) // 2 channels (ppdet 2.6.0 `CSPResStage`).
ResNet-50: a block after conv3 of a bottleneck sees the stage output, 256 * 2^i channels.
"""
from typing import Dict, List, NamedTuple, Sequence

CSPRESNET_CHANNELS = (64, 128, 256, 512, 1024)
RESNET50_CHANNELS = (256, 512, 1024, 2048)


class FeatureShape(NamedTuple):
    """One feature map: a label, channels C and spatial size H = W (batch is chosen later)."""
    label: str
    channels: int
    size: int


def size_at_stride(input_size: int, stride: int) -> int:
    """Return the side of a map after log2(stride) halvings with padding (ceil at each step)."""
    size = input_size
    while stride > 1:
        size, stride = (size + 1) // 2, stride // 2
    return size


def cspresnet_slot_shapes(input_size: int = 640, width_mult: float = 0.5,
                          channels: Sequence[int] = CSPRESNET_CHANNELS) -> List[FeatureShape]:
    """Return the input shape of each CSPResNet stage's attention block (PP-YOLOE-s by default)."""
    scaled = [max(round(c * width_mult), 1) for c in channels]
    return [FeatureShape(f"stage{i + 1}", (scaled[i] + scaled[i + 1]) // 2,
                         size_at_stride(input_size, 4 * 2 ** i))
            for i in range(len(scaled) - 1)]


def resnet50_stage_shapes(input_size: int = 640) -> List[FeatureShape]:
    """Return the output shape of each ResNet-50 stage (res2..res5)."""
    return [FeatureShape(f"res{i + 2}", c, size_at_stride(input_size, 4 * 2 ** i))
            for i, c in enumerate(RESNET50_CHANNELS)]


def shape_sets(input_size: int = 640) -> Dict[str, List[FeatureShape]]:
    """Return the benchmark's shape sets by name: 'ppyoloe_s' and 'resnet50'."""
    return {"ppyoloe_s": cspresnet_slot_shapes(input_size),
            "resnet50": resnet50_stage_shapes(input_size)}
