"""One interface over the deployment runtimes: Paddle Inference and ONNX Runtime, on the CPU.

Both take a dict of NumPy inputs named as the exported model names them (`image`,
`scale_factor`, ...) and return the outputs as a list in the model's order.
"""
import os
from typing import Dict, List, Optional

import numpy as np

from .paddle_inference import create_predictor, run_predictor
from .onnx_export import ONNX_FILE, require

RUNTIMES = ("paddle", "onnx")


class PaddleRuntime:
    """Paddle Inference on `model_dir`/model.json + model.pdiparams.

    onednn: "auto" (default), "placed", "fused", "off" or "on"; see
    `ppattn.deploy.paddle_inference.create_predictor`.
    """

    def __init__(self, model_dir: str, cpu_threads: int = 1, onednn: str = "auto"):
        self.predictor = create_predictor(os.path.join(model_dir, "model"), onednn=onednn,
                                          cpu_threads=cpu_threads)
        self.input_names: List[str] = self.predictor.get_input_names()

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        return run_predictor(self.predictor, *(feeds[name] for name in self.input_names))


class OnnxRuntime:
    """ONNX Runtime's CPU provider on an ONNX file (default `model_dir`/model.onnx)."""

    def __init__(self, onnx_file: str, cpu_threads: int = 1):
        ort = require("onnxruntime")
        if not os.path.isfile(onnx_file):
            raise FileNotFoundError(f"no ONNX model {onnx_file!r}; convert the exported model "
                                    f"with tools/export_onnx.py first")
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3   # paddle2onnx leaves unused constants; ORT warns on each
        self.session = ort.InferenceSession(onnx_file, options,
                                            providers=["CPUExecutionProvider"])
        self.input_names: List[str] = [i.name for i in self.session.get_inputs()]

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        return self.session.run(None, {name: feeds[name] for name in self.input_names})


def open_runtime(model_dir: str, runtime: str = "paddle", cpu_threads: int = 1,
                 onednn: Optional[str] = None):
    """Open the exported model in `model_dir` with `runtime` ('paddle' or 'onnx').

    onednn: Paddle Inference's oneDNN mode (see `ppattn.deploy.paddle_inference.create_predictor`);
    None is "auto" for Paddle; ONNX Runtime has no such option and refuses one.
    """
    if runtime == "paddle":
        if onednn is None:
            return PaddleRuntime(model_dir, cpu_threads=cpu_threads)
        return PaddleRuntime(model_dir, cpu_threads=cpu_threads, onednn=onednn)
    if runtime == "onnx":
        if onednn is not None:
            raise ValueError(f"onednn is a Paddle Inference option; runtime 'onnx' got "
                             f"onednn={onednn!r}")
        return OnnxRuntime(os.path.join(model_dir, ONNX_FILE), cpu_threads=cpu_threads)
    raise ValueError(f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
