"""Mixed precision: the backbones under AMP give their float32 outputs (the squeeze itself is
covered in tests/layers/test_common.py)."""
import numpy as np
import paddle
import pytest

from ppattn.detection.backbones import AttnCSPResNet


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
