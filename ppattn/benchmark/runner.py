"""Run the whole benchmark from one config: blocks at feature-map shapes, then whole models."""
import datetime
from typing import Dict, List, NamedTuple, Optional, Sequence

import paddle

from ..registry import ATTENTIONS, AttentionSpec, accepted_arguments, resolve_attention
from .blocks import TimingPlan, bench_shape
from .flops import count_flops
from .machine import devices, machine_info, set_malloc, set_threads
from .shapes import FeatureShape, shape_sets
from .timing import paddle_peak_bytes, per_repeat_ratios, summarize, time_interleaved


class BenchConfig(NamedTuple):
    """Everything a run depends on; it is stored in the JSON next to the results."""
    blocks: Sequence[str] = tuple(sorted(ATTENTIONS))
    shape_sets: Sequence[str] = ("ppyoloe_s", "resnet50")
    input_size: int = 640
    batch_sizes: Sequence[int] = (1, 8)
    plan: TimingPlan = TimingPlan()
    models: Sequence[str] = ("ppyoloe_s", "faster_rcnn_r50")
    model_input_size: int = 640
    model_batch: int = 1
    model_repeats: int = 10
    model_warmup: int = 2
    threads: int = 1
    devices: Optional[Sequence[str]] = None
    conv_reference: bool = False
    backbone_impl: str = "ppattn"
    malloc: str = "default"


def _specs(names: Sequence[str]) -> Dict[str, AttentionSpec]:
    unknown = [n for n in names if n not in ATTENTIONS]
    if unknown:
        raise ValueError(f"unknown block {unknown[0]!r}; known: {', '.join(sorted(ATTENTIONS))}")
    return {name: name for name in names}


def _replaces_conv(spec: AttentionSpec) -> bool:
    """True for blocks built as conv replacements (they take out_channels and stride: PSA)."""
    cls, _ = resolve_attention(spec)
    return cls is not None and {"out_channels", "stride"} <= set(accepted_arguments(cls))


def run_blocks(config: BenchConfig, device: str, log=print) -> List[Dict]:
    """Rows of bench_shape for every shape set, shape and batch size on one device.

    In ResNet-50 a conv-replacing block (PSA) takes the bottleneck's 3x3 conv, as in EPSANet:
    it is timed at that conv's shape (C / 4 channels in and out, stride 1), next to the 3x3 conv
    it replaces (row 'conv3x3'), in rows whose stage reads 'res2 conv2' and so on.
    """
    sets = shape_sets(config.input_size)
    specs = _specs(config.blocks)
    rows = []
    for set_name in config.shape_sets:
        if set_name not in sets:
            raise ValueError(f"unknown shape set {set_name!r}; known: {', '.join(sets)}")
        conv2 = {k: v for k, v in specs.items() if set_name == "resnet50" and _replaces_conv(v)}
        in_place = {k: v for k, v in specs.items() if k not in conv2}
        for shape in sets[set_name]:
            jobs = [(shape, in_place, config.conv_reference)]
            if conv2:
                jobs.append((FeatureShape(f"{shape.label} conv2", shape.channels // 4, shape.size),
                             conv2, True))
            for batch in config.batch_sizes:
                for job_shape, job_specs, conv_reference in jobs:
                    log(f"[{device}] {set_name} {job_shape.label} N={batch} "
                        f"C={job_shape.channels} H=W={job_shape.size}")
                    rows += [{"set": set_name, **row} for row in bench_shape(
                        job_shape, batch, job_specs, config.plan, device, conv_reference)]
    return rows


def _build_variants(model_name: str, names: Sequence[str], backbones: Dict):
    from .models import MODELS, STOCK
    build = MODELS[model_name]
    variants = [STOCK] + (["none"] if model_name == "ppyoloe_s" else []) + list(names)
    built = {}
    for name in variants:
        try:
            built[name] = build(name, backbone_fn=backbones[model_name])
        except (TypeError, ValueError) as error:
            built[name] = f"{type(error).__name__}: {error}"
    return built


def run_models(config: BenchConfig, device: str, backbones: Optional[Dict] = None,
               log=print) -> List[Dict]:
    """Each model with each block vs stock: params, GFLOPs, memory and interleaved latency.

    `backbones` maps a model name to its backbone function; default BACKBONES[backbone_impl].
    """
    from .models import BACKBONES, MODEL_COUNTERS, STOCK, model_inputs
    if backbones is None:
        if config.backbone_impl not in BACKBONES:
            raise ValueError(f"unknown backbone_impl {config.backbone_impl!r}; known: "
                             f"{', '.join(sorted(BACKBONES))}")
        backbones = BACKBONES[config.backbone_impl]
    paddle.set_device(device)
    rows = []
    sync = (lambda: None) if device == "cpu" else paddle.device.synchronize
    for model_name in config.models:
        log(f"[{device}] model {model_name} at {config.model_input_size}, N={config.model_batch}")
        built = _build_variants(model_name, config.blocks, backbones)
        models = {k: v for k, v in built.items() if not isinstance(v, str)}
        inputs = model_inputs(config.model_batch, config.model_input_size)
        calls = {name: (lambda m=m: m(inputs)) for name, m in models.items()}
        with paddle.no_grad():
            samples = time_interleaved(calls, {n: sync for n in calls}, config.model_repeats,
                                       config.model_warmup)
            counts = {n: count_flops(m, calls[n], MODEL_COUNTERS) for n, m in models.items()}
            memory = {n: paddle_peak_bytes(calls[n], device == "gpu") for n in calls}
        base = {"model": model_name, "device": device, "input": config.model_input_size,
                "batch": config.model_batch}
        for name, model in built.items():
            if isinstance(model, str):
                rows.append({**base, "variant": name, "error": model})
                continue
            row = {**base, "variant": name,
                   "params": int(sum(p.size for p in model.parameters())),
                   "macs": counts[name].macs, "elementwise": counts[name].elementwise,
                   "flops": counts[name].flops, "peak_bytes": memory[name],
                   "latency_ms": {k: (v * 1e3 if k != "n" else v)
                                  for k, v in summarize(samples[name]).items()}}
            for ref in (STOCK, "none"):
                if ref in samples:
                    row[f"latency_over_{ref}"] = summarize(
                        per_repeat_ratios(samples[name], samples[ref]))
            rows.append(row)
    return rows


def run(config: BenchConfig, backbones: Optional[Dict] = None, log=print) -> Dict:
    """Run blocks and models on every device; return {'meta', 'config', 'blocks', 'models'}."""
    set_threads(config.threads)
    meta = {"started": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": machine_info(config.threads), "malloc": set_malloc(config.malloc)}
    results = {"blocks": [], "models": []}
    for device in devices(config.devices):
        results["blocks"] += run_blocks(config, device, log)
        if config.models:
            results["models"] += run_models(config, device, backbones, log)
    meta["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    meta["load_average_end"] = machine_info(config.threads)["load_average"]
    config_dict = config._asdict()
    config_dict["plan"] = config.plan._asdict()
    return {"meta": meta, "config": config_dict, **results}
