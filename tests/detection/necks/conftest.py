"""Helpers for the neck tests: small necks, feature pyramids, eval outputs, weight copying."""
from types import SimpleNamespace

import paddle
import pytest

from ppattn.detection.necks import AttnCustomCSPPAN, AttnFPN

# PP-YOLOE-s (width 0.5, depth 0.33 of configs/ppyoloe/_base_/ppyoloe_crn.yml) and Faster R-CNN
# R50-FPN, as ppdet's architecture builds them from their backbones' out_shape
PPYOLOE_S_PAN = dict(in_channels=[128, 256, 512], out_channels=[768, 384, 192], act="swish",
                     stage_num=1, block_num=3, spp=True, width_mult=0.5, depth_mult=0.33)
R50_FPN = dict(in_channels=[256, 512, 1024, 2048], out_channel=256,
               spatial_scales=[0.25, 0.125, 0.0625, 0.03125])
# tiny ones for the tests that build many necks
TINY_PAN = dict(in_channels=[16, 32, 64], out_channels=[64, 32, 16], act="swish", block_num=1,
                spp=True)
TINY_FPN = dict(in_channels=[8, 16, 32, 64], out_channel=16)
# 128 channels on every level: wide enough for every block's default arguments (ShuffleAttention
# needs 2 x 64 groups, PSA 4 branches x 16 groups), so the every-block tests pass plain names
WIDE_PAN = dict(in_channels=[128, 128, 128], out_channels=[128, 128, 128], act="swish",
                block_num=1)
WIDE_FPN = dict(in_channels=[128, 128, 128, 128], out_channel=128)


def tiny_pan(**specs) -> AttnCustomCSPPAN:
    return AttnCustomCSPPAN(**TINY_PAN, **specs)


def tiny_fpn(**specs) -> AttnFPN:
    return AttnFPN(**TINY_FPN, **specs)


def pyramid(rng, channels, largest: int, batch: int = 1) -> list:
    """Features of `channels`, the first `largest` pixels square, each next one half as large."""
    return [paddle.to_tensor(rng.normal(size=(batch, c, largest >> i, largest >> i))
                             .astype("float32")) for i, c in enumerate(channels)]


def outputs(neck: paddle.nn.Layer, feats: list) -> list:
    """The neck's eval-mode outputs, as NumPy arrays."""
    neck.eval()
    with paddle.no_grad():
        return [y.numpy() for y in neck(list(feats))]


def copy_weights(model: paddle.nn.Layer, reference: paddle.nn.Layer) -> None:
    """Give `model` every weight of `reference` (all of which it must have); blocks it has beyond
    them keep their initialisation."""
    state = model.state_dict()
    for key, value in reference.state_dict().items():
        state[key].set_value(value)


def slot_keys(model: paddle.nn.Layer, slot: str) -> list:
    return [key for key in model.state_dict() if key.startswith(slot + ".")]


@pytest.fixture(scope="session")
def nk(parity) -> SimpleNamespace:
    """The helpers above, and tests/conftest.py's BN and state-dict helpers, for test modules."""
    return SimpleNamespace(
        PPYOLOE_S_PAN=PPYOLOE_S_PAN, R50_FPN=R50_FPN, TINY_PAN=TINY_PAN, TINY_FPN=TINY_FPN,
        WIDE_PAN=WIDE_PAN, WIDE_FPN=WIDE_FPN, tiny_pan=tiny_pan, tiny_fpn=tiny_fpn, pyramid=pyramid,
        randomize_bn_stats=parity.randomize_bn_stats, outputs=outputs,
        assert_same_keys_and_shapes=parity.assert_same_keys_and_shapes, copy_weights=copy_weights,
        slot_keys=slot_keys)
