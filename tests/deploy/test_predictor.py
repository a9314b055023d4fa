"""ppattn.deploy.predictor: ppdet's preprocessing from infer_cfg.yml, and detections from the
exported model in either runtime that match the dygraph model's."""
import cv2
import numpy as np
import paddle
import pytest
from ppdet.data.transform.operators import Decode, NormalizeImage, Permute, Resize

from ppattn.deploy import DeployPredictor, convert_to_onnx, preprocess, read_infer_cfg, \
    sort_detections

from detectors import HAVE_ONNX

# Detections of the exported model against the dygraph model, both float32:
# max |diff| / max |dygraph value|, per column group.
RTOL = 1e-4
STEPS = [{"type": "Resize", "target_size": [160, 160], "keep_ratio": False, "interp": 2},
         {"type": "NormalizeImage", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
          "is_scale": True},
         {"type": "Permute"}]
RUNTIMES = ["paddle", pytest.param("onnx", marks=pytest.mark.skipif(
    not HAVE_ONNX, reason="paddle2onnx, onnx and onnxruntime are not installed: "
                          "pip install ppattn[export]"))]


def _ppdet_reader(path: str, steps):
    """The dygraph TestReader's sample transforms, built from infer_cfg.yml's steps."""
    ops = {"Resize": Resize, "NormalizeImage": NormalizeImage, "Permute": Permute}
    sample = {"im_file": path}
    for op in [Decode()] + [ops[s["type"]](**{k: v for k, v in s.items() if k != "type"})
                            for s in steps]:
        sample = op(sample)
    return sample


def _read_rgb(path: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)


def _test_image(shapes_data) -> str:
    return str(shapes_data / "test" / "test_0000.jpg")


@pytest.mark.parametrize("keep_ratio", [False, True])
def test_preprocess_gives_ppdet_readers_inputs(shapes_data, keep_ratio):
    path = _test_image(shapes_data)
    steps = [dict(STEPS[0], keep_ratio=keep_ratio, target_size=[160, 200])] + STEPS[1:]
    want = _ppdet_reader(path, steps)
    got = preprocess(_read_rgb(path), steps)
    np.testing.assert_array_equal(got["image"][0], want["image"])
    np.testing.assert_array_equal(got["im_shape"][0], want["im_shape"])
    np.testing.assert_array_equal(got["scale_factor"][0], want["scale_factor"])


def test_preprocess_names_an_unsupported_step():
    with pytest.raises(ValueError, match="'Mosaic' is not supported; supported: Normalize"):
        preprocess(np.zeros((8, 8, 3), np.uint8), [{"type": "Mosaic"}])


def test_resize_without_keep_ratio_gives_per_axis_scale_factor():
    steps = [{"type": "Resize", "target_size": [4, 6], "keep_ratio": False, "interp": 1}]
    inputs = preprocess(np.zeros((2, 3, 3), np.uint8), steps + [{"type": "Permute"}])
    assert inputs["image"].shape == (1, 3, 4, 6)
    np.testing.assert_allclose(inputs["scale_factor"], [[2.0, 2.0]])
    np.testing.assert_allclose(inputs["im_shape"], [[4.0, 6.0]])


def test_normalize_scales_then_standardises():
    steps = [{"type": "NormalizeImage", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
              "is_scale": True}, {"type": "Permute"}]
    inputs = preprocess(np.full((2, 2, 3), 255, np.uint8), steps)
    np.testing.assert_allclose(inputs["image"], np.full((1, 3, 2, 2), 2.0))   # (1 - .5) / .25


def test_keep_ratio_resize_fits_short_and_long_sides_and_pads_to_stride():
    steps = [{"type": "Resize", "target_size": [8, 12], "keep_ratio": True, "interp": 1},
             {"type": "Permute"}, {"type": "PadStride", "stride": 5}]
    inputs = preprocess(np.zeros((4, 10, 3), np.uint8), steps)
    # scale = min(8 / 4, 12 / 10) = 1.2 -> 5 x 12, padded to 5 x 15
    np.testing.assert_allclose(inputs["scale_factor"], [[1.2, 1.2]])
    assert inputs["image"].shape == (1, 3, 5, 15)


def test_sort_detections_breaks_score_ties_by_the_other_columns():
    rows = np.array([[1, 0.5, 0, 0, 4, 4], [0, 0.9, 1, 1, 2, 2], [0, 0.5, 0, 0, 4, 4],
                     [1, 0.5, 0, 0, 3, 3]], np.float32)
    want = rows[[1, 2, 3, 0]]
    np.testing.assert_array_equal(sort_detections(rows), want)
    np.testing.assert_array_equal(sort_detections(rows[::-1]), want)


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.mark.paddle_inference
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_predictor_matches_the_dygraph_model(exported, shapes_data, runtime):
    trainer, model_dir = exported("eca")
    if runtime == "onnx":
        convert_to_onnx(model_dir)
    path = _test_image(shapes_data)
    sample = _ppdet_reader(path, read_infer_cfg(model_dir)["Preprocess"])
    inputs = {k: paddle.to_tensor(np.asarray(sample[k])[None])
              for k in ("image", "im_shape", "scale_factor")}
    with paddle.no_grad():
        want = sort_detections(trainer.model(inputs)["bbox"].numpy())
    predictor = DeployPredictor(model_dir, runtime)
    assert predictor.labels == ["ellipse", "rectangle", "triangle"]
    got = predictor.predict(_read_rgb(path))
    assert got.shape == want.shape == (50, 6)
    np.testing.assert_array_equal(got[:, 0], want[:, 0])
    for what, cols in (("scores", slice(1, 2)), ("boxes", slice(2, 6))):
        err = _relative_error(got[:, cols], want[:, cols])
        print(f"{runtime} vs dygraph, {what}: relative error {err:.2e}")
        assert err < RTOL, f"{what}: relative error {err:.2e} >= {RTOL:.0e}"


def test_predictor_names_an_unknown_runtime(exported):
    _, model_dir = exported("eca")
    with pytest.raises(ValueError, match="unknown runtime 'tensorrt'; known: paddle, onnx"):
        DeployPredictor(model_dir, "tensorrt")


def test_predictor_needs_infer_cfg(tmp_path):
    with pytest.raises(FileNotFoundError, match="infer_cfg.yml"):
        DeployPredictor(str(tmp_path))


def test_predict_refuses_a_model_exported_without_nms(exported, shapes_data):
    _, model_dir = exported("eca", "exclude_nms=True")
    predictor = DeployPredictor(model_dir)
    with pytest.raises(ValueError, match="exclude_nms=True use run"):
        predictor.predict(_read_rgb(_test_image(shapes_data)))
    boxes, scores = predictor.run(predictor.inputs(_read_rgb(_test_image(shapes_data))))
    assert boxes.shape[::2] == (1, 4) and scores.shape[:2] == (1, 3)
