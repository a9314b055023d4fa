"""ppattn.deploy.upsampling: nearest upsampling traced without interpolate, same values, and a
graph that Paddle Inference can place on oneDNN."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest
from paddle.static import InputSpec

from ppattn.deploy.paddle_inference import auto_onednn_mode, create_predictor, graph_ops, \
    run_predictor
from ppattn.deploy.upsampling import integer_scale, interpolate_free_upsampling, repeat_pixels


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("height, width", [(1, 1), (5, 7), (13, 8)])
def test_repeat_pixels_is_nearest_interpolation(factor, height, width):
    x = paddle.randn([2, 3, height, width])
    want = F.interpolate(x, scale_factor=float(factor), mode="nearest")
    np.testing.assert_array_equal(repeat_pixels(x, factor).numpy(), want.numpy())


@pytest.mark.parametrize("call, factor", [
    (dict(scale_factor=2.), 2), (dict(scale_factor=[3, 3]), 3), (dict(scale_factor=(4., 4.)), 4),
    (dict(scale_factor=2.5), None), (dict(scale_factor=[2, 3]), None),
    (dict(scale_factor=1), None), (dict(size=[8, 8]), None),
    (dict(scale_factor=2., mode="bilinear"), None), (dict(scale_factor=2., align_corners=True), None),
    (dict(scale_factor=2., data_format="NHWC"), None), (dict(scale_factor=[2, 2, 2]), None),
])
def test_integer_scale_accepts_only_nearest_integer_upsampling(call, factor):
    arguments = dict(size=None, scale_factor=None, mode="nearest", align_corners=False,
                     data_format="NCHW")
    arguments.update(call)
    assert integer_scale(**arguments) == factor


class _Upsample(nn.Layer):
    """A conv, then a 2x nearest upsampling as the detector necks write it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(4, 4, 3, padding=1)

    def forward(self, x):
        return F.interpolate(self.conv(x), scale_factor=2.)


class _UpsampleAndResize(_Upsample):
    """Also a bilinear resize, which must stay an interpolate."""

    def forward(self, x):
        return super().forward(x), F.interpolate(x, scale_factor=2., mode="bilinear")


def _save(model, prefix):
    spec = [InputSpec([None, 4, None, None], "float32", name="x")]
    paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True), prefix)


@pytest.mark.paddle_inference
def test_traced_upsampling_has_no_interpolate_and_runs_placed(tmp_path):
    paddle.seed(3)
    model = _Upsample()
    model.eval()
    prefix = str(tmp_path / "model")
    with interpolate_free_upsampling():
        _save(model, prefix)
    assert "nearest_interp" not in graph_ops(prefix + ".json")
    assert auto_onednn_mode(prefix + ".json") == "placed"
    predictor = create_predictor(prefix, onednn="placed")
    for height, width in [(5, 7), (12, 12)]:
        x = np.random.rand(2, 4, height, width).astype("float32")
        (got,) = run_predictor(predictor, x)
        want = model(paddle.to_tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_other_interpolations_are_traced_unchanged(tmp_path):
    prefix = str(tmp_path / "model")
    with interpolate_free_upsampling():
        _save(_UpsampleAndResize(), prefix)
    ops = graph_ops(prefix + ".json")
    assert "bilinear_interp" in ops and "nearest_interp" not in ops


def test_interpolate_is_restored_after_the_block_even_on_error():
    original = F.interpolate
    with pytest.raises(RuntimeError, match="inside"):
        with interpolate_free_upsampling():
            assert F.interpolate is not original
            raise RuntimeError("inside")
    assert F.interpolate is original
