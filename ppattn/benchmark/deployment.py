"""Deployment latency: exported detectors, one per attention variant, in each CPU runtime.

Every variant's config is exported as tools/export_model.py exports it (with the export's own
verification against dygraph) and converted to ONNX. PP-YOLOE-s has random weights: the convs
cost the same whatever their values, and without NMS nothing else depends on them. The demo
detector ends in NMS, whose work depends on how many boxes pass its score threshold, so it uses
the demo's trained weights (tools/run_demo.sh writes them) when they exist: an untrained head
scores every anchor at the threshold. Then each (variant, runtime,
threads) combination is opened once and all of them take turns, one run each per round, in an
order rotated every round, so that a shared machine's drift hits them alike. Ratios are taken
per round (`per_repeat_ratios`) and summarised by their median:
- `vs_none`: the variant against the no-attention model, same runtime and threads;
- `vs_onnx`: Paddle Inference against ONNX Runtime, same variant and threads.
"""
import functools
import os
from typing import Dict, List, NamedTuple, Optional, Sequence

from ..deploy import convert_to_onnx, onednn_mode_of, open_runtime, sample_inputs
from ..engine import build_trainer, export_model, load_weights_strictly
from ..engine.config import load_config
from .models import STOCK, variant_configs
from .runner import CONFIG_DIR, machine_info
from .timing import per_repeat_ratios, summarize, time_interleaved

NONE = "none"
# (label, runtime, Paddle Inference's oneDNN mode): ppattn's default Paddle path, ONNX Runtime
RUNTIME_CONFIGS = (("paddle", "paddle", "auto"), ("onnx", "onnx", None))
# what tools/export_model.py -o ... would set: PP-YOLOE-s (640 px) without NMS, as deployed in
# batches; the demo detector (128 px) with NMS, trained weights if present. Input sizes are the
# configs' own.
DEPLOY_MODELS = {
    "ppyoloe_s": {"family": "ppyoloe_s",
                  "overrides": {"exclude_nms": True, "norm_type": "bn", "use_gpu": False}},
    "demo": {"config": os.path.join(CONFIG_DIR, "demo", "ppyoloe_crn_t_eca_shapes.yml"),
             "overrides": {"use_gpu": False},
             "weights": os.path.join(os.path.dirname(CONFIG_DIR), "output", "demo",
                                     "ppyoloe_crn_t_eca_shapes", "model_final")},
}


class DeployPlan(NamedTuple):
    models: Sequence[str] = ("ppyoloe_s", "demo")
    variants: Sequence[str] = (NONE, STOCK, "eca", "se", "ge")   # of the PP-YOLOE-s family
    threads: Sequence[int] = (1, 2)
    rounds: int = 10
    warmup: int = 3
    work_dir: str = "output/benchmark/deployment"


def model_variants(model: str, variants: Sequence[str], config_dir: str = CONFIG_DIR
                   ) -> Dict[str, str]:
    """Variant name -> config path of one deployment model (the demo has its one config)."""
    spec = DEPLOY_MODELS[model]
    if "config" in spec:
        return {"eca": spec["config"]}
    found = variant_configs(spec["family"], config_dir)
    unknown = [name for name in variants if name not in found]
    if unknown:
        raise ValueError(f"no {model} config for variant(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(found))}")
    return {name: found[name] for name in variants}


def export_variant(config: str, overrides: Dict, output_dir: str, weights: Optional[str] = None,
                   log=print) -> str:
    """Export one config, with `weights` or random ones (ppattn.engine.export_model, verified),
    and convert it to ONNX; returns the exported folder. A folder already holding both is
    reused."""
    model_dir = os.path.join(output_dir, os.path.splitext(os.path.basename(config))[0])
    done = all(os.path.isfile(os.path.join(model_dir, name))
               for name in ("model.json", "model.pdiparams", "model.onnx"))
    if not done:
        log(f"exporting {config} -> {model_dir}")
        trainer = build_trainer(load_config(config, overrides), "test")
        if weights:
            load_weights_strictly(trainer.model, weights)
        export_model(trainer, output_dir)
        convert_to_onnx(model_dir)
    return model_dir


def time_runtimes(entries: Dict[tuple, tuple], rounds: int, warmup: int
                  ) -> Dict[tuple, List[float]]:
    """ms per run of each entry {key: (runtime, feeds)}, timed by `time_interleaved`: `warmup`
    untimed runs each, then `rounds` rounds in which every entry runs once, the order rotated
    by one per round."""
    calls = {key: functools.partial(runtime.run, feeds)
             for key, (runtime, feeds) in entries.items()}
    seconds = time_interleaved(calls, {key: _no_device_sync for key in calls}, rounds, warmup)
    return {key: [s * 1e3 for s in samples] for key, samples in seconds.items()}


def _no_device_sync() -> None:
    """The runtimes here run on the CPU and return when done."""


def _rows(model: str, times: Dict[tuple, List[float]], modes: Dict[str, str]) -> List[Dict]:
    rows = []
    for (variant, label, threads), samples in times.items():
        row = {"model": model, "variant": variant, "runtime": label, "threads": threads,
               "onednn": modes[variant] if label == "paddle" else None,
               "ms": summarize(samples)}
        base = times.get((NONE, label, threads))
        if base is not None and variant != NONE:
            row["vs_none"] = summarize(per_repeat_ratios(samples, base))
        onnx = times.get((variant, "onnx", threads))
        if label != "onnx" and onnx is not None:
            row["vs_onnx"] = summarize(per_repeat_ratios(samples, onnx))
        rows.append(row)
    return rows


def _has_avx512() -> bool:
    """Whether the CPU has AVX-512 (oneDNN picks other kernels there)."""
    if not os.path.exists("/proc/cpuinfo"):
        return False
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
        return "avx512f" in cpuinfo.read()


def run_deployment(plan: DeployPlan, config_dir: str = CONFIG_DIR, log=print) -> Dict:
    """Export every model's variants, time them interleaved, and return {'meta', 'rows'}."""
    rows: List[Dict] = []
    sizes: Dict[str, List[int]] = {}
    weights: Dict[str, Optional[str]] = {}
    for model in plan.models:
        spec = DEPLOY_MODELS[model]
        trained = spec.get("weights")
        weights[model] = trained if trained and os.path.isfile(trained + ".pdparams") else None
        out = os.path.join(plan.work_dir, model, "trained" if weights[model] else "random")
        dirs = {variant: export_variant(config, spec["overrides"], out, weights[model], log)
                for variant, config in model_variants(model, plan.variants, config_dir).items()}
        entries, modes = {}, {}
        for variant, model_dir in dirs.items():
            feeds = sample_inputs(model_dir)
            sizes[model] = list(feeds["image"].shape[-2:])
            modes[variant] = onednn_mode_of(model_dir)
            for label, runtime, onednn in RUNTIME_CONFIGS:
                for threads in plan.threads:
                    opened = open_runtime(model_dir, runtime, cpu_threads=threads, onednn=onednn)
                    entries[(variant, label, threads)] = (opened, feeds)
        log(f"timing {model}: {len(entries)} combinations x {plan.rounds} rounds, interleaved")
        rows += _rows(model, time_runtimes(entries, plan.rounds, plan.warmup), modes)
    meta = {"machine": {**machine_info(max(plan.threads)), "avx512": _has_avx512()},
            "plan": plan._asdict(),
            "sizes": sizes, "weights": weights}
    return {"meta": meta, "rows": rows}
