"""Run the whole benchmark from one config: blocks at slot shapes, then whole models."""
import datetime
import os
import platform
from typing import Dict, List, NamedTuple, Optional, Sequence

import paddle
from paddle.base import core

from ..registry import ATTENTIONS
from .blocks import TimingPlan, run_blocks
from .shapes import shape_sets
from .timing import paddle_peak_bytes, per_repeat_ratios, summarize, time_interleaved

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "configs")


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
    config_dir: str = CONFIG_DIR


def machine_info(threads: int) -> Dict:
    """CPU model, cores, threads, load, GPU and Paddle version."""
    cpu = platform.processor() or "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle
                        if line.startswith("model name")), cpu)
    gpu = paddle.device.cuda.device_count() > 0 if paddle.is_compiled_with_cuda() else False
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "threads": threads,
            "load_average": list(os.getloadavg()), "python": platform.python_version(),
            "paddle": paddle.__version__,
            "gpu": paddle.device.cuda.get_device_name(0) if gpu else None}


def run_models(config: BenchConfig, device: str, log=print) -> List[Dict]:
    """Each model's stock, 'none' and block variants: params, FLOPs, memory, interleaved latency
    and its ratio to stock."""
    from .models import STOCK, build_model, model_flops, model_inputs, variant_configs
    paddle.set_device(device)
    sync = (lambda: None) if device == "cpu" else paddle.device.synchronize
    rows = []
    for model_name in config.models:
        paths = {name: path for name, path in variant_configs(model_name, config.config_dir).items()
                 if name in (STOCK, "none") or name in config.blocks}
        log(f"[{device}] {model_name}: {', '.join(paths)} at {config.model_input_size}")
        models = {name: build_model(path) for name, path in paths.items()}
        inputs = model_inputs(config.model_batch, config.model_input_size)
        calls = {name: (lambda m=m: m(inputs)) for name, m in models.items()}
        with paddle.no_grad():
            samples = time_interleaved(calls, {name: sync for name in calls},
                                       config.model_repeats, config.model_warmup)
            flops = {name: model_flops(m, calls[name]) for name, m in models.items()}
            peak = {name: paddle_peak_bytes(calls[name], device == "gpu") for name in calls}
        for name, model in models.items():
            rows.append({
                "model": model_name, "variant": name, "config": os.path.relpath(paths[name], config.config_dir),
                "device": device, "input": config.model_input_size, "batch": config.model_batch,
                "params": int(sum(p.size for p in model.parameters())), "flops": flops[name],
                "peak_bytes": peak[name],
                "latency_ms": {k: (v * 1e3 if k != "n" else v)
                               for k, v in summarize(samples[name]).items()},
                "latency_over_stock": summarize(per_repeat_ratios(samples[name],
                                                                  samples[STOCK]))})
    return rows


def run(config: BenchConfig, log=print) -> Dict:
    """Blocks and models on every device; returns {'meta', 'config', 'blocks', 'models'}."""
    unknown = [name for name in config.blocks if name not in ATTENTIONS]
    if unknown:
        raise ValueError(f"unknown block {unknown[0]!r}; known: {', '.join(sorted(ATTENTIONS))}")
    sets = shape_sets(config.input_size)
    bad = [name for name in config.shape_sets if name not in sets]
    if bad:
        raise ValueError(f"unknown shape set {bad[0]!r}; known: {', '.join(sets)}")
    core.set_num_threads(config.threads)
    meta = {"started": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": machine_info(config.threads)}
    found = ["cpu"] + (["gpu"] if meta["machine"]["gpu"] else [])
    results = {"blocks": [], "models": []}
    for device in config.devices or found:
        if device not in found:
            raise ValueError(f"device {device!r} is not available; available: {', '.join(found)}")
        results["blocks"] += run_blocks({name: sets[name] for name in config.shape_sets},
                                        {name: name for name in config.blocks},
                                        config.batch_sizes, config.plan, device, log)
        if config.models:
            results["models"] += run_models(config, device, log)
    meta["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    config_dict = {**config._asdict(), "plan": config.plan._asdict()}
    return {"meta": meta, "config": config_dict, **results}
