"""ppattn.inference: Paddle Inference predictors, their oneDNN modes and their inputs."""
import numpy as np
import paddle
import pytest
from paddle.static import InputSpec

from ppattn import GatherExcite
from ppattn.inference import create_predictor, run_predictor

CHANNELS = 64


@pytest.fixture(scope="module")
def gather_excite(tmp_path_factory) -> str:
    """GatherExcite(64, extent=2) saved by paddle.jit.save with dynamic H, W. Its graph holds
    F.interpolate, which oneDNN 'on' cannot run in Paddle 3.3.1, and a conv + bias inside a
    `cond`, which oneDNN's conv2d_bias_fuse_pass miscomputes (by up to 0.4)."""
    prefix = str(tmp_path_factory.mktemp("ge") / "model")
    paddle.seed(7)
    block = GatherExcite(CHANNELS, extent=2)
    block.eval()
    spec = [InputSpec([None, CHANNELS, None, None], "float32", name="x")]
    paddle.jit.save(paddle.jit.to_static(block, input_spec=spec, full_graph=True), prefix)
    return prefix


def test_fused_onednn_runs_interpolate_and_matches_onednn_off(gather_excite):
    x = np.random.rand(2, CHANNELS, 13, 11).astype("float32")
    (want,) = run_predictor(create_predictor(gather_excite, onednn="off"), x)
    (got,) = run_predictor(create_predictor(gather_excite, onednn="fused"), x)
    diff = np.abs(got - want).max()
    assert diff < 1e-5, f"fused vs off: max |diff| {diff:.2e}"


def test_unknown_onednn_mode_is_named(gather_excite):
    with pytest.raises(ValueError, match="unknown oneDNN mode 'auto'; known: fused, off, on"):
        create_predictor(gather_excite, onednn="auto")


def test_missing_exported_model_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.json"):
        create_predictor(str(tmp_path / "model"))


def test_predictor_rejects_wrong_input_count(gather_excite):
    x = np.zeros([1, CHANNELS, 4, 4], "float32")
    with pytest.raises(ValueError, match="the model takes 1 inputs"):
        run_predictor(create_predictor(gather_excite), x, x)
