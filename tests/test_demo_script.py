"""tools/run_demo.sh reads back the files the tools write (it ran for 9 minutes and then failed
on a renamed metrics file once)."""
import os
import re

from ppattn.engine.evaluation import EVAL_METRICS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_summary_reads_the_file_tools_eval_writes():
    with open(os.path.join(ROOT, "tools", "run_demo.sh"), encoding="utf-8") as script:
        text = script.read()
    assert "tools/eval.py" in text and '--output_eval "$OUT/$NAME"' in text
    read = re.findall(r'"\$PYTHON" - "\$OUT/\$NAME/([\w.]+)"', text)
    assert read == [EVAL_METRICS]
