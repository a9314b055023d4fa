"""tools/export_onnx.py: converts an exported folder and prints the runtime check."""
import os
import runpy
import sys

import pytest

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
    assert "max difference ONNX Runtime vs Paddle Inference, labels: 0" in out


def test_export_onnx_tool_refuses_check_with_save_file(monkeypatch, capsys, tmp_path):
    with pytest.raises(SystemExit):
        _run_tool(monkeypatch, "--model_dir", str(tmp_path), "--save_file", "x.onnx", "--check")
    assert "leave out --save_file" in capsys.readouterr().err
