"""One study at a time in a folder: `study_lock` holds `<output_dir>/study.lock` (the PID of
the study holding it) while a study runs there. A lock whose process has ended, as after a
kill, is taken over."""
import contextlib
import os

LOCK_FILE = "study.lock"


class StudyLockedError(RuntimeError):
    """Another live study holds the folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder(output_dir: str):
    """The PID of the live process holding `output_dir`'s lock, or None."""
    try:
        with open(os.path.join(output_dir, LOCK_FILE), encoding="utf-8") as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and pid != os.getpid() and _alive(pid) else None


@contextlib.contextmanager
def study_lock(output_dir: str):
    """Hold `output_dir`'s lock for the `with` block; raise StudyLockedError if a live
    process holds it."""
    pid = holder(output_dir)
    if pid is not None:
        raise StudyLockedError(f"another study (pid {pid}) is running in {output_dir!r}; wait "
                               f"for it to end, or stop it, before starting this one there")
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)
