"""Check a dataset's files before the data loader trips over them.

A file that is not an image (a text file named .jpg) makes ppdet's Decode fail inside Paddle's
loader thread, which dies without telling the training loop: the run hangs, ignores Ctrl-C and
needs SIGKILL. A broken annotation file ends in a bare `KeyError: 'categories'` from deep in
ppdet. Both are named here, file and problem, in one line each.
"""
import contextlib
import json
import logging
import os
from typing import Iterable, List, Mapping, Optional, Sequence

from ppdet.utils.logger import setup_logger

from .no_detections import evaluate_empty_detections

logger = setup_logger("ppattn.data_checks")

# the first bytes of each image format OpenCV reads
_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"),
               (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"),
               (b"MM\x00*", "TIFF"))
_JPEG_END = b"\xff\xd9"
_SHOWN = 10
COCO_LAYOUT = ("a COCO annotation file is a JSON object with 'images', 'annotations' and "
               "'categories' lists")


class DataError(ValueError):
    """A dataset file (image or annotation) that the loader cannot use; the message names it."""


def image_format(head: bytes) -> Optional[str]:
    """The format whose signature starts `head` ('JPEG', 'PNG', ...), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((name for signature, name in _SIGNATURES if head.startswith(signature)), None)


def image_problem(path: str) -> Optional[str]:
    """Why `path` cannot be decoded ('missing', 'empty', 'not an image ...'), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if not head:
        return "is empty"
    if image_format(head) is None:
        return f"is not an image (it starts with {head[:12]!r})"
    return None


def is_truncated_jpeg(path: str) -> bool:
    """Whether a JPEG file lacks its end marker (OpenCV decodes the part present, grey below)."""
    with open(path, "rb") as f:
        if f.read(3) != b"\xff\xd8\xff":
            return False
        f.seek(max(os.path.getsize(path) - 64, 0))
        return _JPEG_END not in f.read()


def _listed(items: Sequence[str]) -> str:
    more = len(items) - _SHOWN
    return "\n  ".join(items[:_SHOWN]) + (f"\n  ... and {more} more" if more > 0 else "")


def check_images(paths: Iterable[str], owner: str) -> None:
    """Raise DataError naming every file of `paths` that is not an image; log a warning
    counting truncated JPEGs. `owner` says where the paths came from ('TrainDataset')."""
    paths = list(paths)
    bad = [f"{path} {problem}" for path in paths for problem in [image_problem(path)] if problem]
    if bad:
        raise DataError(f"{owner}: {len(bad)} of {len(paths)} image file(s) cannot be decoded; "
                        f"remove them (and their annotations) or replace them:\n  "
                        f"{_listed(bad)}")
    truncated = [path for path in paths if is_truncated_jpeg(path)]
    if truncated:
        logger.warning(f"{owner}: {len(truncated)} of {len(paths)} JPEG file(s) are truncated; "
                       f"they are decoded as far as they go (grey below): "
                       f"{', '.join(truncated[:_SHOWN])}"
                       f"{' ...' if len(truncated) > _SHOWN else ''}")


def check_dataset_images(dataset, owner: str) -> None:
    """`check_images` on the image files of a parsed ppdet dataset (its `roidbs`)."""
    records = getattr(dataset, "roidbs", None) or []
    check_images([r["im_file"] for r in records if isinstance(r, Mapping) and "im_file" in r],
                 owner)


def _category_problems(data: Mapping, path: str) -> List[str]:
    categories = data["categories"]
    if not isinstance(categories, list) or not all(
            isinstance(c, Mapping) and "id" in c for c in categories):
        return [f"{path}: 'categories' must be a list of {{id, name}} objects, got "
                f"{str(categories)[:80]}"]
    known = {c["id"] for c in categories}
    for annotation in data.get("annotations") or []:
        if isinstance(annotation, Mapping) and annotation.get("category_id") not in known:
            return [f"{path}: annotation {annotation.get('id')!r} (image "
                    f"{annotation.get('image_id')!r}) has category_id "
                    f"{annotation.get('category_id')!r}, which 'categories' does not list "
                    f"(ids: {', '.join(str(i) for i in sorted(known, key=str))})"]
    return []


