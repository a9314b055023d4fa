"""Tiny detectors and data for the attention-map tests: the demo PP-YOLOE (AttnCSPResNet width
0.25, depth 0.33, 128 px) with random weights, on a 2-image shapes dataset."""
import math
import os
from types import SimpleNamespace

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from ppattn import ATTENTIONS, register_attention
from ppattn.analysis import BlockMaps
from ppattn.data import make_shapes_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes.yml")
TOOL = os.path.join(ROOT, "tools/attention_maps.py")


@pytest.fixture(scope="session")
def shapes_data(tmp_path_factory):
    """8 validation images (for the category names) and 2 test images of 96 px."""
    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(str(root), num_train=2, num_val=8, num_test=2, size=96, seed=3)
    return root


def build_trainer(data_dir, *options: str):
    """ppdet's Trainer (test mode) for the demo config on `data_dir` with `-o options`."""
    from ppattn.engine import build_trainer as engine_trainer, load_config, parse_overrides, \
        select_device

    cfg = load_config(DEMO, parse_overrides([f"TestDataset.dataset_dir={data_dir}",
                                             "weights=unused", *options]))
    select_device(cfg)
    paddle.seed(0)
    return engine_trainer(cfg, "test")


def save_weights(trainer, path: str) -> str:
    """Save the trainer's model as `path`.pdparams; return `path` (as -o weights= takes it)."""
    paddle.save(trainer.model.state_dict(), path + ".pdparams")
    return path


@pytest.fixture(scope="session")
def detector():
    """The helpers above, for test modules."""
    return SimpleNamespace(build_trainer=build_trainer, save_weights=save_weights, demo=DEMO,
                           tool=TOOL, root=ROOT)


def constructed_blocks():
    """Two samples; sample 1 has a channel gate [0.05, 0.5, 0.95] and a two-channel 2 x 2 map
    whose channel mean is [[0.4, 0.4], [0, 0]]; a second block has no maps."""
    channel = np.zeros((2, 3, 1, 1), np.float32)
    channel[1, :, 0, 0] = [0.05, 0.5, 0.95]
    spatial = np.zeros((2, 2, 2, 2), np.float32)
    spatial[1, 0, 0, 0] = spatial[1, 1, 0, 1] = 0.8
    return [BlockMaps("neck.attn", "CBAM", [2, 3, 2, 2],
                      {"channel": channel, "spatial": spatial}),
            BlockMaps("backbone.stages.0.attn", "Plain", [2, 3, 2, 2],
                      no_maps="Plain lacks attention_maps()")]


# sample 1 of constructed_blocks, by hand. Spatial values: two of 0.8 and six of 0, so the mean
# is 0.2 and 6/8 lie below 0.1; the profile weighs 2 of 4 cells alike: entropy log 2, half of log 4
WANT_BLOCKS = {"neck.attn": {"block": "CBAM", "input_shape": [1, 3, 2, 2], "maps": {
    "channel": {"kind": "channel", "shape": [3, 1, 1], "mean": 0.5, "min": 0.05, "max": 0.95,
                "fraction_below_0.1": 1 / 3, "fraction_above_0.9": 1 / 3},
    "spatial": {"kind": "spatial", "shape": [2, 2, 2], "mean": 0.2, "min": 0.0, "max": 0.8,
                "fraction_below_0.1": 0.75, "fraction_above_0.9": 0.0,
                "entropy": math.log(2), "entropy_normalized": 0.5}}}}
WANT_NO_MAPS = {"backbone.stages.0.attn": {"block": "Plain",
                                           "reason": "Plain lacks attention_maps()"}}


def assert_matches(got, want, where="summary"):
    """Nested dicts and lists equal, floats to 1e-6 (the maps are float32)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), (where, got, want)
        for key in want:
            assert_matches(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, float):
        assert got == pytest.approx(want, abs=1e-6), (where, got, want)
    else:
        assert got == want, (where, got, want)


@pytest.fixture(scope="session")
def constructed():
    """A small constructed set of maps and its summary computed by hand."""
    return SimpleNamespace(blocks=constructed_blocks, want_blocks=WANT_BLOCKS,
                           want_no_maps=WANT_NO_MAPS, assert_matches=assert_matches)


@pytest.fixture
def no_maps_block():
    """The name of a registered third-party block without attention_maps; unregistered after
    the test."""
    class Plain(nn.Layer):
        def __init__(self, channels: int):
            super().__init__()
            self.scale = nn.Conv2D(channels, channels, 1)

        def forward(self, x):
            return x * self.scale(x)

    register_attention("plain_without_maps")(Plain)
    yield "plain_without_maps"
    ATTENTIONS.pop("plain_without_maps")
