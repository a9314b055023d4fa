"""Loading a config or a weights file never runs code.

Two loaders of ppdet and Paddle would run whatever a file asks for:
- ppdet's workspace reads YAML with `yaml.Loader`, so `!!python/object/apply:os.system [...]` in a
  config (or in any of its `_BASE_` files) runs the command. `load_config_with_base` reads them
  with a safe loader that knows ppdet's component tags (`!PiecewiseDecay`, ...) and builds no
  other Python object.
- `paddle.load` unpickles `.pdparams`, `.pdopt` and `.pdema` files, so a crafted weights file
  runs code when it is loaded (`weights=`, `pretrain_weights`, resume, `load_pretrained`).
  `restricted_paddle_load` first reads the file with an unpickler that accepts only what these
  files hold (dicts, lists, tuples, strings, numbers, NumPy arrays and dtypes) and refuses any
  other type, naming the file and the type; PyTorch's `weights_only=True` made the same move.
`ppattn.detection.patches` installs both.
"""
import functools
import os
import pickle
from typing import Callable

import yaml
from ppdet.core.workspace import BASE_KEY, AttrDict, merge_config

# (module, name) pairs a Paddle weights or optimizer file may reference
ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("collections", "OrderedDict"), ("_codecs", "encode"),
    ("builtins", "tuple"), ("builtins", "list"), ("builtins", "dict"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "bytearray"),
})


class UnsafeFileError(ValueError):
    """A config or weights file asks to build a Python object ppattn does not load."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path: str):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafeFileError(
                f"{self.path!r} asks to load {module}.{name}, which a weights file never holds; "
                f"refused, since unpickling it could run code. Weights files hold dicts, lists, "
                f"tuples, strings, numbers and NumPy arrays; get the file from a source you trust")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise UnsafeFileError(f"{self.path!r} holds a persistent object reference, which a "
                              f"Paddle weights file never does; refused")


def check_weights_file(path: str) -> None:
    """Raise UnsafeFileError if the pickle in `path` references anything but `ALLOWED_GLOBALS`.

    A file that is not a complete pickle (truncated, or another format) is left to the real
    loader, which reads it the same way and reports its own error.
    """
    with open(path, "rb") as f:
        try:
            _RestrictedUnpickler(f, path).load()
        except UnsafeFileError:
            raise
        except Exception:   # not a whole pickle: pickle raises many types; Paddle names them
            return


def restricted_paddle_load(paddle_load: Callable) -> Callable:
    """`paddle.load` that checks a file with `check_weights_file` before unpickling it."""
    @functools.wraps(paddle_load)
    def load(path, **configs):
        if isinstance(path, (str, os.PathLike)) and os.path.isfile(path):
            check_weights_file(os.fspath(path))
        return paddle_load(path, **configs)
    return load


def _config_loader() -> type:
    """A SafeLoader that also builds ppdet's registered components from their `!Name` tags."""
    class ConfigLoader(yaml.SafeLoader):
        pass
    for tag, constructor in yaml.Loader.yaml_constructors.items():
        if isinstance(tag, str) and tag.startswith("!"):
            ConfigLoader.add_constructor(tag, constructor)
    return ConfigLoader


def _read_yaml(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        try:
            loaded = yaml.load(f, Loader=_config_loader())
        except yaml.constructor.ConstructorError as error:
            raise UnsafeFileError(
                f"config {path!r}: {error.problem} ({error.problem_mark}); ppattn builds no "
                f"Python objects from YAML, only ppdet's component tags such as "
                f"!PiecewiseDecay") from error
    if loaded is None:
        raise ValueError(f"config {path!r} is empty; a config names at least its _BASE_ files "
                         f"or its components")
    if not isinstance(loaded, dict):
        raise ValueError(f"config {path!r} must be a mapping of keys to values, got a "
                         f"{type(loaded).__name__}")
    return loaded


def load_config_with_base(ppdet_loader: Callable) -> Callable:
    """ppdet's `_load_config_with_base` (a file and its `_BASE_` chain, later files winning)
    with `_read_yaml` as the reader."""
    @functools.wraps(ppdet_loader)
    def load(file_path):
        file_cfg = _read_yaml(file_path)
        if BASE_KEY not in file_cfg:
            return file_cfg
        all_base_cfg = AttrDict()
        for base_yml in list(file_cfg.pop(BASE_KEY)):
            base_yml = os.path.expanduser(base_yml)
            if not os.path.isabs(base_yml):
                base_yml = os.path.join(os.path.dirname(file_path), base_yml)
            if not os.path.isfile(base_yml):
                raise FileNotFoundError(f"config {file_path!r}: _BASE_ file {base_yml!r} does "
                                        f"not exist")
            all_base_cfg = merge_config(load(base_yml), all_base_cfg)
        return merge_config(file_cfg, all_base_cfg)
    return load
