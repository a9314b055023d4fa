"""The variants of a study: names, each with the attention keys it sets in the base config.

A variant given by name (`--variants none eca se`) puts that block in the backbone's `attn` slot
(PP-YOLOE's ESE place). A study file gives any set of attention keys per variant:

    # my_study.yml: variant name -> the attention keys it sets; the rest is the base config's
    variants:
      none: {attn: none}
      eca: {attn: {name: eca, gamma: 2, b: 1}}
      eca_in_blocks: {attn: eca, block_attn: [none, eca, eca]}
      eca_pan: {attn: eca, pan_attn: eca}      # neck keys need an Attn* neck in the base config

The attention keys of a config are those of its backbone and neck components whose names end in
`attn` (`attn`, `block_attn`, `input_attn`, `fpn_attn`, `pan_attn`, `output_attn`) and AttnResNet's
`plugins` and `std_senet`. Each key replaces the base's value whole: `attn: {name: se}` over an
ECA base does not keep ECA's `gamma`. The first variant is the baseline.
"""
import copy
import re
from typing import Any, Dict, List, Mapping, NamedTuple, Sequence

import yaml
from ppdet.core.workspace import SchemaDict, global_config

from .. import detection  # noqa: F401  (registers the Attn* backbones and necks)
from ..registry import ATTENTIONS, NO_ATTENTION, known_attentions

NAME_SLOT = "attn"
_ROLES = ("backbone", "neck")
_EXTRA_KEYS = ("plugins", "std_senet")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


class Variant(NamedTuple):
    """A variant: its `name` and the attention keys it sets, {key: value}."""
    name: str
    keys: Dict[str, Any]


def check_name(name) -> str:
    """Return `name` if it can name a variant (and its folder), else raise ValueError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"variant name {name!r} must start with a letter or digit and contain "
                         f"only letters, digits and _ . + - (it names the variant's folder)")
    return name


def _check_unique(names: Sequence[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"variant {name!r} is given twice; each variant needs its own name")
        seen.add(name)


def variants_from_names(names: Sequence[str]) -> List[Variant]:
    """One variant per block name ('none' or a registered block), each in the `attn` slot."""
    if not names:
        raise ValueError(f"no variants given; give block names ({known_attentions()})")
    for name in names:
        if name != NO_ATTENTION and name not in ATTENTIONS:
            raise ValueError(f"unknown attention {name!r} in --variants; known: "
                             f"{known_attentions()} (for other keys and arguments, write a "
                             f"study file and pass --study)")
    _check_unique(names)
    return [Variant(name, {NAME_SLOT: name}) for name in names]


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
        if repeated:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {repeated[0]!r} is given twice", node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_study(path: str) -> List[Variant]:
    """The variants of a study file (see the module docstring), in the file's order."""
    try:
        with open(path, encoding="utf-8") as f:
            study = yaml.load(f, Loader=_UniqueKeyLoader)
    except OSError as error:
        raise FileNotFoundError(f"cannot read study file {path!r}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ValueError(f"study file {path!r} is not valid YAML: {error}") from error
    if not isinstance(study, Mapping) or set(study) != {"variants"}:
        found = sorted(study) if isinstance(study, Mapping) else type(study).__name__
        raise ValueError(f"study file {path!r} must hold one key, 'variants' (a mapping of "
                         f"variant name to attention keys), got {found}")
    variants = study["variants"]
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError(f"study file {path!r}: 'variants' must map variant names to their "
                         f"attention keys, e.g. eca: {{attn: eca}}; got {variants!r}")
    result = []
    for name, keys in variants.items():
        check_name(name)
        if not isinstance(keys, Mapping) or not keys:
            raise ValueError(f"study file {path!r}: variant {name!r} must map attention keys "
                             f"to values, e.g. {{attn: eca}}; got {keys!r}")
        result.append(Variant(name, dict(keys)))
    return result


def _component(cfg: Mapping, role: str):
    """The component name filling `role` ('backbone', 'neck') of the config's architecture."""
    architecture = cfg.get("architecture")
    section = cfg.get(architecture) or {}
    if role in section:
        return section[role]
    schema = global_config.get(architecture)
    value = schema.schema.get(role) if isinstance(schema, SchemaDict) else None
    return getattr(value, "default", None)


def _is_attention_key(key: str) -> bool:
    return key.endswith("attn") or key in _EXTRA_KEYS


def attention_keys(cfg: Mapping) -> Dict[str, str]:
    """The attention keys of a merged config: {key: component}, backbone keys first."""
    keys = {}
    for role in _ROLES:
        component = _component(cfg, role)
        schema = global_config.get(component) if isinstance(component, str) else None
        if isinstance(schema, SchemaDict):
            keys.update({key: component for key in schema.schema
                         if _is_attention_key(key) and key not in keys})
    return keys


def _unknown_key_message(variant: Variant, key: str, cfg: Mapping, known: Mapping) -> str:
    parts = ", ".join(f"{role} {_component(cfg, role)}" for role in _ROLES
                      if _component(cfg, role))
    listed = ", ".join(known) or "none"
    hint = (f"--variants fills {NAME_SLOT!r}; for this config write a study file (--study) "
            f"with its keys" if key == NAME_SLOT else
            "neck keys need an Attn* neck in the base config, e.g. YOLOv3: {neck: "
            "AttnCustomCSPPAN} as in configs/demo/ppyoloe_crn_t_eca_neck_eca_pan_shapes.yml")
    return (f"variant {variant.name!r}: {key!r} is not an attention key of this config "
            f"({parts}); its attention keys: {listed}. {hint[0].upper()}{hint[1:]}")


def overrides(variant: Variant, cfg: Mapping) -> Dict[str, Dict[str, Any]]:
    """{component: {key: value}} that turns the merged base config `cfg` into `variant`.

    Raises ValueError naming a key the config's backbone and neck do not have.
    """
    known = attention_keys(cfg)
    result: Dict[str, Dict[str, Any]] = {}
    for key, value in variant.keys.items():
        if key not in known:
            raise ValueError(_unknown_key_message(variant, key, cfg, known))
        result.setdefault(known[key], {})[key] = value
    return result


def apply_variant(variant: Variant, cfg: Mapping) -> Dict:
    """A copy of the merged config `cfg` with the variant's keys replaced whole."""
    result = copy.deepcopy(dict(cfg))
    for component, keys in overrides(variant, cfg).items():
        result[component] = {**(result.get(component) or {}), **copy.deepcopy(keys)}
    return result
