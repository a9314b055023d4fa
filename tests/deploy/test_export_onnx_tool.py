"""tools/export_onnx.py: converts an exported folder and prints the runtime check."""
import json
import os
import runpy
import shutil
import sys

import pytest

import ppattn.deploy
from ppattn.deploy import Comparison

from detectors import ROOT, needs_onnx

TOOL = os.path.join(ROOT, "tools", "export_onnx.py")


def _run_tool(monkeypatch, *args: str) -> None:
    # in-process: a subprocess would spend ~10 s importing paddle and ppdet again
    monkeypatch.setattr(sys, "argv", [TOOL, *args])
    runpy.run_path(TOOL, run_name="__main__")


@needs_onnx
def test_export_onnx_tool_writes_model_onnx_and_reports_the_check(exported, monkeypatch,
                                                                  capsys):
    _, model_dir = exported("eca")
    _run_tool(monkeypatch, "--model_dir", model_dir, "--check")
    out = capsys.readouterr().out
    assert os.path.isfile(os.path.join(model_dir, "model.onnx"))
    assert "operators: " in out and "Sigmoid" in out
    assert "ONNX Runtime vs Paddle Inference: PASS: scores " in out


def test_export_onnx_tool_refuses_check_with_save_file(monkeypatch, capsys, tmp_path):
    with pytest.raises(SystemExit):
        _run_tool(monkeypatch, "--model_dir", str(tmp_path), "--save_file", "x.onnx", "--check")
    assert "leave out --save_file" in capsys.readouterr().err


def _tool_error(monkeypatch, capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as stop:
        _run_tool(monkeypatch, *args)
    assert stop.value.code not in (0, None)
    return str(stop.value.code) + capsys.readouterr().err


@needs_onnx
def test_export_onnx_tool_refuses_a_truncated_params_file(exported, monkeypatch, capsys,
                                                          tmp_path):
    _, model_dir = exported("eca")
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken, ignore=shutil.ignore_patterns("*.onnx"))
    params = broken / "model.pdiparams"
    params.write_bytes(params.read_bytes()[:params.stat().st_size // 2])
    message = _tool_error(monkeypatch, capsys, "--model_dir", str(broken))
    assert "Paddle cannot load the exported model" in message and "truncated" in message
    assert not (broken / "model.onnx").exists()


@needs_onnx
def test_export_onnx_tool_names_the_operators_it_cannot_convert(monkeypatch, capsys, tmp_path):
    graph = {"program": {"regions": [{"blocks": [{"ops": [
        {"#": "1.roi_align"}, {"#": "1.conv2d"}, {"#": "1.generate_proposals"}]}]}]}}
    (tmp_path / "model.json").write_text(json.dumps(graph))
    (tmp_path / "model.pdiparams").write_bytes(b"")
    message = _tool_error(monkeypatch, capsys, "--model_dir", str(tmp_path))
    assert "holds generate_proposals, roi_align, which paddle2onnx cannot convert" in message


@needs_onnx
def test_export_onnx_tool_exits_non_zero_when_the_check_fails(exported, monkeypatch, capsys):
    _, model_dir = exported("eca")
    failed = Comparison(False, {"scores": 0.5, "boxes": 3.0, "matched": 0, "mismatched": 4},
                        {"scores": 1e-4, "boxes": 0.01})
    monkeypatch.setattr(ppattn.deploy, "compare_runtimes", lambda *args: failed)
    with pytest.raises(SystemExit) as stop:
        _run_tool(monkeypatch, "--model_dir", model_dir, "--check")
    assert "do not deploy this ONNX file" in str(stop.value.code)
    assert "FAIL: scores 0.5, boxes 3, matched 0, mismatched 4" in capsys.readouterr().out
