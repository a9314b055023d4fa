"""Load a PaddleDetection YAML config with command-line overrides, the way ppdet's tools do.

ppdet keeps one process-wide `global_config` and merges every loaded file into it, so loading
a second config would inherit keys from the first. `load_config` starts from a clean workspace.
"""
import os
from typing import Dict, Iterable, List, Mapping, Optional

import paddle
import yaml
from ppdet.core import workspace
from ppdet.core.workspace import SchemaDict

from ..detection.safe_loading import UnsafeFileError
from ..registry import ATTENTIONS, accepted_arguments
from .checks import ConfigError


def reset_workspace() -> None:
    """Forget every loaded config value; keep the registered components and their schemas."""
    config = workspace.global_config
    for key in list(config):
        if isinstance(config[key], SchemaDict):
            config[key].clear()
        else:
            del config[key]


def parse_overrides(options: Optional[Iterable[str]]) -> Dict:
    """Turn `-o` options like `TrainReader.batch_size=2 epoch=3` into a nested dict.

    Values are read as YAML (`[1, 2]`, `true`, `0.01`). Dotted keys nest to any depth, and
    several options under one prefix combine (`LearningRate.base_lr=0.1 LearningRate.x=1`).
    """
    nested: Dict = {}
    for option in options or ():
        key, sep, value = option.strip().partition("=")
        if not sep or not key:
            raise ValueError(f"option {option!r} is not of the form key=value "
                             f"(nested keys with dots: TrainReader.batch_size=2)")
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"option {option!r} nests under {part!r}, "
                                 f"which an earlier option set to {child!r}")
            node = child
        node[leaf] = _override_value(option, key, value)
    return nested


def _override_value(option: str, key: str, value: str):
    """The YAML value of `-o key=value`, or a ValueError naming the option."""
    if value.startswith("="):
        raise ValueError(f"option {option!r}: the value {value!r} starts with '='; write "
                         f"{key}={value.lstrip('=')}")
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ValueError(f"option {option!r}: {key}'s value {value!r} is not valid YAML "
                         f"({problem}); close its brackets, e.g. {key}=[1, 2], or quote a "
                         f"string: {key}='{value}'") from error


def load_config(path: str, overrides: Optional[Dict] = None):
    """Load `path` (its `_BASE_` chain resolved) into a clean workspace, then `overrides`.

    Returns ppdet's global config, which `ppdet.core.workspace.create` builds from.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    if os.path.splitext(path)[1] not in (".yml", ".yaml"):
        raise ValueError(f"config file {path!r} must end in .yml or .yaml")
    reset_workspace()
    try:
        cfg = workspace.load_config(path)
    except UnsafeFileError:
        raise
    except ValueError as error:  # an empty file, or one that is not a mapping
        raise ConfigError(str(error)) from error
    problems = inherited_spec_problems(cfg, _own_keys(path), path, "its _BASE_ files")
    if overrides:
        workspace.merge_config(overrides)
        problems += inherited_spec_problems(cfg, overrides, "-o", path)
    if problems:
        raise ConfigError("\n".join(problems))
    return cfg


class _OwnKeysLoader(yaml.SafeLoader):
    """Reads one file's own keys; ppdet's component tags (`!PiecewiseDecay`) read as None."""


_OwnKeysLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _own_keys(path: str) -> Mapping:
    with open(path, encoding="utf-8") as f:
        own = yaml.load(f, Loader=_OwnKeysLoader)
    return own if isinstance(own, Mapping) else {}


def _specs(value, where: str):
    """(where, spec) for every attention spec dict (`{name: <block>, ...}`) inside `value`."""
    if isinstance(value, Mapping):
        if isinstance(value.get("name"), str) and value["name"] in ATTENTIONS:
            yield where, value
            return
        for key, item in value.items():
            yield from _specs(item, f"{where}.{key}" if where else str(key))


def _at(cfg: Mapping, where: str):
    node = cfg
    for key in where.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _kept_problem(where: str, spec: Mapping, kept: List[str], source: str, origin: str) -> str:
    cls = ATTENTIONS[spec["name"]]
    return (f"{where}: {source} sets {dict(spec)}, which ppdet merges key by key into the spec "
            f"from {origin}, keeping {', '.join(map(repr, kept))}; {cls.__name__} does not take "
            f"{'it' if len(kept) == 1 else 'them'} (accepted: "
            f"{', '.join(accepted_arguments(cls)[1:])}). A dict cannot drop a base key: give "
            f"the name alone ({where.split('.')[-1]}: {spec['name']}) or a list with one full "
            f"spec per stage, which replaces the base's value")


def inherited_spec_problems(cfg: Mapping, given: Mapping, source: str,
                            origin: str) -> List[str]:
    """Attention specs that `source` (a leaf file's own keys `given`, or the -o overrides) gives
    as a dict, which ppdet merged key by key into the spec from `origin`, keeping arguments the
    new block does not take (`attn: {name: se}` over `{name: eca, gamma: 2}` keeps gamma)."""
    problems = []
    for where, spec in _specs(given, ""):
        merged = _at(cfg, where)
        if not isinstance(merged, Mapping):
            continue
        accepted = accepted_arguments(ATTENTIONS[spec["name"]])[1:]
        kept = [key for key in merged if key not in spec and key not in ("name", "init")
                and key not in accepted]  # init: the backbones' own key (identity init)
        if kept:
            problems.append(_kept_problem(where, spec, kept, source, origin))
    return problems


def select_device(cfg) -> str:
    """Set Paddle's device from `use_gpu`, falling back to the CPU where Paddle has no CUDA.

    Configs follow PaddleDetection and say `use_gpu: true`; a CPU-only Paddle would otherwise
    stop with an error, so the fallback keeps the same config usable on a laptop.
    """
    use_gpu = bool(cfg.get("use_gpu", False)) and paddle.is_compiled_with_cuda()
    cfg.use_gpu = use_gpu
    for key in ("use_xpu", "use_npu", "use_mlu"):
        cfg.setdefault(key, False)
    return paddle.set_device("gpu" if use_gpu else "cpu")
