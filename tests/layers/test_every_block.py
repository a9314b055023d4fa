"""Checks every registered block gets for free: shape, learning, and the trip to deployment."""
import numpy as np
import paddle
import pytest
from paddle.static import InputSpec

import ppattn
from ppattn.deploy.paddle_inference import create_predictor, run_predictor

# every block's defaults fit: ShuffleAttention's 64 groups need C divisible by 128
CHANNELS = 128
# spatial sizes the saved graph must accept, the second not seen while exporting
SIZES = [(13, 13), (7, 9), (32, 32), (5, 5)]
# variants whose graphs differ from the defaults: pooled or learned gathers resized back (extent
# 8 is what two oneDNN passes broke), and bottlenecks of width 1 (the matmul + bias that a oneDNN
# fusion miscomputed on AVX-512; see ppattn/deploy/paddle_inference.py)
EXPORTED_SPECS = sorted(ppattn.ATTENTIONS) + [
    {"name": "ge", "extent": 2},
    {"name": "ge", "extent": 4, "extra_params": True},
    {"name": "ge", "extent": 8},
    {"name": "se", "fc": "linear"},
    {"name": "se", "rd_channels": 1},
    {"name": "se", "rd_channels": 1, "fc": "linear"},
]


def _eval_block(spec):
    paddle.seed(7)
    block = ppattn.build_attention(spec, CHANNELS)
    block.eval()
    return block


@pytest.mark.parametrize("name", sorted(ppattn.ATTENTIONS))
def test_block_keeps_shape_and_every_param_learns(name):
    block = ppattn.build_attention(name, CHANNELS)
    x = paddle.randn([2, CHANNELS, 7, 9])
    x.stop_gradient = False
    y = block(x)
    assert y.shape == x.shape
    y.mean().backward()
    assert x.grad is not None
    # BN running statistics are parameters too, but never learn
    assert all(p.grad is not None for p in block.parameters() if not p.stop_gradient)


def _save(block, tmp_path) -> str:
    """Export `block` with dynamic N, H, W; return the path prefix."""
    spec = [InputSpec([None, CHANNELS, None, None], "float32", name="x")]
    prefix = str(tmp_path / "model")
    paddle.jit.save(paddle.jit.to_static(block, input_spec=spec, full_graph=True), prefix)
    return prefix


@pytest.mark.parametrize("spec", EXPORTED_SPECS, ids=str)
def test_exported_graph_has_no_traced_branch(spec, tmp_path):
    # a shape test on dynamic dims becomes an `if` op: slower, and oneDNN's fused passes
    # miscompute convs inside one (see ppattn/deploy/paddle_inference.py)
    with open(_save(_eval_block(spec), tmp_path) + ".json") as graph:
        assert '"1.if"' not in graph.read()


@pytest.mark.paddle_inference
@pytest.mark.parametrize("spec", EXPORTED_SPECS, ids=str)
def test_block_survives_jit_save_and_paddle_inference(spec, tmp_path):
    block = _eval_block(spec)
    prefix = _save(block, tmp_path)
    loaded = paddle.jit.load(prefix)
    predictor = create_predictor(prefix)
    for batch, (height, width) in zip((1, 3, 2, 1), SIZES):
        x = np.random.rand(batch, CHANNELS, height, width).astype("float32")
        expected = block(paddle.to_tensor(x)).numpy()
        np.testing.assert_allclose(loaded(paddle.to_tensor(x)).numpy(), expected,
                                   rtol=1e-5, atol=1e-6)
        (inferred,) = run_predictor(predictor, x)
        np.testing.assert_allclose(inferred, expected, rtol=1e-5, atol=1e-6)
