"""ppattn.engine.weights and the tools that evaluate, export or run trained weights: weights that
leave a parameter of the model without a value of its shape are an error naming it."""
import logging
from types import SimpleNamespace

import numpy as np
import paddle
import pytest
from ppdet.core.workspace import create

from ppattn.engine import CheckpointError, ConfigError, WeightsMismatchError, check_num_classes, \
    check_weights_fit, load_config, load_weights_strictly, parse_overrides
from ppattn.engine import checks

from tiny_runs import DEMO, TOOLS, run_failing_tool, tiny_options

ECA_PARAM = "backbone.stages.0.attn.conv.weight"   # ECA's 1-D conv, which SE does not have


def _demo_model(*options):
    cfg = load_config(DEMO, parse_overrides(list(options)))
    return create(cfg.architecture)


def _saved(tmp_path, model, name="model_final"):
    path = str(tmp_path / name)
    paddle.save(model.state_dict(), path + ".pdparams")
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """The demo detector's weights as trained with SE, with 2 classes, and as configured."""
    out = tmp_path_factory.mktemp("weights")
    return {"se": _saved(out, _demo_model("AttnCSPResNet.attn=se"), "se"),
            "two": _saved(out, _demo_model("num_classes=2"), "two"),
            "same": _saved(out, _demo_model(), "same")}


def test_weights_of_the_same_config_load_every_parameter(checkpoints):
    model = _demo_model()
    report = load_weights_strictly(model, checkpoints["same"])
    assert not report.newly_initialized and not report.unused
    saved = paddle.load(checkpoints["same"] + ".pdparams")
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[key].numpy(), err_msg=key)


def test_se_weights_in_the_eca_config_name_the_eca_parameters(checkpoints):
    model = _demo_model()
    before = model.state_dict()[ECA_PARAM].numpy().copy()
    with pytest.raises(WeightsMismatchError) as error:
        load_weights_strictly(model, checkpoints["se"])
    message = str(error.value)
    assert "se.pdparams" in message and "do not fit this model" in message
    assert "4 not in the checkpoint" in message and ECA_PARAM in message
    assert "backbone.stages.0.attn.fc1.weight" in message     # SE's, unused
    np.testing.assert_array_equal(model.state_dict()[ECA_PARAM].numpy(), before)  # untouched


def test_two_class_weights_in_a_three_class_config_name_the_classifier(checkpoints):
    with pytest.raises(WeightsMismatchError) as error:
        load_weights_strictly(_demo_model(), checkpoints["two"] + ".pdparams")
    message = str(error.value)
    assert "of another shape" in message
    assert "yolo_head.pred_cls.0.weight [3, " in message and "vs checkpoint [2, " in message


def test_resume_check_refuses_a_snapshot_of_another_shape_and_loads_nothing(checkpoints):
    model = _demo_model()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsMismatchError, match="yolo_head.pred_cls.0.bias"):
        check_weights_fit(model, checkpoints["two"])
    assert check_weights_fit(model, checkpoints["same"]).loaded
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)


def test_truncated_weights_name_the_file(tmp_path, checkpoints):
    data = open(checkpoints["same"] + ".pdparams", "rb").read()
    (tmp_path / "cut.pdparams").write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut.pdparams' \(\d+ bytes\) cannot be read"):
        load_weights_strictly(_demo_model(), str(tmp_path / "cut"))


@pytest.mark.parametrize("weights", [None, "", "no/such/model_final"])
def test_missing_weights_are_named(weights):
    with pytest.raises(CheckpointError, match="no trained weights given|does not exist"):
        load_weights_strictly(_demo_model(), weights)


def _dataset(*names):
    return SimpleNamespace(cname2cid={n: i for i, n in enumerate(names)},
                           get_anno=lambda: "annotations/train.json")


def test_fewer_classes_than_the_dataset_has_is_an_error_naming_both_numbers():
    with pytest.raises(ConfigError, match=r"num_classes is 2, but TrainDataset "
                                          r"\(annotations/train.json\) has 3 categories"):
        check_num_classes({"num_classes": 2}, _dataset("a", "b", "c"), "TrainDataset")


def test_more_classes_than_the_dataset_has_is_a_warning():
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    checks.logger.addHandler(handler)
    try:
        check_num_classes({"num_classes": 5}, _dataset("a", "b", "c"), "TrainDataset")
        check_num_classes({"num_classes": 3}, _dataset("a", "b", "c"), "TrainDataset")
    finally:
        checks.logger.removeHandler(handler)
    assert lines == ["num_classes is 5, but TrainDataset (annotations/train.json) has only 3 "
                     "categories; the other 2 classes are never trained"]


def test_parsed_dataset_has_the_categories_of_its_annotations(tiny_data):
    load_config(DEMO, parse_overrides(tiny_options(tiny_data)[1:]))
    dataset = checks.parsed_dataset("EvalDataset")
    assert sorted(dataset.cname2cid) == ["ellipse", "rectangle", "triangle"]
    with pytest.raises(ConfigError, match=r"num_classes is 2, but EvalDataset \(.*val.json\) "
                                          r"has 3 categories"):
        check_num_classes({"num_classes": 2}, dataset, "EvalDataset")


def test_eval_tool_refuses_se_weights_in_the_eca_config(tiny_data, checkpoints, tmp_path):
    result = run_failing_tool([f"{TOOLS}/eval.py", "-c", DEMO, "--output_eval",
                               str(tmp_path / "eval"),
                               *tiny_options(tiny_data, f"weights={checkpoints['se']}")],
                              str(tmp_path))
    assert f"error: weights '{checkpoints['se']}.pdparams' do not fit" in result.stderr
    assert ECA_PARAM in result.stderr
    assert not (tmp_path / "eval" / "eval_metrics.json").exists()


def test_dygraph_infer_tool_refuses_two_class_weights(tiny_data, checkpoints, tmp_path):
    result = run_failing_tool([f"{TOOLS}/infer.py", "-c", DEMO, "--infer_dir",
                               str(tiny_data / "test"), "--output_dir", str(tmp_path / "pics"),
                               *tiny_options(tiny_data, f"weights={checkpoints['two']}")],
                              str(tmp_path))
    assert "yolo_head.pred_cls.0.weight [3, " in result.stderr
    assert not (tmp_path / "pics").exists()


def test_train_tool_refuses_fewer_classes_than_the_annotations(tiny_data, tmp_path):
    result = run_failing_tool([f"{TOOLS}/train.py", "-c", DEMO, "--output_dir",
                               str(tmp_path / "out"), *tiny_options(tiny_data, "num_classes=2")],
                              str(tmp_path))
    assert "num_classes is 2, but TrainDataset" in result.stderr
    assert "has 3 categories: ellipse, rectangle, triangle" in result.stderr
    assert "Epoch: [0]" not in result.stderr + result.stdout
