"""Load trained weights where the results matter (evaluation, export, inference): every
parameter of the model must come from the checkpoint, with its shape.

ppdet's `Trainer.load_weights` loads what matches and keeps the initialisation of the rest, which
is right for `pretrain_weights` in training (new layers are expected) and wrong everywhere else:
SE weights in an ECA config evaluate a random attention block, and a 2-class checkpoint in a
3-class config a random classifier, both with exit status 0.
"""
from typing import List, Sequence

import paddle.nn as nn
from ppdet.utils.checkpoint import get_weights_path, is_url
from ppdet.utils.logger import setup_logger

from ..detection.backbones.pretrained import LoadReport, assign_weights, match_weights
from .checkpoints import CheckpointError, read_state, strip_suffix

logger = setup_logger("ppattn.weights")
_SHOWN = 20


class WeightsMismatchError(ValueError):
    """Trained weights leave parameters of the model without a value of the right shape."""


def _listed(names: Sequence[str]) -> str:
    more = len(names) - _SHOWN
    return ", ".join(names[:_SHOWN]) + (f" ... and {more} more" if more > 0 else "")


def mismatch_message(path: str, report: LoadReport, total: int) -> str:
    """The error for a report that left parameters newly initialised or shape-mismatched."""
    lines = [f"weights {path!r} do not fit this model: {len(report.loaded)} of {total} "
             f"parameters loaded"]
    if report.newly_initialized:
        lines.append(f"{len(report.newly_initialized)} not in the checkpoint (they would stay "
                     f"randomly initialised): {_listed(report.newly_initialized)}")
    if report.shape_mismatched:
        shapes: List[str] = [f"{key} {wanted} vs checkpoint {shape}"
                             for key, _, shape, wanted in report.shape_mismatched]
        lines.append(f"{len(shapes)} of another shape: {_listed(shapes)}")
    if report.unused:
        lines.append(f"{len(report.unused)} checkpoint entries unused: {_listed(report.unused)}")
    lines.append("Use the config these weights were trained with (same blocks, num_classes and "
                 "sizes), or weights trained for this config")
    return "\n  ".join(lines)


def _fitting(model: nn.Layer, weights: str):
    """(path, report, values) for trained `weights`, raising if any parameter is left out."""
    if not weights:
        raise CheckpointError("no trained weights given: set `weights:` in the config or pass "
                              "-o weights=output/NAME/model_final")
    if is_url(weights):
        weights = get_weights_path(weights)
    path = strip_suffix(weights) + ".pdparams"
    report, values = match_weights(model, read_state(path))
    if report.newly_initialized or report.shape_mismatched:
        raise WeightsMismatchError(mismatch_message(path, report, len(model.state_dict())))
    return path, report, values


def check_weights_fit(model: nn.Layer, weights: str) -> LoadReport:
    """Raise as `load_weights_strictly` would, but load nothing (for a snapshot that ppdet's
    resume then loads, which would skip a parameter of another shape with a warning)."""
    return _fitting(model, weights)[1]


def load_weights_strictly(model: nn.Layer, weights: str) -> LoadReport:
    """Load the trained checkpoint `weights` (path with or without .pdparams; a URL is
    downloaded as ppdet does) into `model`, or raise naming every parameter it leaves
    without a value.

    Raises:
        CheckpointError: the file is missing, truncated or unreadable.
        WeightsMismatchError: a parameter is missing from the checkpoint or has another shape.
    """
    path, report, values = _fitting(model, weights)
    assign_weights(model, values)
    if report.unused:
        logger.warning(f"{len(report.unused)} entries of {path!r} are not parameters of this "
                       f"model: {_listed(report.unused)}")
    logger.info(f"loaded all {len(report.loaded)} parameters from {path}")
    return report
