"""Load a PaddleDetection YAML config with command-line overrides, the way ppdet's tools do.

ppdet keeps one process-wide `global_config` and merges every loaded file into it, so loading
a second config would inherit keys from the first. `load_config` starts from a clean workspace.
"""
import os
from typing import Dict, Iterable, Optional

import paddle
import yaml
from ppdet.core import workspace
from ppdet.core.workspace import SchemaDict


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
        node[leaf] = yaml.safe_load(value)
    return nested


def load_config(path: str, overrides: Optional[Dict] = None):
    """Load `path` (its `_BASE_` chain resolved) into a clean workspace, then `overrides`.

    Returns ppdet's global config, which `ppdet.core.workspace.create` builds from.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    if os.path.splitext(path)[1] not in (".yml", ".yaml"):
        raise ValueError(f"config file {path!r} must end in .yml or .yaml")
    reset_workspace()
    cfg = workspace.load_config(path)
    if overrides:
        workspace.merge_config(overrides)
    return cfg


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
