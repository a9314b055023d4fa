"""A config's YAML chain merged into one plain dict, and that dict written back as one file.

A study writes each variant's whole config, with no `_BASE_`, so that a run can be repeated
alone with tools/train.py and so that its hash covers every value it trains with. The merge is
ppdet's (`ppdet.core.workspace._load_config_with_base`): the `_BASE_` files in order, each later
one merged over the earlier ones, then the file's own keys; dicts merge key by key, anything
else is replaced. ppdet's component tags (`- !PiecewiseDecay {...}`) are kept as `Tagged` values
and written back with their tag; YAML anchors are written out as values.
"""
import copy
import hashlib
import os
from typing import Any, Dict, Mapping

import yaml

BASE_KEY = "_BASE_"


class Tagged:
    """A YAML node with a ppdet component tag (`!PiecewiseDecay`), kept as tag and value."""

    def __init__(self, tag: str, value: Any):
        self.tag, self.value = tag, value

    def __eq__(self, other) -> bool:
        return isinstance(other, Tagged) and (self.tag, self.value) == (other.tag, other.value)

    def __repr__(self) -> str:
        return f"Tagged({self.tag!r}, {self.value!r})"


class _Loader(yaml.SafeLoader):
    """Safe YAML, plus ppdet's `!Name` tags as `Tagged` (a `!!python/...` tag stays refused)."""


def _construct_tagged(loader: _Loader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    return Tagged("!" + suffix, value)


_Loader.add_multi_constructor("!", _construct_tagged)


class _Dumper(yaml.SafeDumper):
    """Writes `Tagged` values with their tag and every repeated value in full (no anchors)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _represent_tagged(dumper: _Dumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, Mapping):
        return dumper.represent_mapping(data.tag, data.value)
    if isinstance(data.value, (list, tuple)):
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


_Dumper.add_representer(Tagged, _represent_tagged)


def merge_into(base: Dict, update: Mapping) -> Dict:
    """ppdet's dict_merge: `update`'s keys into `base` (changed in place and returned); dicts
    merge key by key, every other value replaces the base's."""
    for key, value in update.items():
        if isinstance(base.get(key), dict) and isinstance(value, Mapping):
            merge_into(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def read_merged(path: str) -> Dict:
    """The config at `path` with its `_BASE_` chain merged in, as ppdet merges it."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    with open(path, encoding="utf-8") as f:
        own = yaml.load(f, Loader=_Loader)
    if not isinstance(own, dict):
        raise ValueError(f"config file {path!r} is not a mapping of keys to values")
    merged: Dict = {}
    for base in own.pop(BASE_KEY, None) or []:
        base = os.path.expanduser(base)
        if not os.path.isabs(base):
            base = os.path.join(os.path.dirname(path), base)
        merge_into(merged, read_merged(base))
    return merge_into(merged, own)


def config_text(cfg: Mapping) -> str:
    """`cfg` as YAML, keys in their order: one block entry per key, collections of plain
    values inside them in flow style (`[1, 2]`, `{name: eca, gamma: 2}`)."""
    return "".join(yaml.dump({key: value}, Dumper=_Dumper, sort_keys=False, width=100,
                             default_flow_style=None if isinstance(value, (dict, list)) else False,
                             allow_unicode=True) for key, value in cfg.items())


def config_hash(text: str) -> str:
    """A short stable fingerprint of `text` (16 hex digits of its SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_config(cfg: Mapping, path: str, header: str = "") -> str:
    """Write `cfg` to `path` as one YAML file, `header` lines first as comments; return path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(comments + config_text(cfg))
    os.replace(temporary, path)
    return path
