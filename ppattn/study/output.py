"""Where a study's output goes: its progress to the terminal, on one line (`StatusLine`), and
everything else, ppdet's and Paddle's logs included, to the run's files (`output_to`)."""
import contextlib
import os
import sys
from typing import Optional, TextIO


@contextlib.contextmanager
def output_to(path: str):
    """Send everything this process writes to stdout and stderr (Python, ppdet's loggers,
    Paddle's C++ logs) to the file `path` for the `with` block."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def terminal() -> TextIO:
    """A stream on a copy of this process's stdout file descriptor: it keeps writing to the
    terminal while `output_to` sends stdout to a run's log file."""
    sys.stdout.flush()
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)


class StatusLine:
    """One status line: rewritten in place on a terminal; elsewhere a new line each time the
    text before ', ETA' changes. `print` writes a permanent line above it.

    stream: where to write; default `terminal()`."""

    def __init__(self, stream: Optional[TextIO] = None):
        self.stream = stream if stream is not None else terminal()
        self.tty = self.stream.isatty()
        self.shown = ""

    def show(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif text.split(", ETA")[0] != self.shown.split(", ETA")[0]:
            self.stream.write(text + "\n")
            self.stream.flush()
        self.shown = text

    def print(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + text + "\n" + self.shown)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
        self.shown = ""
