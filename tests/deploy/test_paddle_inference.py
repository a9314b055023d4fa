"""ppattn.deploy.paddle_inference: Paddle Inference predictors, their oneDNN modes and their
inputs; the Paddle Inference parity tests again under an AVX2 cap, so both instruction sets are
proven."""
import os
import re
import subprocess
import sys

import numpy as np
import paddle
import pytest
from paddle.static import InputSpec

from ppattn import GatherExcite, SELayer
from ppattn.deploy.paddle_inference import FUSED_DELETED_PASSES, PLACED_DELETED_PASSES, \
    auto_onednn_mode, create_predictor, run_predictor

CHANNELS = 64
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# every PIR pass Paddle 3.3.1 runs in "fused" mode; a Paddle that runs another one must be
# checked for wrong results on AVX2 and AVX-512 before it joins this list
FUSED_PASSES = {
    "add_shadow_output_after_dead_parameter_pass", "batch_norm_act_fuse_pass",
    "common_subexpression_elimination_pass", "constant_folding_pass",
    "conv2d_bias_bn_onednn_fuse_pass", "conv2d_bn_onednn_fuse_pass",
    "conv2d_transpose_bias_bn_fuse_pass", "conv2d_transpose_bias_fuse_pass",
    "conv2d_transpose_bn_fuse_pass", "conv3d_bias_fuse_pass", "conv_activation_mkldnn_fuse_pass",
    "conv_concat_activation_mkldnn_fuse_pass", "conv_elementwise_add_onednn_fuse_pass",
    "dead_code_elimination_pass", "delete_quant_dequant_linear_op_pass",
    "delete_weight_dequant_linear_op_pass", "depthwise_conv_onednn_pass", "inplace_pass",
    "operator_reshape_onednn_fuse_pass", "operator_scale_onednn_fuse_pass",
    "operator_unsqueeze_onednn_fuse_pass", "remove_shadow_feed_pass",
    "replace_fetch_with_shadow_output_pass", "shuffle_channel_detect_pass",
    "softplus_activation_fuse_pass", "squeeze_transpose_onednn_fuse_pass",
}
# "placed" runs these and the placement pass, nothing more
PLACED_PASSES = FUSED_PASSES | {"onednn_placement_pass"}
# the files holding the tests marked paddle_inference
PARITY_TEST_FILES = ["tests/layers/test_every_block.py", "tests/deploy/test_paddle_inference.py",
                     "tests/deploy/test_predictor.py", "tests/engine/test_export_model.py",
                     "tests/deploy/test_upsampling.py"]
# glog names each pass Paddle runs; create_predictor silences glog, so the child undoes that
_LIST_PASSES = """
import sys
import paddle.inference
paddle.inference.Config.disable_glog_info = lambda self: None
from ppattn.deploy.paddle_inference import create_predictor
create_predictor(sys.argv[1], onednn=sys.argv[2])
"""


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


@pytest.fixture(scope="module")
def squeeze_excite(tmp_path_factory) -> str:
    """SELayer(64) saved with dynamic H, W: a graph the placement pass can place."""
    prefix = str(tmp_path_factory.mktemp("se") / "model")
    paddle.seed(7)
    block = SELayer(CHANNELS)
    block.eval()
    spec = [InputSpec([None, CHANNELS, None, None], "float32", name="x")]
    paddle.jit.save(paddle.jit.to_static(block, input_spec=spec, full_graph=True), prefix)
    return prefix


@pytest.mark.paddle_inference
def test_fused_onednn_runs_interpolate_and_matches_onednn_off(gather_excite):
    x = np.random.rand(2, CHANNELS, 13, 11).astype("float32")
    (want,) = run_predictor(create_predictor(gather_excite, onednn="off"), x)
    (got,) = run_predictor(create_predictor(gather_excite, onednn="fused"), x)
    diff = np.abs(got - want).max()
    assert diff < 1e-5, f"fused vs off: max |diff| {diff:.2e}"


def test_unknown_onednn_mode_is_named(gather_excite):
    with pytest.raises(ValueError,
                       match="unknown oneDNN mode 'fast'; known: auto, placed, fused, off, on"):
        create_predictor(gather_excite, onednn="fast")


