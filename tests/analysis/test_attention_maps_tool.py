"""tools/attention_maps.py end to end: a subprocess on the tiny detector with saved random
weights, and in-process runs for the outcomes that end with status 1."""
import json
import os
import runpy
import subprocess
import sys

import cv2


def run_tool(detector, args):
    return subprocess.run([sys.executable, detector.tool, *args], cwd=detector.root,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def run_in_process(detector, monkeypatch, args):
    """Run the tool's __main__ here (where a test can register a block); return the message it
    exited with, or None for status 0."""
    monkeypatch.setattr(sys, "argv", [detector.tool, *args])
    monkeypatch.setattr(sys, "path", list(sys.path))    # the tool puts the repository first
    try:
        runpy.run_path(detector.tool, run_name="__main__")
    except SystemExit as stop:
        return stop.code
    return None


def test_tool_writes_pictures_and_summaries_per_image(detector, shapes_data, tmp_path):
    trainer = detector.build_trainer(shapes_data, "AttnCSPResNet.block_attn=cbam")
    weights = detector.save_weights(trainer, str(tmp_path / "cbam"))
    out = tmp_path / "attention"
    result = run_tool(detector, [
        "-c", detector.demo, "-o", f"weights={weights}", f"TestDataset.dataset_dir={shapes_data}",
        "AttnCSPResNet.block_attn=cbam", "--infer_dir", str(shapes_data / "test"),
        "--output_dir", str(out)])
    assert result.returncode == 0, result.stderr[-5000:]
    # 4 ECA blocks at the stage ends and CBAM in the 1 + 2 + 2 + 1 basic blocks (depth 0.33)
    for stem in ("test_0000", "test_0001"):
        assert f"{stem}.jpg: 10 blocks -> " in result.stdout, result.stdout
        for kind in ("spatial", "channel"):
            picture = cv2.imread(str(out / f"{stem}_{kind}.png"))
            assert picture is not None and picture.shape[0] > 200 and picture.std() > 10
        summary = json.loads((out / f"{stem}_summary.json").read_text())
        assert len(summary["blocks"]) == 10 and summary["no_maps"] == {}
        assert summary["blocks"]["backbone.stages.3.attn"]["maps"]["channel"]["shape"] == \
            [192, 1, 1]


def test_tool_on_channel_gates_only_says_so(detector, shapes_data, tmp_path, monkeypatch,
                                            capsys):
    trainer = detector.build_trainer(shapes_data)
    weights = detector.save_weights(trainer, str(tmp_path / "eca"))
    image = str(shapes_data / "test" / "test_0001.jpg")
    out = tmp_path / "attention"
    assert run_in_process(detector, monkeypatch, [
        "-c", detector.demo, "-o", f"weights={weights}", f"TestDataset.dataset_dir={shapes_data}",
        "--infer_img", image, "--output_dir", str(out)]) is None
    assert "no spatial maps: the blocks gate channels only" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ["test_0001_channel.png", "test_0001_summary.json"]


def test_tool_reports_blocks_without_maps_and_fails_unless_allowed(
        detector, shapes_data, tmp_path, monkeypatch, capsys, no_maps_block):
    spec = f"AttnCSPResNet.block_attn={no_maps_block}"
    weights = detector.save_weights(detector.build_trainer(shapes_data, spec),
                                    str(tmp_path / "plain"))
    args = ["-c", detector.demo, "-o", f"weights={weights}",
            f"TestDataset.dataset_dir={shapes_data}", spec,
            "--infer_img", str(shapes_data / "test" / "test_0000.jpg"),
            "--output_dir", str(tmp_path / "attention")]
    message = run_in_process(detector, monkeypatch, args)
    # the plain block in each of the 6 basic blocks; the 4 ECA blocks give their gates
    assert message.startswith("error: 6 block(s) gave no attention maps")
    assert "backbone.stages.0.blocks.0.attn" in message and "--allow_missing_maps" in message
    assert "no maps: backbone.stages.0.blocks.0.attn (Plain: Plain lacks attention_maps()" in \
        capsys.readouterr().out
    summary = json.loads((tmp_path / "attention" / "test_0000_summary.json").read_text())
    assert len(summary["no_maps"]) == 6 and len(summary["blocks"]) == 4
    assert run_in_process(detector, monkeypatch, [*args, "--allow_missing_maps"]) is None


def test_tool_fails_with_a_message_on_a_model_without_blocks(detector, shapes_data, tmp_path):
    trainer = detector.build_trainer(shapes_data, "AttnCSPResNet.attn=none")
    weights = detector.save_weights(trainer, str(tmp_path / "plain"))
    result = run_tool(detector, [
        "-c", detector.demo, "-o", f"weights={weights}", f"TestDataset.dataset_dir={shapes_data}",
        "AttnCSPResNet.attn=none", "--infer_img", str(shapes_data / "test" / "test_0000.jpg"),
        "--output_dir", str(tmp_path / "attention")])
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "error: YOLOv3 has no attention block" in result.stderr


def test_tool_fails_with_a_message_on_weights_of_another_model(detector, shapes_data, tmp_path):
    trainer = detector.build_trainer(shapes_data)
    weights = detector.save_weights(trainer, str(tmp_path / "eca"))
    result = run_tool(detector, [
        "-c", detector.demo, "-o", f"weights={weights}", f"TestDataset.dataset_dir={shapes_data}",
        "AttnCSPResNet.block_attn=cbam", "--infer_img",
        str(shapes_data / "test" / "test_0000.jpg"), "--output_dir", str(tmp_path / "a")])
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "do not fit this model" in result.stderr
    assert not (tmp_path / "a").exists()
