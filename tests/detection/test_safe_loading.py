"""ppattn.detection.safe_loading: configs and weights files load without running code; ppdet's
component tags and real checkpoints still load."""
import os
import pickle
import subprocess
import sys

import numpy as np
import paddle
import pytest
from ppdet.core import workspace

from ppattn.data import make_shapes_dataset
from ppattn.detection.safe_loading import UnsafeFileError, check_weights_file
from ppattn.engine import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes.yml")
# its optimizer base writes schedulers with ppdet's tags: !PiecewiseDecay, !LinearWarmup
FASTER_RCNN = os.path.join(ROOT, "configs/faster_rcnn/faster_rcnn_r50_vd_fpn_1x_coco.yml")


class _Touch:
    """Unpickling this creates the file named by `path`: what a crafted weights file does."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_config_tag_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    config = tmp_path / "evil.yml"
    config.write_text(f"_BASE_: ['{DEMO}']\n"
                      f"epoch: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(UnsafeFileError, match=r"evil.yml.*python/object/apply:os.system"):
        load_config(str(config))
    assert not marker.exists()


def test_a_base_file_with_such_a_tag_is_refused_too(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "base.yml").write_text(
        f"x: !!python/object/apply:os.system ['touch {marker}']\n")
    leaf = tmp_path / "leaf.yml"
    leaf.write_text("_BASE_: ['base.yml']\nepoch: 1\n")
    with pytest.raises(UnsafeFileError, match="base.yml"):
        load_config(str(leaf))
    assert not marker.exists()


def test_ppdet_component_tags_still_build_their_objects():
    schedulers = load_config(FASTER_RCNN)["LearningRate"]["schedulers"]
    assert [type(s).__name__ for s in schedulers] == ["PiecewiseDecay", "LinearWarmup"]


def test_an_empty_config_is_named(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.yml' is empty"):
        workspace.load_config(str(empty))


def test_a_missing_base_file_is_named(tmp_path):
    leaf = tmp_path / "leaf.yml"
    leaf.write_text("_BASE_: ['nowhere.yml']\n")
    with pytest.raises(FileNotFoundError, match="_BASE_ file .*nowhere.yml"):
        workspace.load_config(str(leaf))


@pytest.mark.parametrize("suffix", [".pdparams", ".pdopt", ".pdema"])
def test_a_weights_file_that_would_run_code_is_refused(tmp_path, suffix):
    marker = tmp_path / "ran"
    weights = tmp_path / ("evil" + suffix)
    with open(weights, "wb") as f:
        pickle.dump({"conv.weight": _Touch(str(marker))}, f, protocol=4)
    with pytest.raises(UnsafeFileError, match=r"evil\.pd.*asks to load io\.open"):
        paddle.load(str(weights))
    assert not marker.exists()


def test_real_checkpoints_still_load(tmp_path):
    model = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.BatchNorm2D(4))
    scheduler = paddle.optimizer.lr.CosineAnnealingDecay(0.1, 10)
    optimizer = paddle.optimizer.AdamW(learning_rate=scheduler, parameters=model.parameters())
    model(paddle.randn([1, 3, 8, 8])).mean().backward()
    optimizer.step()
    state = {**optimizer.state_dict(), "last_epoch": 3}
    paddle.save(model.state_dict(), str(tmp_path / "m.pdparams"))
    paddle.save(state, str(tmp_path / "m.pdopt"))
    loaded = paddle.load(str(tmp_path / "m.pdparams"))
    np.testing.assert_array_equal(loaded["0.weight"].numpy(), model[0].weight.numpy())
    assert paddle.load(str(tmp_path / "m.pdopt"))["last_epoch"] == 3


def test_a_truncated_file_is_left_to_paddles_own_error(tmp_path):
    path = tmp_path / "cut.pdparams"
    paddle.save({"w": paddle.ones([1000])}, str(path))
    path.write_bytes(path.read_bytes()[:100])
    check_weights_file(str(path))            # not refused: nothing unsafe was read
    with pytest.raises(Exception):
        paddle.load(str(path))


def test_the_eval_tool_refuses_crafted_weights_with_one_line(tmp_path):
    marker = tmp_path / "ran"
    weights = tmp_path / "evil.pdparams"
    with open(weights, "wb") as f:
        pickle.dump({"conv.weight": _Touch(str(marker))}, f, protocol=4)
    make_shapes_dataset(str(tmp_path / "data"), num_train=1, num_val=1, num_test=1, size=96)
    tool = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools/eval.py"), "-c", DEMO, "-o",
         f"weights={weights}", f"EvalDataset.dataset_dir={tmp_path / 'data'}"],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert tool.returncode == 1 and "Traceback" not in tool.stderr, tool.stderr[-3000:]
    assert "asks to load io.open" in tool.stderr
    assert not marker.exists()
