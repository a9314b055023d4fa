"""Load pretrained weights into a model with an Attn* backbone by exact parameter names.

ppdet 2.6.0's `load_pretrain_weight` matches a checkpoint key to every model key that ends with
it, so an ImageNet classifier's `fc.weight` also matches every `...attn.fc.weight`. Here a model
key K loads from the checkpoint entry named K, or, for a key inside an Attn* backbone at prefix
P (such as 'backbone.'), from the entry named K without P (backbone-only weights, e.g. ImageNet
ones) or, when the model is the backbone itself, from 'backbone.' + K (a detector checkpoint).
Everything else keeps its initialisation and is listed, as are the checkpoint entries left unused;
weights of which not one entry matches are an error. `match_weights` does the matching alone, for
callers that want every parameter loaded (ppattn.engine.load_weights_strictly).

`pretrain_loader` wraps ppdet's `load_pretrain_weight` so that it uses this for any model that
contains an Attn* backbone; other models go to ppdet's own function unchanged.
`ppattn.detection.patches` installs it with ppattn's other changes to ppdet.
"""
import functools
import os
from dataclasses import dataclass, field
from typing import List, Mapping, Tuple, Union

import numpy as np
import paddle
import paddle.nn as nn
from ppdet.utils.logger import setup_logger

logger = setup_logger(__name__)
DETECTOR_PREFIX = "backbone."


@dataclass
class LoadReport:
    """What `load_pretrained` did: model keys loaded or kept, checkpoint keys unused."""
    loaded: List[str] = field(default_factory=list)
    newly_initialized: List[str] = field(default_factory=list)
    shape_mismatched: List[Tuple[str, str, list, list]] = field(default_factory=list)
    unused: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return the report as log lines."""
        lines = [f"loaded {len(self.loaded)} parameters",
                 f"newly initialised ({len(self.newly_initialized)}): {self.newly_initialized}"]
        for key, source, shape, wanted in self.shape_mismatched:
            lines.append(f"shape mismatch, kept initialisation: {key} {wanted} "
                         f"vs checkpoint {source} {shape}")
        lines.append(f"unused checkpoint entries ({len(self.unused)}): {self.unused}")
        return "\n".join(lines)


def is_attn_backbone(layer: nn.Layer) -> bool:
    """True for AttnCSPResNet, AttnResNet (also after a module reload)."""
    return bool(getattr(type(layer), "__ppattn_backbone__", False))


def backbone_prefixes(model: nn.Layer) -> List[str]:
    """Return the state-dict prefixes of the Attn* backbones in `model` ('' if it is one)."""
    if is_attn_backbone(model):
        return [""]
    return [name + "." for name, layer in model.named_sublayers() if is_attn_backbone(layer)]


def _read(weights) -> Mapping:
    if isinstance(weights, Mapping):
        return weights
    path = os.fspath(weights)
    if not path.endswith(".pdparams"):
        path += ".pdparams"
    if not os.path.isfile(path):
        raise ValueError(f"load_pretrained: no checkpoint at {path!r}")
    try:
        return paddle.load(path)
    except Exception as error:  # EOFError, UnpicklingError, ValueError: none names the file
        raise ValueError(f"load_pretrained: cannot read {path!r} ({os.path.getsize(path)} "
                         f"bytes; truncated or not a Paddle checkpoint): "
                         f"{type(error).__name__}: {error}") from error


def _candidates(key: str, prefixes: List[str]) -> List[str]:
    names = [key]
    for prefix in prefixes:
        if prefix == "":
            names.append(DETECTOR_PREFIX + key)
        elif key.startswith(prefix):
            names.append(key[len(prefix):])
    return names


def match_weights(model: nn.Layer, checkpoint: Mapping) -> Tuple[LoadReport, dict]:
    """Match `checkpoint` (a state dict) to `model` by exact names, as `load_pretrained` does.

    Returns the report and {model key: value in the model's dtype} for the keys that fit.
    Changes nothing.
    """
    prefixes = backbone_prefixes(model)
    report, used, values = LoadReport(), set(), {}
    for key, param in model.state_dict().items():
        source = next((name for name in _candidates(key, prefixes) if name in checkpoint), None)
        if source is None:
            report.newly_initialized.append(key)
            continue
        used.add(source)
        value = checkpoint[source]
        value = paddle.to_tensor(value) if isinstance(value, np.ndarray) else value
        if list(value.shape) != list(param.shape):
            report.shape_mismatched.append((key, source, list(value.shape), list(param.shape)))
            continue
        values[key] = value.astype(param.dtype) if value.dtype != param.dtype else value
        report.loaded.append(key)
    report.unused = [key for key in checkpoint if key not in used]
    return report, values


def assign_weights(model: nn.Layer, values: Mapping) -> None:
    """Set `model`'s state-dict entries from `values` ({key: tensor of the right shape})."""
    state = model.state_dict()
    for key, value in values.items():   # set_state_dict would warn about every key kept
        state[key].set_value(value)


def load_pretrained(model: nn.Layer, weights: Union[str, os.PathLike, Mapping]) -> LoadReport:
    """Load `weights` (a .pdparams path, with or without the suffix, or a state dict) into
    `model` (a detector or a backbone) by exact names, and log and return what happened.

    Raises ValueError when not one parameter matches: such weights belong to another model.
    """
    name = weights if isinstance(weights, (str, os.PathLike)) else "a state dict"
    report, values = match_weights(model, _read(weights))
    if not report.loaded:
        raise ValueError(
            f"load_pretrained: none of the {len(model.state_dict())} parameters of "
            f"{type(model).__name__} matches {name} ({len(report.unused)} entries, e.g. "
            f"{report.unused[:3]}; the model's are like {list(model.state_dict())[:3]}); "
            f"these weights are for another model: check pretrain_weights/weights")
    assign_weights(model, values)
    logger.info(f"ppattn load_pretrained from {name}:\n{report.summary()}")
    return report


def pretrain_loader(ppdet_loader):
    """ppdet's `load_pretrain_weight(model, path)`, routed to `load_pretrained` for models with
    an Attn* backbone."""
    @functools.wraps(ppdet_loader)
    def load_pretrain_weight(model, pretrain_weight):
        if not backbone_prefixes(model):
            return ppdet_loader(model, pretrain_weight)
        from ppdet.utils.checkpoint import _strip_postfix, get_weights_path, is_url
        if is_url(pretrain_weight):
            pretrain_weight = get_weights_path(pretrain_weight)
        return load_pretrained(model, _strip_postfix(pretrain_weight) + ".pdparams")
    return load_pretrain_weight
