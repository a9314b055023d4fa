"""Config values of the wrong type or range that ppdet would only trip over later, if at all:
`epoch: -1` trains nothing and exits 0, `batch_size: 0` fails in the sampler, `gamma: two` fails
in a block's arithmetic with a message that names neither the key nor the block.
"""
import collections.abc
import math
import numbers
import typing
from typing import Any, List, Mapping

from ..registry import ATTENTIONS
from .known_keys import unknown

# top-level key -> smallest accepted value, all integers
_INTEGERS = {"epoch": 1, "snapshot_epoch": 1, "log_iter": 1, "worker_num": 0, "num_classes": 1}
_READERS = ("TrainReader", "EvalReader", "TestReader")
# what ppdet's layers build: ResNet asserts bn or sync_bn, FPN and heads also take gn
_NORM_TYPES = ("bn", "sync_bn", "gn")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _integer_problem(owner: str, value, minimum: int) -> List[str]:
    if _is_int(value) and value >= minimum:
        return []
    return [f"{owner} must be an integer >= {minimum}, got {value!r}"]


def range_problems(cfg: Mapping) -> List[str]:
    """epoch, snapshot_epoch, log_iter, worker_num, num_classes, each reader's batch_size and
    LearningRate.base_lr: present ones must be numbers in range."""
    problems = []
    for key, minimum in _INTEGERS.items():
        if key in cfg:
            problems += _integer_problem(key, cfg[key], minimum)
    for reader in _READERS:
        section = cfg.get(reader)
        if isinstance(section, Mapping) and "batch_size" in section:
            problems += _integer_problem(f"{reader}.batch_size", section["batch_size"], 1)
    rate = cfg.get("LearningRate")
    if isinstance(rate, Mapping) and "base_lr" in rate:
        base_lr = rate["base_lr"]
        if not (_is_number(base_lr) and base_lr > 0):
            problems.append(f"LearningRate.base_lr must be a number > 0, got {base_lr!r}")
    return problems + _backbone_size_problems(cfg) + _activation_problems(cfg)


def _positive_number_problem(owner: str, value) -> List[str]:
    if _is_number(value) and math.isfinite(value) and value > 0:
        return []
    return [f"{owner} must be a number > 0, got {value!r}"]


def _activation_names() -> List[str]:
    from ppdet.modeling.ops import ACT_SPEC  # ppdet's get_act_fn: its table, then paddle's F
    import paddle.nn.functional as F
    return sorted(set(ACT_SPEC) | {name for name in dir(F) if not name.startswith("_")
                                   and callable(getattr(F, name))})


def _activation_problems(cfg: Mapping) -> List[str]:
    """A component's `act` name that ppdet's get_act_fn would fail on (`getattr(F, 'swishh')`
    is an AttributeError from deep inside the model's construction)."""
    problems, names = [], None
    for owner, section in cfg.items():
        act = section.get("act") if isinstance(section, Mapping) and owner[:1].isupper() \
            else None
        if isinstance(act, Mapping):
            act = act.get("name")
        if isinstance(act, str) and act:
            names = names or _activation_names()
            if act not in names:
                problems.append(unknown(f"{owner}.act", act, names, what="activation",
                                        source="ppdet.modeling.ops.ACT_SPEC and "
                                               "paddle.nn.functional"))
    return problems


def _backbone_size_problems(cfg: Mapping) -> List[str]:
    """width_mult and depth_mult (top level, shared, or in a section) above 0, every `layers`
    entry of a section an integer >= 1 (ppattn's CSPResNet would round 0 up to 1), and
    norm_type one ppdet builds."""
    problems = []
    sections = [("", cfg)] + [(f"{k}.", v) for k, v in cfg.items()
                              if k[:1].isupper() and isinstance(v, Mapping)]
    for prefix, section in sections:
        for key in ("width_mult", "depth_mult"):
            if key in section and section[key] is not None:
                problems += _positive_number_problem(f"{prefix}{key}", section[key])
        norm = section.get("norm_type")
        if isinstance(norm, str) and norm not in _NORM_TYPES:
            problems.append(f"{prefix}norm_type must be one of {', '.join(_NORM_TYPES)}, got "
                            f"{norm!r}")
        layers = section.get("layers") if prefix else None
        if isinstance(layers, (list, tuple)) and not all(_is_int(n) and n >= 1 for n in layers):
            problems.append(f"{prefix}layers must be integers >= 1 (blocks per stage), got "
                            f"{list(layers)}")
    return problems


def matches(value: Any, annotation: Any) -> bool:
    """Whether a YAML value fits a constructor annotation (int, float, str, bool, Optional,
    Union, Sequence[...], Callable); anything else is accepted."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return value is None
    if origin is typing.Union:
        return any(matches(value, arg) for arg in args)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return _is_int(value)
    if annotation is float:
        return _is_number(value)
    if annotation is str:
        return isinstance(value, str)
    if origin in (list, tuple, collections.abc.Sequence) or annotation in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        return not args or all(matches(item, args[0]) for item in value)
    if origin is collections.abc.Callable:
        return callable(value)
    return True


def _describe(annotation) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
    return text.replace("Callable[[paddle.Tensor], paddle.Tensor]", "callable")


def _spec_problems(where: str, spec: Mapping) -> List[str]:
    cls = ATTENTIONS[spec["name"]]
    hints = typing.get_type_hints(cls.__init__)
    problems = []
    for key, value in spec.items():
        if key in hints and not matches(value, hints[key]):
            problems.append(f"{where}: {cls.__name__} argument {key!r} must be "
                            f"{_describe(hints[key])}, got {value!r} "
                            f"({type(value).__name__})")
    return problems


def attention_argument_problems(component: str, section: Mapping) -> List[str]:
    """Every attention spec (`{name: eca, gamma: 2}`) anywhere in a component's section, its
    arguments checked against the block's annotated constructor types."""
    problems = []

    def walk(where: str, value) -> None:
        if isinstance(value, Mapping):
            if isinstance(value.get("name"), str) and value["name"] in ATTENTIONS:
                problems.extend(_spec_problems(where, value))
                return
            for key, item in value.items():
                walk(f"{where}.{key}", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(f"{where}[{index}]", item)

    walk(component, section)
    return problems
