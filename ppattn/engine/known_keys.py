"""Every key of a merged config against what ppdet 2.6.0 and ppattn accept, with "did you mean".

ppdet reads the keys it knows and ignores the rest, so `-o epochs=1` starts a 300-epoch run, and a
misspelt transform, optimizer or scheduler fails deep inside ppdet. The sets below are what
ppdet's Trainer, callbacks and export read (ppdet/engine/{trainer,callbacks,export_utils}.py,
read by hand), plus what the registered components share (`__shared__`); the readers, transforms,
optimizers and schedulers are checked against their constructors.
"""
import difflib
import inspect
import sys
from typing import Callable, Dict, Iterable, List, Mapping, Optional

import paddle
from ppdet.core.workspace import SchemaDict
from ppdet.data import reader as ppdet_reader
from ppdet.data import transform as ppdet_transform
from ppdet.data.transform.operators import BaseOperator
from ppdet.optimizer import adamw as ppdet_adamw
from ppdet.optimizer import optimizer as ppdet_optimizer

# top-level keys the Trainer, its callbacks and its export read; `filename` is set by loading
ENGINE_KEYS = frozenset({
    "amp", "amp_level", "architecture", "bias", "classwise", "custom_black_list",
    "custom_white_list", "cycle_epoch", "ema_black_list", "ema_decay", "ema_decay_type",
    "ema_filter_no_grad", "epoch", "export", "filename", "find_unused_parameters", "fleet",
    "init_loss_scaling", "IouType", "log_iter", "map_type", "metric", "multi_scale_eval",
    "num_classes", "output_eval", "pretrain_weights", "print_flops", "print_params",
    "profiler_options", "proposals_path", "save_dir", "save_prediction_only", "save_proposals",
    "snapshot_epoch", "to_static", "unstructured_prune", "use_ema", "use_fused_allreduce_gradients",
    "use_gpu", "use_mlu", "use_npu", "use_vdl", "use_wandb", "use_xpu", "vdl_log_dir", "wandb",
    "weights", "worker_num"})
# keys that only carry a YAML anchor in PaddleDetection's reader files (`eval_size: &eval_size`)
ANCHOR_KEYS = frozenset({"eval_height", "eval_width", "eval_size", "input_height",
                         "input_width", "input_size", "train_height", "train_width"})
EXPORT_KEYS = frozenset({"post_process", "nms", "benchmark", "fuse_conv_bn"})
# a reader's other keys: its loader's, the dataset's `set_kwargs`, and what export reads
READER_EXTRA_KEYS = frozenset({"use_shared_memory", "mixup_epoch", "cutmix_epoch",
                               "mosaic_epoch", "pre_img_epoch", "inputs_def", "fuse_normalize"})
READERS = ("TrainReader", "EvalReader", "TestReader")
TRANSFORM_LISTS = ("sample_transforms", "batch_transforms")
# arguments OptimizerBuilder passes itself (weight_decay too, except for AdamW)
_OPTIMIZER_SET = ("self", "learning_rate", "parameters", "grad_clip", "name")
REGULARIZERS = ("L1", "L2")
_LISTED = 30


def did_you_mean(key: str, accepted: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest accepted name, or ''."""
    close = difflib.get_close_matches(key, list(accepted), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(owner: str, key, accepted: Iterable[str], what: str = "key",
            source: str = "") -> str:
    """The message for one unknown key: owner, key, closest match and the accepted ones (or,
    for more than _LISTED, their number and `source`, where they are listed)."""
    accepted = sorted(accepted)
    listed = (", ".join(accepted) if len(accepted) <= _LISTED
              else f"the {len(accepted)} names of {source}")
    return f"{owner}: unknown {what} {key!r}{did_you_mean(str(key), accepted)}; accepted: {listed}"


def arguments(function: Callable, skip: Iterable[str] = ("self",)) -> Optional[List[str]]:
    """The keyword arguments `function` accepts, or None when it takes **kwargs."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.name not in skip]


def _arguments_problems(owner: str, given: Mapping, function: Callable,
                        skip: Iterable[str] = ("self",)) -> List[str]:
    accepted = arguments(function, skip)
    if accepted is None:
        return []
    return [unknown(owner, key, accepted, "argument") for key in given if key not in accepted]


def top_level_problems(cfg: Mapping) -> List[str]:
    """Lower-case (not component) top-level keys that nothing reads."""
    shared = {name for value in cfg.values() if isinstance(value, SchemaDict)
              for name in (value.shared or ())}
    accepted = ENGINE_KEYS | ANCHOR_KEYS | shared
    components = [k for k, v in cfg.items() if isinstance(v, SchemaDict)]
    problems = []
    for key, value in cfg.items():
        if isinstance(value, SchemaDict) or key in accepted:
            continue
        if key[:1].isupper() and isinstance(value, dict):
            continue  # an unknown component: checks._component_problems names it
        problems.append(f"unknown top-level key {key!r}"
                        f"{did_you_mean(key, sorted(accepted) + components)}; nothing in ppdet "
                        f"or ppattn reads it")
    export = cfg.get("export")
    if isinstance(export, Mapping):
        problems += [unknown("export", key, EXPORT_KEYS) for key in export
                     if key not in EXPORT_KEYS]
    return problems


def transform_classes() -> Dict[str, type]:
    """ppdet's data operators by name, as the readers look them up."""
    return {name: value for name, value in vars(ppdet_transform).items()
            if inspect.isclass(value) and issubclass(value, BaseOperator)
            and value is not BaseOperator}


def _transform_problems(owner: str, transforms) -> List[str]:
    if not isinstance(transforms, (list, tuple)):
        return [f"{owner}: must be a list of {{Transform: {{arguments}}}}, got {transforms!r}"]
    known, problems = transform_classes(), []
    for index, item in enumerate(transforms):
        where = f"{owner}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: must be {{Transform: {{arguments}}}}, got {item!r}")
            continue
        for name, args in item.items():
            if name not in known:
                problems.append(unknown(where, name, known, "transform",
                                        "ppdet.data.transform"))
            elif not isinstance(args, Mapping):
                problems.append(f"{where}: arguments of {name} must be a mapping ({name}: {{}} "
                                f"for none), got {args!r}")
            else:
                problems += _arguments_problems(f"{where} {name}", args, known[name].__init__)
    return problems