def annotation_problems(path: str) -> List[str]:
    """What keeps ppdet's COCODataSet from reading the annotation file `path` ([] if nothing)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        return [f"{path}: cannot be read ({error})"]
    if not text.strip():
        return [f"{path} is empty; {COCO_LAYOUT}"]
    try:
        data = json.loads(text)
    except ValueError as error:
        return [f"{path} is not JSON ({error}); {COCO_LAYOUT}"]
    if not isinstance(data, Mapping):
        return [f"{path} holds a {type(data).__name__}; {COCO_LAYOUT}"]
    missing = [key for key in ("images", "categories") if key not in data]
    if missing:
        found = ", ".join(repr(k) for k in data) or "none"
        return [f"{path} has no {' and no '.join(repr(k) for k in missing)} (keys found: "
                f"{found}); {COCO_LAYOUT}"]
    return _category_problems(data, path)


def dataset_annotation_problems(cfg: Mapping, owners: Iterable[str]) -> List[str]:
    """`annotation_problems` for the COCO-style datasets of `owners` in a config."""
    problems = []
    for owner in owners:
        section = cfg.get(owner)
        if not isinstance(section, Mapping) or not section.get("anno_path") or \
                section.get("name") not in ("COCODataSet", "ImageFolder"):
            continue
        path = os.path.join(section.get("dataset_dir") or "", section["anno_path"])
        if os.path.isfile(path) and path.endswith(".json"):
            problems += [f"{owner}: {p}" for p in annotation_problems(path)]
    return problems


@contextlib.contextmanager
def annotations_named(cfg: Mapping, owner: str):
    """Within the block, a failure while ppdet reads `owner`'s annotations becomes a DataError
    naming the file and the problem; other failures pass through unchanged."""
    try:
        yield
    except (KeyError, ValueError, TypeError, IndexError) as error:
        problems = dataset_annotation_problems(cfg, [owner])
        if problems:
            raise DataError("\n".join(problems)) from error
        raise


def parsed_dataset(owner: str):
    """Build and parse a config's dataset section (e.g. 'EvalDataset') as ppdet's reader would,
    and check its files: a broken annotation file or a file that is not an image raises
    DataError naming it. Used before the Trainer, whose loader starts reading at once."""
    from ppdet.core.workspace import create, global_config

    with annotations_named(global_config, owner), _quiet("ppdet.data.source.coco"):
        dataset = create(owner)()
        dataset.parse_dataset()  # the Trainer's parse logs 'Load [N samples valid, ...]'
    check_dataset_images(dataset, owner)
    return dataset


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Within the block, the logger `logger_name` passes warnings and errors only."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def build_trainer(cfg, mode: str):
    """ppdet's `Trainer(cfg, mode)`, its annotations named on failure (`annotations_named`).

    In train and eval mode the dataset is parsed and checked first (`parsed_dataset`): the
    Trainer's loader starts reading as it is built, and a file that is not an image kills its
    thread and hangs the run. The Trainer then parses the annotation file a second time. Its
    COCO evaluation reports AP 0 when the detector keeps no box (`evaluate_empty_detections`).
    """
    from ppdet.engine import Trainer

    owner = {"train": "TrainDataset", "eval": "EvalDataset", "test": "TestDataset"}[mode]
    if mode in ("train", "eval"):
        parsed_dataset(owner)
    else:  # the labels of inference and export come from TestDataset's anno_path, read later
        problems = dataset_annotation_problems(cfg, [owner])
        if problems:
            raise DataError("\n".join(problems))
    with annotations_named(cfg, owner):
        trainer = Trainer(cfg, mode=mode)
    evaluate_empty_detections(trainer)
    return trainer
