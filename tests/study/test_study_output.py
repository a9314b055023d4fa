"""ppattn.study.output: the status line, and a block's output sent to a file."""
import io
import os
import subprocess
import sys

from ppattn.study.output import StatusLine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_output_to_sends_python_and_low_level_writes_to_the_file(tmp_path):
    log = tmp_path / "run.log"
    code = ("import os, sys\nfrom ppattn.study.output import output_to\n"
            f"with output_to({str(log)!r}):\n"
            "    print('from python')\n    os.write(2, b'from a C library\\n')\n"
            "print('after')\n")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)   # pytest's own capture would intercept print
    assert child.returncode == 0, child.stderr
    assert log.read_text() == "from python\nfrom a C library\n"
    assert child.stdout.endswith("after\n") and "from python" not in child.stdout


def test_status_line_off_a_terminal_prints_changes_only():
    stream = io.StringIO()
    status = StatusLine(stream)
    status.show("variant 1/4 (eca, seed 0): epoch 1/8, ETA 4 min")
    status.show("variant 1/4 (eca, seed 0): epoch 1/8, ETA 3 min")
    status.show("variant 1/4 (eca, seed 0): epoch 2/8, ETA 3 min")
    status.print("variant 1/4 (eca, seed 0): AP50 0.5")
    assert stream.getvalue().splitlines() == [
        "variant 1/4 (eca, seed 0): epoch 1/8, ETA 4 min",
        "variant 1/4 (eca, seed 0): epoch 2/8, ETA 3 min", "variant 1/4 (eca, seed 0): AP50 0.5"]


def test_status_line_on_a_terminal_rewrites_one_line():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    stream = Terminal()
    status = StatusLine(stream)
    status.show("epoch 1/8")
    status.show("epoch 2/8")
    assert stream.getvalue() == "\r\033[Kepoch 1/8\r\033[Kepoch 2/8"
    assert "\n" not in stream.getvalue()