def reader_problems(cfg: Mapping) -> List[str]:
    """Each reader's keys, and the transforms in its lists with their arguments."""
    problems = []
    for owner in READERS:
        reader = cfg.get(owner)
        if not isinstance(reader, Mapping):
            continue
        schema = getattr(reader, "schema", None) or arguments(ppdet_reader.BaseDataLoader.__init__)
        accepted = set(schema) | READER_EXTRA_KEYS
        for key, value in reader.items():
            if key not in accepted:
                problems.append(unknown(owner, key, accepted))
            elif key in TRANSFORM_LISTS:
                problems += _transform_problems(f"{owner}.{key}", value)
    return problems


def optimizer_classes() -> Dict[str, Callable]:
    """What `OptimizerBuilder.optimizer.type` may name: paddle.optimizer's, and ppdet's AdamWDL."""
    found = {name: value for name, value in vars(paddle.optimizer).items()
             if inspect.isclass(value) and issubclass(value, paddle.optimizer.Optimizer)
             and value is not paddle.optimizer.Optimizer}
    found["AdamWDL"] = ppdet_adamw.build_adamwdl
    return found


def _optimizer_problems(spec) -> List[str]:
    owner = "OptimizerBuilder.optimizer"
    if not isinstance(spec, Mapping) or "type" not in spec:
        return [f"{owner}: must be a mapping with 'type' (e.g. {{type: Momentum, momentum: "
                f"0.9}}), got {spec!r}"]
    known = optimizer_classes()
    kind = spec["type"]
    if kind not in known:
        return [unknown(owner, kind, known, "optimizer type")]
    args = {k: v for k, v in spec.items() if k not in ("type", "param_groups")}
    if kind == "AdamWDL":
        return _arguments_problems(f"{owner} {kind}", args, known[kind], ("model", "lr"))
    problems = _arguments_problems(f"{owner} {kind}", args, known[kind].__init__, _OPTIMIZER_SET)
    if "weight_decay" in args and kind != "AdamW":
        problems.append(f"{owner}: weight_decay is ignored for {kind} (ppdet sets it from "
                        f"OptimizerBuilder.regularizer); set regularizer: {{type: L2, factor: "
                        f"{args['weight_decay']}}} instead")
    return problems


def _regularizer_problems(spec) -> List[str]:
    owner = "OptimizerBuilder.regularizer"
    if spec in (None, "None"):
        return []
    if not isinstance(spec, Mapping):
        return [f"{owner}: must be null or {{type: L2, factor: 0.0005}}, got {spec!r}"]
    problems = [unknown(owner, key, ("type", "factor")) for key in spec
                if key not in ("type", "factor")]
    if spec.get("type") not in REGULARIZERS:
        problems.append(unknown(owner, spec.get("type"), REGULARIZERS, "type"))
    return problems


def scheduler_classes() -> Dict[str, type]:
    """What a `LearningRate.schedulers` entry may name (classes of ppdet.optimizer.optimizer)."""
    module = sys.modules[ppdet_optimizer.__name__]
    return {name: value for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__
            and name not in ("LearningRate", "OptimizerBuilder")}


def _scheduler_problems(schedulers) -> List[str]:
    owner = "LearningRate.schedulers"
    if not isinstance(schedulers, (list, tuple)) or not schedulers:
        return [f"{owner}: must be a non-empty list (e.g. [{{name: CosineDecay, max_epochs: "
                f"300}}]), got {schedulers!r}"]
    known, problems = scheduler_classes(), []
    for index, item in enumerate(schedulers):
        if not isinstance(item, Mapping):
            continue  # a `!PiecewiseDecay` tag, built (and checked) by the YAML loader
        name = item.get("name")
        if name not in known:
            problems.append(unknown(f"{owner}[{index}]", name, known, "scheduler"))
            continue
        args = {k: v for k, v in item.items() if k != "name"}
        problems += _arguments_problems(f"{owner}[{index}] {name}", args, known[name].__init__)
    return problems


def optimizer_problems(cfg: Mapping) -> List[str]:
    """OptimizerBuilder's optimizer type and arguments, regularizer, and the schedulers."""
    problems = []
    builder = cfg.get("OptimizerBuilder")
    if isinstance(builder, Mapping):
        if "optimizer" in builder:
            problems += _optimizer_problems(builder["optimizer"])
        if "regularizer" in builder:
            problems += _regularizer_problems(builder["regularizer"])
    rate = cfg.get("LearningRate")
    if isinstance(rate, Mapping) and "schedulers" in rate:
        problems += _scheduler_problems(rate["schedulers"])
    return problems
