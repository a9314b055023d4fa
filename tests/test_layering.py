"""Layering by dependency: the blocks and the registry need Paddle only; PaddleDetection comes in
with `ppattn.detection` and nowhere earlier."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _modules_after(statement: str) -> set:
    """The top-level module names loaded by a fresh interpreter after `statement`."""
    code = (f"import sys\n{statement}\n"
            f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-3000:]
    return set(child.stdout.split())


def test_blocks_and_registry_import_without_ppdet():
    loaded = _modules_after("import ppattn, ppattn.layers, ppattn.registry\n"
                            "ppattn.build_attention('cbam', channels=32)")
    assert "paddle" in loaded and "ppdet" not in loaded


def test_deployment_runtimes_import_without_ppdet():
    assert "ppdet" not in _modules_after("import ppattn.deploy.paddle_inference, ppattn.deploy")


def test_detection_registers_every_component_with_ppdet():
    code = ("import ppattn.detection\n"
            "from ppdet.core.workspace import global_config\n"
            "names = ['AttnCSPResNet', 'AttnResNet', 'AttnCustomCSPPAN', 'AttnFPN', 'SELayer', "
            "'CBAM']\n"
            "missing = [n for n in names if n not in global_config]\n"
            "assert not missing, missing")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-3000:]
