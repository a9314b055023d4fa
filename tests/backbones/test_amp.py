"""Mixed precision: every squeeze in our backbones goes through the float32 `spatial_mean`."""
import numpy as np
import paddle
import pytest

import ppattn.layers.eca
import ppattn.layers.gather_excite
import ppattn.layers.se
from ppattn.backbones import AttnCSPResNet, AttnResNet
from ppattn.layers.common import spatial_mean

SQUEEZING = (ppattn.layers.se, ppattn.layers.eca, ppattn.layers.gather_excite)


@pytest.fixture
def squeezes(monkeypatch):
    """Record the dtype of every tensor the blocks squeeze, still squeezing it as before."""
    seen = []

    def spy(x):
        seen.append(x.dtype)
        return spatial_mean(x)
    for module in SQUEEZING:
        monkeypatch.setattr(module, "spatial_mean", spy)
    return seen


def test_cspresnet_stage_blocks_squeeze_through_spatial_mean(squeezes, bb, rng):
    model = AttnCSPResNet(width_mult=0.25, depth_mult=0.33,
                          block_attn=["eca", "none", "none", "ge"])
    bb.outputs(model, bb.image(rng, 32))
    assert len(squeezes) == 4 + len(model.stages[0].blocks) + len(model.stages[3].blocks)


def test_resnet_plugins_squeeze_through_spatial_mean(squeezes, bb, rng):
    model = AttnResNet(depth=18, std_senet=True, freeze_at=-1,
                       plugins=[{"attn": "ese", "position": "after_add"}])
    bb.outputs(model, bb.image(rng, 32))
    assert len(squeezes) == 2 * 8                         # 8 blocks, SE + ESE in each


def test_spatial_mean_of_float16_is_accumulated_in_float32(rng):
    x = (1000 + rng.normal(size=(1, 2, 64, 64))).astype("float16")   # sum ~ 4e6 > float16 max
    y = spatial_mean(paddle.to_tensor(x))
    assert y.dtype == paddle.float16
    want = x.astype(np.float32).mean(axis=(2, 3)).astype(np.float16)
    np.testing.assert_array_equal(y.numpy(), want)


@pytest.mark.skipif(not paddle.is_compiled_with_cuda(), reason="AMP float16 needs a GPU")
def test_cspresnet_under_auto_cast_matches_float32(bb, parity, rng):
    paddle.set_device("gpu")
    model = AttnCSPResNet(width_mult=0.25, depth_mult=0.33)
    x = bb.image(rng)
    want = bb.outputs(model, x)
    with paddle.amp.auto_cast(level="O1", dtype="float16"):
        got = bb.outputs(model, x)
    for g, w in zip(got, want):
        parity.assert_close(g.astype(np.float32), w, "amp output", rtol=2e-2)
