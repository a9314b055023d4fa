"""Config values of the wrong type or range that ppdet would only trip over later, if at all:
`epoch: -1` trains nothing and exits 0, `batch_size: 0` fails in the sampler, `gamma: two` fails
in a block's arithmetic with a message that names neither the key nor the block.
"""
import collections.abc
import numbers
import typing
from typing import Any, List, Mapping

from ..registry import ATTENTIONS

# top-level key -> smallest accepted value, all integers
_INTEGERS = {"epoch": 1, "snapshot_epoch": 1, "log_iter": 1, "worker_num": 0, "num_classes": 1}
_READERS = ("TrainReader", "EvalReader", "TestReader")


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
