"""The whole workflow at tiny scale through the tools: train -> eval -> export -> Paddle
Inference; then resuming from a checkpoint."""
import json
import os
import shutil

import numpy as np
import paddle
import pytest
from ppdet.engine import Trainer

from ppattn.engine import load_config, parse_overrides, select_device

from tiny_runs import DEMO, NAME, TOOLS, run_tool, tiny_options


# 8 steps leave the head's scores near the 0.01 threshold, on either side depending on the CPU
KEEP_EVERY_SCORE = "PPYOLOEHead.nms.score_threshold=0.0"


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """Two epochs of 4 steps with evaluation, a checkpoint after each."""
    out = tmp_path_factory.mktemp("train")
    result = run_tool([f"{TOOLS}/train.py", "-c", DEMO, "--eval", "--output_dir", str(out),
                       *tiny_options(tiny_data, "epoch=2", KEEP_EVERY_SCORE)], cwd=str(out))
    return {"data": tiny_data, "out": out, "dir": out / NAME, "log": result.stderr + result.stdout}


def test_training_logs_progress_and_writes_checkpoints_and_metrics(trained):
    log = trained["log"]
    for field in ("Epoch: [1] [3/4]", "eta: ", "loss: ", "loss_cls: ", "ips: "):
        assert field in log, f"{field!r} not in the training log"
    for name in ("0.pdparams", "0.pdopt", "0.pdema", "model_final.pdparams", "metrics.json"):
        assert (trained["dir"] / name).is_file(), name
    metrics = json.load(open(trained["dir"] / "metrics.json"))
    assert [m["epoch"] for m in metrics] == [0, 1]
    assert set(metrics[-1]["bbox"]) >= {"AP", "AP50"}


def test_eval_export_and_paddle_inference(trained, tmp_path):
    weights = str(trained["dir"] / "model_final")
    data = trained["data"]
    history = json.load(open(trained["dir"] / "metrics.json"))
    result = run_tool([f"{TOOLS}/eval.py", "-c", DEMO,
                       *tiny_options(data, f"weights={weights}", KEEP_EVERY_SCORE)],
                      cwd=str(tmp_path))
    assert "Average Precision  (AP) @[ IoU=0.50 " in result.stdout + result.stderr
    assert json.load(open(trained["dir"] / "bbox.json")), "no box kept at score threshold 0"
    # beside the training history, which stays as it was
    assert json.load(open(trained["dir"] / "metrics.json")) == history
    record, = json.load(open(trained["dir"] / "eval_metrics.json"))
    assert record["weights"] == weights and "AP50" in record["bbox"]

    run_tool([f"{TOOLS}/export_model.py", "-c", DEMO, "--output_dir", str(tmp_path / "inf"),
              *tiny_options(data, f"weights={weights}")], cwd=str(tmp_path))
    model_dir = tmp_path / "inf" / NAME
    assert sorted(os.listdir(model_dir)) == ["infer_cfg.yml", "model.json", "model.pdiparams"]

    result = run_tool([f"{TOOLS}/infer.py", "--model_dir", str(model_dir), "--infer_dir",
                       str(data / "test"), "--output_dir", str(tmp_path / "pics"),
                       "--draw_threshold", "0.0", "--save_results"], cwd=str(tmp_path))
    assert sorted(os.listdir(tmp_path / "pics")) == ["bbox.json", "test_0000.jpg",
                                                     "test_0001.jpg"]
    assert "boxes >= 0.0 -> " in result.stdout


def test_eval_that_keeps_no_box_reports_ap_zero_and_says_why(trained, tmp_path):
    weights = str(trained["dir"] / "model_final")
    output = tmp_path / "eval"
    result = run_tool([f"{TOOLS}/eval.py", "-c", DEMO, "--output_eval", str(output), *tiny_options(
        trained["data"], f"weights={weights}", "PPYOLOEHead.nms.score_threshold=1.0")],
                      cwd=str(tmp_path))
    log = result.stdout + result.stderr
    assert "kept no box on any evaluation image" in log and "every AP is 0" in log
    assert "Average Precision  (AP) @[ IoU=0.50 " in log
    record, = json.load(open(output / "eval_metrics.json"))
    assert record["bbox"]["AP"] == record["bbox"]["AP50"] == record["bbox"]["AR100"] == 0.0
    assert json.load(open(output / "bbox.json")) == []


def test_resume_restores_epoch_optimizer_state_and_ema(trained):
    checkpoint = str(trained["dir"] / "0")
    cfg = load_config(DEMO, parse_overrides(tiny_options(trained["data"])[1:]))
    select_device(cfg)
    trainer = Trainer(cfg, mode="train")
    trainer.resume_weights(checkpoint)
    assert trainer.start_epoch == 1
    saved_opt = paddle.load(checkpoint + ".pdopt")
    state = trainer.optimizer.state_dict()
    # AdamW's moments and beta powers, one entry per parameter and accumulator
    accumulators = [k for k, v in saved_opt.items() if isinstance(v, paddle.Tensor)]
    assert any("moment1" in k for k in accumulators), f"no AdamW moments: {sorted(saved_opt)[:5]}"
    for key in accumulators:
        np.testing.assert_array_equal(state[key].numpy(), saved_opt[key].numpy(), err_msg=key)
    # ppdet saves the EMA weights as .pdparams and the raw weights as .pdema
    saved_ema, saved_raw = paddle.load(checkpoint + ".pdparams"), paddle.load(checkpoint + ".pdema")
    ema = trainer.ema.state_dict   # ppdet's ModelEMA keeps its weights in this dict
    raw = trainer.model.state_dict()
    assert trainer.ema.step == saved_opt["LR_Scheduler"]["last_epoch"] > 0
    for key in saved_raw:
        np.testing.assert_array_equal(raw[key].numpy(), saved_raw[key].numpy(), err_msg=key)
        np.testing.assert_array_equal(ema[key].numpy(), saved_ema[key].numpy(), err_msg=key)


def test_resumed_training_continues_from_the_next_epoch_and_keeps_the_history(trained, tmp_path):
    run = tmp_path / NAME
    run.mkdir()
    for name in ("0.pdparams", "0.pdopt", "0.pdema", "metrics.json"):
        shutil.copy(trained["dir"] / name, run / name)
    history = json.load(open(run / "metrics.json"))
    result = run_tool([f"{TOOLS}/train.py", "-c", DEMO, "--eval", "-r", str(run / "0"),
                       "--output_dir", str(tmp_path), *tiny_options(trained["data"], "epoch=2")],
                      cwd=str(tmp_path))
    log = result.stderr + result.stdout
    assert "Epoch: [1] [0/4]" in log and "Epoch: [0]" not in log
    assert (run / "model_final.pdparams").is_file()
    resumed = json.load(open(run / "metrics.json"))
    assert [m["epoch"] for m in resumed] == [0, 1]
    assert resumed[0] == history[0]              # epoch 0 from the first run, kept