def test_auto_places_a_graph_unless_it_holds_interpolate(gather_excite, squeeze_excite):
    assert auto_onednn_mode(squeeze_excite + ".json") == "placed"
    assert auto_onednn_mode(gather_excite + ".json") == "fused"


@pytest.mark.paddle_inference
def test_placed_onednn_matches_onednn_off(squeeze_excite):
    x = np.random.rand(3, CHANNELS, 9, 14).astype("float32")
    (want,) = run_predictor(create_predictor(squeeze_excite, onednn="off"), x)
    (got,) = run_predictor(create_predictor(squeeze_excite, onednn="placed"), x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_missing_exported_model_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.json"):
        create_predictor(str(tmp_path / "model"))


def test_predictor_rejects_wrong_input_count(gather_excite):
    x = np.zeros([1, CHANNELS, 4, 4], "float32")
    with pytest.raises(ValueError, match="the model takes 1 inputs"):
        run_predictor(create_predictor(gather_excite), x, x)


@pytest.mark.parametrize("mode, deleted_passes, checked_passes", [
    ("fused", FUSED_DELETED_PASSES, FUSED_PASSES), ("placed", PLACED_DELETED_PASSES, PLACED_PASSES)])
def test_mode_runs_only_passes_checked_on_both_instruction_sets(
        mode, deleted_passes, checked_passes, squeeze_excite):
    child = subprocess.run([sys.executable, "-c", _LIST_PASSES, squeeze_excite, mode], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-3000:]
    ran = set(re.findall(r"Running PIR pass \[(\w+)\]", child.stderr))
    deleted = ran & set(deleted_passes)
    assert not deleted, f"deleted passes ran: {sorted(deleted)}"
    assert ran == checked_passes, (f"passes not checked yet: {sorted(ran - checked_passes)}; "
                                   f"no longer run: {sorted(checked_passes - ran)}")


def _has_avx512() -> bool:
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
        return "avx512f" in cpuinfo.read()


@pytest.mark.skipif(os.environ.get("ONEDNN_MAX_CPU_ISA") == "AVX2",
                    reason="this run already has the AVX2 cap")
def test_paddle_inference_parity_tests_pass_under_the_avx2_cap():
    """oneDNN picks kernels by instruction set, and a fusion was wrong on AVX-512 only. This run
    proves the machine's own ISA; the child proves AVX2 (the same ISA on a machine without
    AVX-512, a different one on a machine with it)."""
    print("this CPU has AVX-512" if _has_avx512() else "this CPU has no AVX-512")
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "paddle_inference", "-p", "no:cacheprovider",
         *PARITY_TEST_FILES], cwd=ROOT, capture_output=True, text=True, timeout=1500,
        env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"})
    summary = child.stdout.strip().splitlines()[-1] if child.stdout.strip() else ""
    print("under ONEDNN_MAX_CPU_ISA=AVX2:", summary)
    assert child.returncode == 0, child.stdout[-5000:] + child.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary


class _Swish(paddle.nn.Layer):
    def forward(self, x):
        return x * paddle.nn.functional.sigmoid(x)


def test_a_model_without_parameters_needs_no_params_file(tmp_path):
    prefix = str(tmp_path / "model")
    spec = [InputSpec([None, 4, None, None], "float32", name="x")]
    paddle.jit.save(paddle.jit.to_static(_Swish(), input_spec=spec, full_graph=True), prefix)
    assert not os.path.exists(prefix + ".pdiparams")
    x = np.random.rand(1, 4, 3, 5).astype("float32")
    (y,) = run_predictor(create_predictor(prefix), x)
    np.testing.assert_allclose(y, x / (1 + np.exp(-x)), rtol=1e-6)


def test_a_missing_params_file_is_named_when_the_graph_has_parameters(gather_excite, tmp_path):
    prefix = str(tmp_path / "model")
    with open(gather_excite + ".json", encoding="utf-8") as src, \
            open(prefix + ".json", "w", encoding="utf-8") as dst:
        dst.write(src.read())
    with pytest.raises(FileNotFoundError, match="model.pdiparams"):
        create_predictor(prefix)
