"""Convert an exported Paddle model (model.json + model.pdiparams) to ONNX with paddle2onnx.

Two traps of paddle2onnx 2.1.0 under Paddle 3.3.1, and what this module does about them:

1. Converting a PIR graph with `F.interpolate` (every PP-YOLOE and FPN neck) fails with
   ``the 0th elementwise MUST be ir::FloatAttribute``: Paddle stores the `scale` attribute of
   `*_interp` ops as float64 elements and paddle2onnx's PIR parser accepts only float32 ones.
   We convert from a temporary copy of the graph in which those elements are float32. The
   original is never edited, because Paddle itself rejects the edited copy and Paddle Inference
   still needs the original.
2. paddle2onnx's default optimizer (polygraphy, also the default of its command line) sets
   POLYGRAPHY_AUTOINSTALL_DEPS=1 and pip-installs packages while converting; that upgraded
   numpy to 2.x and broke paddledet (needs numpy<1.24). We call the converter with the optimizer
   off, and restore POLYGRAPHY_AUTOINSTALL_DEPS in case anything set it. onnxruntime does its own
   graph optimisation when it loads the model.

Two ways it fails silently or hard, and what this module does about them:

3. Faster R-CNN's and EPSANet-FPN's graphs hold `generate_proposals`,
   `distribute_fpn_proposals` and `roi_align`, which paddle2onnx 2.1.0 cannot convert: it aborts
   the process (SIGABRT) without naming them. `convert_to_onnx` looks for them first and
   refuses, naming the operators.
4. A truncated `model.pdiparams` converts "successfully" into an ONNX file without the missing
   weights, which ONNX Runtime then rejects. `convert_to_onnx` loads the Paddle model before
   converting, checks the result with `onnx.checker` and runs it once in ONNX Runtime; a file
   that fails is deleted, never reported as written.
"""
import contextlib
import importlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from typing import Dict, Iterator

import numpy as np

from .paddle_inference import create_predictor

ONNX_FILE = "model.onnx"
DEFAULT_OPSET = 11
# paddle2onnx 2.1.0's names for its optimisers; "None" (a string) writes the graph as converted
_NO_OPTIMIZER = "None"
_AUTOINSTALL = "POLYGRAPHY_AUTOINSTALL_DEPS"
# operators of ppdet's two-stage detectors that paddle2onnx 2.1.0 cannot convert (it aborts)
UNCONVERTIBLE_OPERATORS = ("generate_proposals", "distribute_fpn_proposals", "roi_align")


