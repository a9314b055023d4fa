"""ppattn.study.lock: one study at a time in a folder."""
import subprocess
import sys

import pytest

from ppattn.study.lock import LOCK_FILE, StudyLockedError, study_lock


def test_a_live_holder_keeps_others_out(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_FILE).write_text(str(holder.pid))
        with pytest.raises(StudyLockedError, match=f"another study \\(pid {holder.pid}\\)"):
            with study_lock(str(tmp_path)):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holders_lock_is_taken_over_and_released(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True).stdout.strip()
    (tmp_path / LOCK_FILE).write_text(ended)
    with study_lock(str(tmp_path)):
        assert (tmp_path / LOCK_FILE).read_text() != ended
    assert not (tmp_path / LOCK_FILE).exists()
