"""Run a model saved by `paddle.jit.save` with Paddle Inference (the deployment runtime)."""
import os
import re
from typing import FrozenSet, List

import numpy as np
import paddle.inference as paddle_infer

ONEDNN_MODES = ("auto", "placed", "fused", "off", "on")

# The PIR passes that "fused" mode deletes, each for a measured wrong result or failure in Paddle
# 3.3.1 (names as glog's "Running PIR pass [...]" lines print them; `delete_pass` takes these).
FUSED_DELETED_PASSES = (
    # places ops on oneDNN kernels; fails on interpolate's float scale attribute
    "onednn_placement_pass",
    # a conv with bias inside a `cond` block followed by interpolate: off by up to 0.4
    "conv2d_bias_fuse_pass",
    # matmul + bias with an inner dimension of 1 (an SE/GE/PSA bottleneck of width 1) is wrong,
    # and differs between runs, on AVX-512 CPUs (PSA(64) off by 0.53, detections by 0.97). The
    # other matmul and fc fusions build the same oneDNN fused matmul; attention's matmuls act on
    # pooled vectors and cost microseconds, so none of them is worth the risk
    "matmul_elementwise_add_fuse_pass",
    "matmul_activation_fuse_pass",
    "matmul_add_act_fuse_pass",
    "matmul_reshape_add_fuse_pass",
    "matmul_scale_fuse_pass",
    "scale_matmul_fuse_pass",
    "reshape_transpose_matmul_fuse_pass",
    "matmul_transpose_reshape_fuse_pass",
    "fc_onednn_enable_pass",
    "fc_activation_fuse_pass",
    # GatherExcite(extent=8) with dynamic H and W: a shape error at 13x13 and off by 0.2 at
    # 32x32 with these two passes, on AVX2 and AVX-512 alike (0.89 reported on AVX-512)
    "elementwise_act_onednn_fuse_pass",
    "transfer_layout_pass",
)
# "placed" keeps the placement pass, which puts every op oneDNN has a kernel for on oneDNN
# (2x faster for a detector: tensors stay in oneDNN's layout between ops), and deletes the rest
PLACED_DELETED_PASSES = tuple(name for name in FUSED_DELETED_PASSES
                              if name != "onednn_placement_pass")
# ops whose oneDNN kernels Paddle 3.3.1 cannot start: the placement pass moves them to oneDNN,
# and the run fails on their float `scale` attribute (ConvertPirAttribute2RuntimeAttribute)
UNPLACEABLE_OPS = frozenset({"nearest_interp", "bilinear_interp"})


def _has_parameters(graph_file: str) -> bool:
    """Whether a PIR JSON graph declares parameters (ops `"#":"p"`)."""
    with open(graph_file, encoding="utf-8") as f:
        return '"#":"p"' in f.read()


def graph_ops(graph_file: str) -> FrozenSet[str]:
    """The Paddle op names (`conv2d`, `nearest_interp`, ...) in a PIR JSON graph."""
    with open(graph_file, encoding="utf-8") as f:
        return frozenset(re.findall(r'"#":"1\.(\w+)"', f.read()))


def auto_onednn_mode(graph_file: str) -> str:
    """"placed" for a graph without ops in `UNPLACEABLE_OPS`, else "fused"."""
    return "fused" if graph_ops(graph_file) & UNPLACEABLE_OPS else "placed"


def onednn_mode_of(model_dir: str) -> str:
    """The oneDNN mode "auto" picks for the model exported to `model_dir` (model.json)."""
    return auto_onednn_mode(os.path.join(model_dir, "model.json"))


def create_predictor(model_prefix: str, onednn: str = "auto",
                     cpu_threads: int = 1) -> paddle_infer.Predictor:
    """Load `<prefix>.json` + `<prefix>.pdiparams` (Paddle 3's PIR format) for the CPU.

    onednn:
        "auto" (default): "placed" when the graph can be placed, else "fused"
            (`auto_onednn_mode`). ppattn's exports of the detectors can be placed: they trace
            the neck's 2x upsampling without interpolate (`ppattn.engine.export`).
        "placed": oneDNN with the passes in `PLACED_DELETED_PASSES` deleted: every op with a
            oneDNN kernel runs on oneDNN, with oneDNN's conv, batch-norm and activation
            fusions, and without the passes that computed wrong results. Fails on graphs with
            `UNPLACEABLE_OPS`. Matches dygraph to float32 rounding on AVX2 and AVX-512 CPUs
            (tests/deploy/test_paddle_inference.py checks both).
        "fused": oneDNN with the passes in `FUSED_DELETED_PASSES` deleted. No op is
            placed on oneDNN kernels as a whole; oneDNN's conv, batch-norm and activation
            fusions still apply. Runs every graph ppattn exports and matches dygraph to float32
            rounding on AVX2 and AVX-512 CPUs (tests/deploy/test_paddle_inference.py checks both).
        "off": no oneDNN. Runs every graph.
        "on": Paddle's own CPU setup, unchanged. Paddle 3.3.1 fails on every graph that
            contains `F.interpolate` (GatherExcite with an extent; detector necks unless
            exported by ppattn) with
            ``ConvertPirAttribute2RuntimeAttribute not support
            [pir::ArrayAttribute<pir::DoubleAttribute>]``, raised by the placement pass, and it
            keeps the matmul fusion that is wrong on AVX-512. Not verified by ppattn.
    """
    if onednn not in ONEDNN_MODES:
        raise ValueError(f"unknown oneDNN mode {onednn!r}; known: {', '.join(ONEDNN_MODES)}")
    graph, params = model_prefix + ".json", model_prefix + ".pdiparams"
    missing = [path for path in (graph, params) if not os.path.isfile(path)]
    # paddle.jit.save writes no .pdiparams for a model without parameters (SimAM)
    if missing and not (missing == [params] and not _has_parameters(graph)):
        raise FileNotFoundError(f"no exported model file {missing[0]!r}; expected "
                                f"{os.path.basename(graph)} and {os.path.basename(params)} "
                                f"as written by paddle.jit.save")
    if onednn == "auto":
        onednn = auto_onednn_mode(graph)
    config = paddle_infer.Config(graph, "" if missing else params)
    config.disable_glog_info()
    config.set_cpu_math_library_num_threads(cpu_threads)
    if onednn == "off":
        config.disable_onednn()
    else:
        config.enable_onednn()
        deleted = {"fused": FUSED_DELETED_PASSES, "placed": PLACED_DELETED_PASSES}
        for name in deleted.get(onednn, ()):
            config.delete_pass(name)
    return paddle_infer.create_predictor(config)


def run_predictor(predictor: paddle_infer.Predictor, *inputs: np.ndarray) -> List[np.ndarray]:
    """Feed `inputs` in the predictor's input order and return every output as a NumPy array."""
    names = predictor.get_input_names()
    if len(names) != len(inputs):
        raise ValueError(f"the model takes {len(names)} inputs ({', '.join(names)}), "
                         f"got {len(inputs)}")
    for name, value in zip(names, inputs):
        predictor.get_input_handle(name).copy_from_cpu(np.ascontiguousarray(value))
    predictor.run()
    return [predictor.get_output_handle(name).copy_to_cpu()
            for name in predictor.get_output_names()]
