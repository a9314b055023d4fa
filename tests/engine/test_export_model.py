"""ppattn.engine.export: Paddle 3 export of a ppdet detector, and Paddle Inference on it giving
the dygraph model's boxes."""
import os

import numpy as np
import paddle
import pytest
from ppdet.engine import Trainer
from ppdet.modeling import ops

from ppattn.deploy import DeployPredictor, onednn_mode_of, preprocess, sort_detections
from ppattn.detection.patching import original
from ppattn.engine import ExportMismatchError, export_model, load_config, parse_overrides, \
    select_device, verify_export
from ppattn.engine import export as export_module
from ppattn.engine.predict import read_rgb

from tiny_runs import DEMO, NAME, tiny_options


def test_nms_patch_keeps_dygraph_results():
    bboxes = paddle.to_tensor([[[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]]])
    scores = paddle.to_tensor([[[0.9, 0.8, 0.7]]])
    want = original("multiclass_nms")(bboxes, scores, 0.1, 10, 10, 0.5)[0].numpy()
    np.testing.assert_array_equal(ops.multiclass_nms(bboxes, scores, 0.1, 10, 10, 0.5)[0].numpy(),
                                  want)
    assert want.shape == (2, 6)   # the 0.81-IoU duplicate is suppressed


def _random_trainer(tiny_data) -> Trainer:
    """A randomly initialised demo model whose scores are distinct."""
    paddle.seed(0)
    # score_threshold 0 keeps every box, so no box sits at the edge of the threshold
    cfg = load_config(DEMO, parse_overrides(tiny_options(tiny_data, "weights=unused")[1:] + [
        "PPYOLOEHead.nms.score_threshold=0.0", "PPYOLOEHead.nms.keep_top_k=50"]))
    select_device(cfg)
    trainer = Trainer(cfg, mode="test")
    # a fresh head scores every box at its 0.01 prior; random class weights make scores distinct
    for name, param in trainer.model.named_parameters():
        if "pred_cls" in name:
            param.set_value(paddle.randn(param.shape) * 0.05)
    return trainer


@pytest.fixture(scope="module")
def exported(tiny_data, tmp_path_factory):
    """A randomly initialised demo model, exported (ppdet's deploy mode makes this one-way)."""
    trainer = _random_trainer(tiny_data)
    model_dir = export_model(trainer, str(tmp_path_factory.mktemp("export")))
    return trainer, model_dir


def test_export_writes_paddle3_format_named_after_the_config(exported):
    _, model_dir = exported
    assert os.path.basename(model_dir) == NAME
    assert sorted(os.listdir(model_dir)) == ["infer_cfg.yml", "model.json", "model.pdiparams"]


@pytest.mark.paddle_inference
def test_paddle_inference_matches_dygraph_boxes(exported, tiny_data):
    trainer, model_dir = exported
    detector = DeployPredictor(model_dir)
    assert detector.labels == ["ellipse", "rectangle", "triangle"]
    assert detector.runtime.input_names == ["image", "scale_factor"]   # im_shape pruned
    image = read_rgb(str(tiny_data / "test" / "test_0000.jpg"))
    got = detector.predict(image)
    inputs = preprocess(image, detector.preprocess_steps)
    inputs = {name: paddle.to_tensor(value) for name, value in inputs.items()}
    trainer.model.eval()
    with paddle.no_grad():
        want = trainer.model(inputs)["bbox"].numpy()
    want = sort_detections(want)
    assert got.shape == want.shape == (50, 6)
    np.testing.assert_allclose(got[:10], want[:10], rtol=1e-4, atol=1e-3)


@pytest.mark.paddle_inference
@pytest.mark.parametrize("onednn", ["placed", "fused"])
def test_onednn_modes_give_the_boxes_of_onednn_off(onednn, exported, tiny_data):
    _, model_dir = exported
    assert onednn_mode_of(model_dir) == "placed"     # the export holds no interpolate
    image = read_rgb(str(tiny_data / "test" / "test_0001.jpg"))
    want = DeployPredictor(model_dir, onednn="off").predict(image)
    got = DeployPredictor(model_dir, onednn=onednn).predict(image)
    np.testing.assert_allclose(got[:10], want[:10], rtol=1e-4, atol=1e-3)


@pytest.mark.paddle_inference
def test_export_verifies_paddle_inference_against_dygraph(exported):
    trainer, model_dir = exported
    result = verify_export(trainer.model, model_dir)
    assert result.passed, result.summary()
    assert result.differences["matched"] == 50          # keep_top_k: every box compared
    assert result.differences["scores"] < 1e-4


class _WrongRuntime:
    """Paddle Inference whose scores drift, as the AVX-512 matmul fault made them."""

    def __init__(self, runtime):
        self.runtime = runtime

    def run(self, feeds):
        boxes, counts = self.runtime.run(feeds)
        boxes = boxes.copy()
        boxes[::3, 1] += 0.3
        return [boxes, counts]


def test_export_fails_loudly_when_the_runtime_disagrees(tiny_data, monkeypatch, tmp_path):
    real_open = export_module.open_runtime
    monkeypatch.setattr(export_module, "open_runtime",
                        lambda *args, **kwargs: _WrongRuntime(real_open(*args, **kwargs)))
    with pytest.raises(ExportMismatchError, match=r"FAIL: scores .* mismatched [1-9]"):
        export_model(_random_trainer(tiny_data), str(tmp_path))