def require(module: str):
    """Import an optional deployment dependency or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{module} is needed for ONNX export and checks; install it with "
                          f"`pip install ppattn[export]` ({error})") from error


def float32_interp_scales(graph: dict) -> int:
    """Rewrite, in place, the float64 `scale` elements of every `*_interp` op of a PIR JSON
    graph as float32. Returns how many elements changed."""
    changed = 0

    def visit(node) -> None:
        nonlocal changed
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        if str(node.get("#", "")).endswith("_interp"):
            for attribute in node.get("A", []):
                value = attribute.get("AT", {})
                if attribute.get("N") == "scale" and value.get("#") == "0.a_array":
                    for element in value["D"]:
                        if element.get("#") == "0.a_f64":
                            element["#"] = "0.a_f32"
                            changed += 1
        for item in node.values():
            visit(item)

    visit(graph)
    return changed


def _model_files(model_dir: str):
    graph, params = (os.path.join(model_dir, "model" + ext) for ext in (".json", ".pdiparams"))
    for path in (graph, params):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no {path!r}; export the model first with "
                                    f"tools/export_model.py (Paddle 3 writes model.json and "
                                    f"model.pdiparams)")
    return graph, params


def graph_operators(graph: dict) -> set:
    """Names of the operators in a PIR JSON graph (`pd_op.conv2d` is stored as `1.conv2d`)."""
    return set(re.findall(r'"#":\s*"1\.([A-Za-z0-9_]+)"', json.dumps(graph)))


def check_convertible(graph: dict, graph_file: str) -> None:
    """Raise a RuntimeError naming the operators of `graph` that paddle2onnx cannot convert."""
    found = sorted(graph_operators(graph) & set(UNCONVERTIBLE_OPERATORS))
    if found:
        raise RuntimeError(f"{graph_file!r} holds {', '.join(found)}, which paddle2onnx cannot "
                           f"convert (two-stage detectors such as Faster R-CNN); deploy this "
                           f"model with Paddle Inference (tools/infer.py --model_dir) instead")


def check_paddle_model(model_dir: str) -> None:
    """Load the exported model in Paddle Inference; a RuntimeError names an unreadable file."""
    try:
        create_predictor(os.path.join(model_dir, "model"), onednn="off")
    except (RuntimeError, ValueError) as error:
        reason = " ".join(str(error).split())[-300:]
        raise RuntimeError(f"Paddle cannot load the exported model in {model_dir!r} "
                           f"(model.pdiparams truncated or not written with this model.json?): "
                           f"{reason}; export it again with tools/export_model.py") from error


def check_onnx_file(onnx_file: str, model_dir: str) -> None:
    """Check `onnx_file` with onnx.checker and one ONNX Runtime run on sample inputs; delete
    it and raise a RuntimeError naming the problem if either fails."""
    onnx = require("onnx")
    # both import this module (for ONNX_FILE and require): import them here, not at the top
    from .compare import sample_inputs
    from .runtimes import OnnxRuntime
    try:
        onnx.checker.check_model(onnx_file, full_check=True)
        OnnxRuntime(onnx_file).run(sample_inputs(model_dir))
    except Exception as error:   # onnx and onnxruntime raise their own exception types
        os.remove(onnx_file)
        reason = " ".join(str(error).split())[:300]
        raise RuntimeError(f"the converted ONNX model does not run ({reason}); nothing was "
                           f"written. Check {model_dir!r} with tools/infer.py --model_dir, "
                           f"then convert again") from error


@contextlib.contextmanager
def _no_autoinstall() -> Iterator[None]:
    before = os.environ.pop(_AUTOINSTALL, None)
    try:
        yield
    finally:
        os.environ.pop(_AUTOINSTALL, None)
        if before is not None:
            os.environ[_AUTOINSTALL] = before


def decompose_hardsigmoid(onnx_bytes: bytes) -> bytes:
    """Replace every HardSigmoid(x; alpha, beta) by Clip(x * alpha + beta, 0, 1).

    ESE's gate is Paddle's hardsigmoid (alpha 1/6, beta 0.5), which paddle2onnx writes as an
    ONNX HardSigmoid. ONNX Runtime and TensorRT run it; for a consumer that lacks it, Mul, Add
    and Clip (min and max as inputs, opset 11) compute the same values.
    """
    onnx = require("onnx")
    from onnx import helper, numpy_helper
    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    nodes = []
    for i, node in enumerate(graph.node):
        if node.op_type != "HardSigmoid":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        names = [f"ppattn_hardsigmoid_{i}_{k}" for k in ("alpha", "beta", "lo", "hi", "ax", "axb")]
        for name, value in zip(names, (attrs.get("alpha", 0.2), attrs.get("beta", 0.5), 0., 1.)):
            graph.initializer.append(numpy_helper.from_array(np.array(value, np.float32), name))
        nodes += [helper.make_node("Mul", [node.input[0], names[0]], [names[4]]),
                  helper.make_node("Add", [names[4], names[1]], [names[5]]),
                  helper.make_node("Clip", [names[5], names[2], names[3]], list(node.output))]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def convert_to_onnx(model_dir: str, save_file: str = "", opset_version: int = DEFAULT_OPSET,
                    keep_hardsigmoid: bool = True) -> str:
    """Write `model_dir`'s Paddle model as ONNX to `save_file` (default model_dir/model.onnx).

    Returns the path written. The ONNX model has the Paddle model's inputs and outputs, in the
    same order and with the same names as Paddle Inference lists them. With
    `keep_hardsigmoid=False` HardSigmoid nodes are decomposed (see `decompose_hardsigmoid`).
    The model is loaded in Paddle first and the result is checked and run once (see the module
    docstring); a RuntimeError names any failure.
    """
    paddle2onnx = require("paddle2onnx")
    graph_file, params_file = _model_files(model_dir)
    save_file = save_file or os.path.join(model_dir, ONNX_FILE)
    with open(graph_file, encoding="utf-8") as f:
        graph = json.load(f)
    check_convertible(graph, graph_file)
    check_paddle_model(model_dir)
    float32_interp_scales(graph)
    work = tempfile.mkdtemp(prefix="ppattn_onnx_")
    try:
        copy = os.path.join(work, "model.json")
        with open(copy, "w", encoding="utf-8") as f:
            json.dump(graph, f)
        with _no_autoinstall():
            try:
                onnx_bytes = paddle2onnx.export(copy, params_file, save_file=None,
                                                opset_version=opset_version,
                                                enable_onnx_checker=True,
                                                optimize_tool=_NO_OPTIMIZER)
            except SystemExit:
                # paddle2onnx logs the converter's error and then calls sys.exit(-1)
                onnx_bytes = None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not onnx_bytes:
        raise RuntimeError(f"paddle2onnx could not convert {graph_file!r} "
                           f"(opset {opset_version}); its error is logged above")
    if not keep_hardsigmoid:
        onnx_bytes = decompose_hardsigmoid(onnx_bytes)
    os.makedirs(os.path.dirname(os.path.abspath(save_file)), exist_ok=True)
    with open(save_file, "wb") as f:
        f.write(onnx_bytes)
    check_onnx_file(save_file, model_dir)
    return save_file


def onnx_operators(onnx_file: str) -> Dict[str, int]:
    """Count the ONNX operator types of a model's main graph, sorted by name."""
    onnx = require("onnx")
    counts = Counter(node.op_type for node in onnx.load(onnx_file).graph.node)
    return dict(sorted(counts.items()))
