"""Read checkpoint files so that a missing or damaged one is named, and check a snapshot before
resuming from it.

A snapshot `output/NAME/9` is the files 9.pdparams (the weights; the EMA weights when the config
has `use_ema`), 9.pdopt (optimizer state, learning-rate schedule and the epoch to resume at) and,
with EMA, 9.pdema (the raw weights). ppdet resumes from whatever part it finds: without the .pdopt
it restarts at epoch 0 and overwrites the snapshots already there, without the .pdema it restarts
the EMA from scratch, and a truncated file fails with `EOFError: Ran out of input` and no name.
ppattn's `save_model` patch (ppattn.detection.fixes) writes all three atomically;
`check_snapshot` refuses an incomplete snapshot.
"""
import glob
import os
from typing import List, Mapping

import paddle

from ..detection.safe_loading import UnsafeFileError

SUFFIXES = (".pdparams", ".pdopt", ".pdema", ".pdmodel")
_ROLES = {".pdparams": "the weights", ".pdopt": "the optimizer state and epoch",
          ".pdema": "the raw weights beside the EMA ones"}


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated or not a Paddle checkpoint."""


def strip_suffix(path: str) -> str:
    """'out/9.pdparams' -> 'out/9'; a path without a checkpoint suffix is returned as it is."""
    path = os.fspath(path)
    root, ext = os.path.splitext(path)
    return root if ext in SUFFIXES else path


def read_state(path: str) -> Mapping:
    """paddle.load(path), naming the file when it is missing, truncated or unreadable."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file {path!r} does not exist")
    try:
        state = paddle.load(path)
    except UnsafeFileError:
        raise
    except Exception as error:  # EOFError, UnpicklingError, ValueError: none names the file
        raise CheckpointError(
            f"checkpoint file {path!r} ({os.path.getsize(path)} bytes) cannot be read, it is "
            f"truncated or not a Paddle checkpoint (an interrupted save?): "
            f"{type(error).__name__}: {error}") from error
    if not isinstance(state, Mapping):
        raise CheckpointError(f"checkpoint file {path!r} holds a {type(state).__name__}, "
                              f"not a state dict")
    return state


def complete_snapshots(folder: str, ema: bool) -> List[str]:
    """Names of the snapshots in `folder` that have every file a resume needs, by epoch."""
    names = []
    for params in glob.glob(os.path.join(folder, "*.pdparams")):
        base = params[:-len(".pdparams")]
        if all(os.path.isfile(base + s) for s in _needed(ema)):
            names.append(os.path.basename(base))
    return sorted(names, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))


def _needed(ema: bool):
    return (".pdparams", ".pdopt") + ((".pdema",) if ema else ())


def check_snapshot(path: str, ema: bool) -> int:
    """Check that snapshot `path` (with or without a suffix) can be resumed from; return the
    epoch training will continue at.

    Args:
        path: e.g. 'output/NAME/9'.
        ema: whether the config trains with EMA (`use_ema`), which needs the .pdema file.

    Raises CheckpointError naming the missing or unreadable file and the complete snapshots
    beside it.
    """
    base = strip_suffix(path)
    folder = os.path.dirname(base) or "."
    for suffix in _needed(ema):
        if not os.path.isfile(base + suffix):
            others = complete_snapshots(folder, ema)
            hint = (f"complete snapshots in {folder!r}: {', '.join(others)}" if others
                    else f"{folder!r} has no complete snapshot")
            raise CheckpointError(
                f"cannot resume from {base!r}: {base + suffix!r} ({_ROLES[suffix]}) is "
                f"missing, so training would restart at epoch 0 and overwrite the snapshots; "
                f"{hint}. Resume from a complete one, or start a new run from these weights "
                f"with -o pretrain_weights={base}")
    states = {suffix: read_state(base + suffix) for suffix in _needed(ema)}
    epoch = states[".pdopt"].get("last_epoch")
    if not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(f"{base + '.pdopt'!r} has no epoch to resume at (last_epoch = "
                              f"{epoch!r}); it was not written by ppdet's training")
    return epoch
