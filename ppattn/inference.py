"""Run a model saved by `paddle.jit.save` with Paddle Inference (the deployment runtime)."""
import os
from typing import List

import numpy as np
import paddle.inference as paddle_infer

ONEDNN_MODES = ("fused", "off", "on")
# the placement pass fails on interpolate; the bias pass miscomputes (see create_predictor)
_FUSED_DELETED_PASSES = ("onednn_placement_pass", "conv2d_bias_fuse_pass")


def create_predictor(model_prefix: str, onednn: str = "fused",
                     cpu_threads: int = 1) -> paddle_infer.Predictor:
    """Load `<prefix>.json` + `<prefix>.pdiparams` (Paddle 3's PIR format) for the CPU.

    onednn:
        "fused" (default): oneDNN with `onednn_placement_pass` and `conv2d_bias_fuse_pass`
            deleted: no op is placed on oneDNN kernels, its other conv, BN and activation
            fusions still apply. Runs every graph, same outputs as "off" (1e-6), fastest.
        "off": no oneDNN. Runs every graph.
        "on": Paddle's default CPU setup. Paddle 3.3.1 fails on every graph that contains
            `F.interpolate` (GatherExcite with an extent, every detector neck) with
            ``ConvertPirAttribute2RuntimeAttribute not support
            [pir::ArrayAttribute<pir::DoubleAttribute>]``, raised by the placement pass.

    "fused" deletes `conv2d_bias_fuse_pass` because in Paddle 3.3.1 it miscomputes a conv with
    a bias inside a `cond` block that interpolate follows: GatherExcite with an extent, exported
    with dynamic H and W (its MLP branches on the pooled map's size), was off by up to 0.4.

    Cost, one thread, median ms per run:
        demo detector (configs/demo, 160 px, NMS): off 44-48, fused 23-24 with the bias pass
            kept; measured again on a busier machine: off 38, with the bias pass kept 21,
            fused 30.
        PP-YOLOE-s backbone, 320 px: off 184, on 62, fused 45 (it has no conv biases, so the
            bias pass makes no difference).
    """
    if onednn not in ONEDNN_MODES:
        raise ValueError(f"unknown oneDNN mode {onednn!r}; known: {', '.join(ONEDNN_MODES)}")
    graph, params = model_prefix + ".json", model_prefix + ".pdiparams"
    for path in (graph, params):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no exported model file {path!r}; expected "
                                    f"{os.path.basename(graph)} and {os.path.basename(params)} "
                                    f"as written by paddle.jit.save")
    config = paddle_infer.Config(graph, params)
    config.disable_glog_info()
    config.set_cpu_math_library_num_threads(cpu_threads)
    if onednn == "off":
        config.disable_onednn()
    else:
        config.enable_onednn()
        if onednn == "fused":
            for name in _FUSED_DELETED_PASSES:
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
