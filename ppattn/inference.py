"""Run a model saved by `paddle.jit.save` with Paddle Inference (the deployment runtime)."""
import os
from typing import List

import numpy as np
import paddle.inference as paddle_infer


def create_predictor(model_prefix: str, use_onednn: bool = False,
                     cpu_threads: int = 1) -> paddle_infer.Predictor:
    """Load `<prefix>.json` + `<prefix>.pdiparams` (Paddle 3's PIR format) for the CPU.

    oneDNN is off by default: with it on, Paddle 3.3.1's inference cannot run any graph that
    contains `F.interpolate` (GatherExcite with an extent, every detector neck) and fails with
    `ConvertPirAttribute2RuntimeAttribute not support [pir::ArrayAttribute<pir::DoubleAttribute>]`.
    """
    graph, params = model_prefix + ".json", model_prefix + ".pdiparams"
    for path in (graph, params):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no exported model file {path!r}; expected "
                                    f"{os.path.basename(graph)} and {os.path.basename(params)} "
                                    f"as written by paddle.jit.save")
    config = paddle_infer.Config(graph, params)
    config.disable_glog_info()
    config.set_cpu_math_library_num_threads(cpu_threads)
    if use_onednn:
        config.enable_onednn()
    else:
        config.disable_onednn()
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
