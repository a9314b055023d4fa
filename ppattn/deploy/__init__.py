"""Deployment of exported models, without ppdet. One job a module:

- `paddle_inference`: a Paddle Inference predictor for a saved model, with ppattn's oneDNN modes;
- `runtimes`: Paddle Inference and ONNX Runtime behind one `run(feeds)` interface;
- `predictor`: an exported detector folder as a detector: infer_cfg.yml's preprocessing, a
  runtime, sorted detections (`DeployPredictor`);
- `onnx_export`: paddle2onnx conversion, checked and run once;
- `compare`: whether two runs of one detector agree (matching detections, PASS/FAIL);
- `latency`: median run times of the runtimes;
- `upsampling`: nearest upsampling traced without `interpolate`, so oneDNN can place the graph.

(`ppattn.engine.predict` is the other side: the dygraph model through ppdet's Trainer.)
ONNX needs the `export` extra (paddle2onnx, onnx, onnxruntime).

    python tools/export_model.py -c CONFIG -o weights=W --output_dir out   # Paddle Inference
    python tools/export_onnx.py --model_dir out/NAME --check --latency     # + out/NAME/model.onnx

Batch size: ppdet's NMS (multiclass_nms3) converts to a batch-size-1 ONNX model. Export with
`-o exclude_nms=True` for batched deployment: the outputs are boxes [N, A, 4] (x1, y1, x2, y2
in the original image's pixels) and scores [N, classes, A], and NMS is the consumer's job.

ONNX operators each block adds to the graph (opset 11, paddle2onnx 2.1.0), beyond those of the
detector without attention (Conv, BatchNormalization, Sigmoid + Mul for swish, Unsqueeze +
Expand + Reshape for the neck's upsampling, MaxPool, Softmax, NonMaxSuppression, ...). Conv
biases become Reshape + Add; the FCs on pooled vectors are Transpose (of the weight) + MatMul +
Add.

    block            operators
    se               GlobalAveragePool, Reshape, Transpose, MatMul, Add, Relu, Sigmoid, Mul
    ese              GlobalAveragePool, Reshape, Transpose, MatMul, Add,
                     HardSigmoid (alpha 1/6, beta 0.5), Mul
    eca              GlobalAveragePool, Reshape, Unsqueeze, Conv (the 1-D conv), Sigmoid, Mul
    ge (extent 0)    as se
    ge (extent > 0)  AveragePool, Conv, Relu, Sigmoid, Resize (nearest, size from Shape/Slice/
                     Cast/Concat), Mul
    psa              Conv (grouped, kernels 3/5/7/9), Concat, Reshape, Transpose, Split, Slice,
                     Shape, Unsqueeze, GlobalAveragePool, MatMul, Add, Relu, Sigmoid, Softmax,
                     Mul

HardSigmoid is standard ONNX (opset 6) and runs in ONNX Runtime and TensorRT; for a consumer
without it, `convert_to_onnx(..., keep_hardsigmoid=False)` (`--no_hardsigmoid`) writes it as
Mul, Add and Clip.
"""
from .compare import Comparison, compare_outputs, compare_runtimes, has_nms, match_detections, \
    sample_inputs
from .latency import CPU_CONFIGS, latency_table, median_latency_ms, run_times_ms
from .onnx_export import convert_to_onnx, decompose_hardsigmoid, float32_interp_scales, \
    onnx_operators, require
from .paddle_inference import ONEDNN_MODES, onednn_mode_of
from .predictor import DeployPredictor, preprocess, read_infer_cfg, sort_detections
from .runtimes import RUNTIMES, OnnxRuntime, PaddleRuntime, open_runtime
from .upsampling import interpolate_free_upsampling

__all__ = ["CPU_CONFIGS", "Comparison", "DeployPredictor", "ONEDNN_MODES", "OnnxRuntime",
           "PaddleRuntime",
           "RUNTIMES", "compare_outputs", "compare_runtimes", "convert_to_onnx",
           "decompose_hardsigmoid", "float32_interp_scales", "has_nms",
           "interpolate_free_upsampling", "latency_table",
           "match_detections", "median_latency_ms", "onednn_mode_of", "onnx_operators", "open_runtime",
           "preprocess",
           "read_infer_cfg", "require", "run_times_ms", "sample_inputs", "sort_detections"]
