"""Check a loaded config before any training starts, naming each problem found.

ppdet would otherwise fail late and obscurely: an unknown key is silently dropped, a misspelt
component fails deep inside `create`, and a missing COCO folder starts a download attempt. Every
key is checked: components here, the top-level keys, readers, transforms, optimizer and
schedulers in `known_keys`, value types and ranges in `value_checks`.
"""
import os
from typing import Iterable, List, Mapping

from ppdet.core.workspace import SchemaDict, create
from ppdet.utils.logger import setup_logger

from .data_checks import parsed_dataset  # noqa: F401  (tools/train.py's import)
from .known_keys import did_you_mean, optimizer_problems, reader_problems, top_level_problems, \
    unknown
from .value_checks import attention_argument_problems, range_problems

logger = setup_logger("ppattn.checks")

# Readers (which take **kwargs) are checked by known_keys, datasets against the class their
# `name` picks.
_DATASETS = ("TrainDataset", "EvalDataset", "TestDataset")
_READERS = ("TrainReader", "EvalReader", "TestReader")
_DATASET_PATH_KEYS = ("image_dir", "anno_path", "label_list")


class ConfigError(ValueError):
    """A config names something that does not exist; the message lists every problem."""


def _component_problems(cfg: Mapping) -> List[str]:
    problems = []
    architecture = cfg.get("architecture")
    if architecture is None:
        problems.append("no 'architecture' key (e.g. architecture: YOLOv3)")
    elif not isinstance(cfg.get(architecture), SchemaDict):
        problems.append(f"architecture {architecture!r} is not a registered ppdet component")
    if "num_classes" not in cfg:
        problems.append("no 'num_classes' key")
    components = [k for k, v in cfg.items() if isinstance(v, SchemaDict)]
    for key, value in cfg.items():
        if key[:1].isupper() and isinstance(value, dict) and not isinstance(value, SchemaDict):
            problems.append(f"unknown component {key!r}{did_you_mean(key, components)}: no "
                            f"ppdet or ppattn module has this name (is it misspelt, or is "
                            f"`import ppattn` missing?)")
    return problems


def _injected_problems(cfg: Mapping, owner: str, key: str, spec: Mapping) -> List[str]:
    """Check a `{name: Component, ...}` value, as used for assigners and NMS."""
    target = cfg.get(spec["name"])
    if not isinstance(target, SchemaDict):
        return [f"{owner}.{key}: unknown component {spec['name']!r}"]
    return [unknown(f"{owner}.{key} ({spec['name']})", k, target.schema)
            for k in spec if k != "name" and k not in target.schema]


def _key_problems(cfg: Mapping) -> List[str]:
    problems = []
    for owner, component in cfg.items():
        if not isinstance(component, SchemaDict) or not component or owner in _READERS:
            continue
        if owner in _DATASETS:
            target = cfg.get(component.get("name"))
            if not isinstance(target, SchemaDict):
                problems.append(f"{owner}: unknown dataset class {component.get('name')!r}")
                continue
            schema = target.schema
        else:
            schema = component.schema
        for key, value in component.items():
            if key != "name" and key not in schema:
                problems.append(unknown(owner, key, schema))
            elif isinstance(value, Mapping) and isinstance(value.get("name"), str) \
                    and value["name"][:1].isupper():
                problems += _injected_problems(cfg, owner, key, value)
    return problems


def _backbone_problems(cfg: Mapping) -> List[str]:
    """Build the backbone alone: its attention specs (names, arguments, positions) are checked
    by the backbone itself, in a second rather than after the data has loaded."""
    architecture = cfg.get(cfg.get("architecture"))
    backbone = architecture.get("backbone") if isinstance(architecture, Mapping) else None
    if not isinstance(backbone, str) or not isinstance(cfg.get(backbone), SchemaDict):
        return []
    if attention_argument_problems(backbone, cfg[backbone]):
        return []  # named by _attention_problems; building would fail naming no key
    try:
        create(backbone)
    except (TypeError, ValueError) as error:
        return [f"{backbone}: {error}"]
    return []


def _attention_problems(cfg: Mapping) -> List[str]:
    """Attention specs in any component (backbones, necks) with arguments of the wrong type."""
    return [problem for owner, section in cfg.items() if isinstance(section, SchemaDict)
            for problem in attention_argument_problems(owner, section)]


def _dataset_problems(cfg: Mapping, datasets: Iterable[str]) -> List[str]:
    problems = []
    for owner in datasets:
        dataset = cfg.get(owner) or {}
        root = dataset.get("dataset_dir") or ""
        if root and not os.path.isdir(root):
            problems.append(f"{owner}: dataset_dir {root!r} does not exist (from "
                            f"{os.getcwd()!r}); put the data there or set "
                            f"-o {owner}.dataset_dir=PATH")
            continue
        for key in _DATASET_PATH_KEYS:
            if dataset.get(key) and not os.path.exists(os.path.join(root, dataset[key])):
                problems.append(f"{owner}: {key} {os.path.join(root, dataset[key])!r} "
                                f"does not exist")
    return problems


def check_config(cfg: Mapping, datasets: Iterable[str] = ()) -> None:
    """Raise ConfigError listing every problem found in `cfg`, or return None.

    Args:
        cfg: a loaded config (ppdet's global config).
        datasets: which of TrainDataset/EvalDataset/TestDataset must exist on disk.
    """
    value_problems = range_problems(cfg) + _attention_problems(cfg)
    problems = (_component_problems(cfg) + top_level_problems(cfg) + _key_problems(cfg)
                + reader_problems(cfg) + optimizer_problems(cfg) + value_problems)
    if not value_problems:  # building with a value named above would fail naming no key
        problems += _backbone_problems(cfg)
    problems += _dataset_problems(cfg, datasets)
    if problems:
        name = cfg.get("filename", "config")
        raise ConfigError(f"{name}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))


def check_num_classes(cfg: Mapping, dataset, owner: str) -> None:
    """Compare `num_classes` with the categories of a parsed dataset (ppdet's Trainer parses it
    when it builds its reader).

    Fewer classes than categories fails deep in the label assigner (`gather_nd ... index_value:2
    >= 2`) or, in evaluation, scores only some categories; it raises ConfigError naming both
    numbers. More classes than categories only wastes outputs; it logs a warning.
    """
    categories = getattr(dataset, "cname2cid", None)
    if not categories:
        return  # a folder of images (TestDataset) has no annotations to compare with
    num_classes, found = cfg.get("num_classes"), len(categories)
    anno = dataset.get_anno() if hasattr(dataset, "get_anno") else owner
    if num_classes < found:
        raise ConfigError(f"num_classes is {num_classes}, but {owner} ({anno}) has {found} "
                          f"categories: {', '.join(sorted(categories))}; set num_classes: "
                          f"{found} (-o num_classes={found})")
    if num_classes > found:
        logger.warning(f"num_classes is {num_classes}, but {owner} ({anno}) has only {found} "
                       f"categories; the other {num_classes - found} classes are never trained")
