"""What the tools print: known-irrelevant lines from ppdet and pycocotools left out.

ppdet prints a numba warning for its tracking models (twice) at import, and pycocotools prints
four progress lines at every annotation load and eight at every evaluation. `quiet_known_noise`
drops exactly those lines from the tools' stdout; every other line, warnings included, passes.
"""
import io
import re
import sys

_NOISE = re.compile(
    r"(Warning: Unable to use numba in PP-Tracking, .*"
    r"|loading annotations into memory\.\.\.|Done \(t=\d+\.\d+s\)|creating index\.\.\."
    r"|index created!|Loading and preparing results\.\.\.|DONE \(t=\d+\.\d+s\)\.?"
    r"|Running per image evaluation\.\.\.|Evaluate annotation type \*\w+\*"
    r"|Accumulating evaluation results\.\.\.)")


def is_noise(line: str) -> bool:
    """Whether `line` (without its newline) is one of the known-irrelevant lines."""
    return bool(_NOISE.fullmatch(line.rstrip("\r\n")))


class LineFilter(io.TextIOBase):
    """A text stream that passes whole lines to `stream` unless `is_noise` says otherwise.

    `print` writes a line and its newline separately, so a partial line is held until its
    newline arrives; `flush` passes a held partial line on unless it may still become noise.
    """

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        kept = [line + "\n" for line in lines if not is_noise(line)]
        if kept:
            self.stream.write("".join(kept))
        return len(text)

    def flush(self) -> None:
        if self._pending and not is_noise(self._pending):
            self.stream.write(self._pending)
            self._pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):
        return self.stream.encoding


def quiet_known_noise() -> None:
    """Filter the process's stdout through `LineFilter` (once; before ppdet is imported)."""
    if not isinstance(sys.stdout, LineFilter):
        sys.stdout = LineFilter(sys.stdout)
