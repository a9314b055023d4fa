"""Per-block cost at real slot shapes: parameters, FLOPs (each block's own), latency and memory.

Every candidate runs in the same interleaved repeats: 'floor', the least a channel-attention block
does (`x * x.mean([2, 3], keepdim=True)`: read the input twice, write it once), 'none' (no block)
and each block; a block's time is also given over the floor's, repeat by repeat. Forward runs in
eval mode without gradients, forward + backward in train mode.
"""
from typing import Dict, List, NamedTuple

import paddle
import paddle.nn as nn

from ..layers.flop_count import conv_flops, numel
from ..layers.protocol import block_flops, replaces_conv
from ..registry import AttentionSpec, build_attention, resolve_attention
from .shapes import FeatureShape
from .timing import paddle_peak_bytes, per_repeat_ratios, summarize, time_interleaved

FLOOR, NONE, CONV3X3 = "floor", "none", "conv3x3"


class TimingPlan(NamedTuple):
    """Repeats and warm-up calls per candidate, the shortest sample, and whether to train too."""
    repeats: int = 10
    warmup: int = 3
    min_sample_s: float = 0.01
    backward: bool = True


def floor(x: paddle.Tensor) -> paddle.Tensor:
    """Pool, then scale: the least a channel-attention block does."""
    return x * x.mean([2, 3], keepdim=True)


def _build(specs: Dict[str, AttentionSpec], channels: int, conv_reference: bool) -> Dict:
    """name -> block, or name -> error message where a block can't take `channels`."""
    built = {}
    for name, spec in specs.items():
        try:
            built[name] = build_attention(spec, channels)
        except (TypeError, ValueError) as error:
            built[name] = f"{type(error).__name__}: {error}"
    if conv_reference:          # the C -> C 3x3 conv a conv-replacing block (PSA) takes over
        built[CONV3X3] = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
    return built


def _calls(blocks: Dict[str, nn.Layer], x: paddle.Tensor, grad: paddle.Tensor):
    """(forward calls, forward + backward calls) of the floor, no block and every block."""
    fns = {FLOOR: floor, NONE: lambda t: t, **blocks}
    forward = {name: (lambda fn=fn: fn(x)) for name, fn in fns.items()}
    x_train = x.detach()
    x_train.stop_gradient = False

    def train_step(fn):
        def step():
            paddle.autograd.backward([fn(x_train)], [grad])
            x_train.clear_gradient(False)
            if isinstance(fn, nn.Layer):
                fn.clear_gradients(False)
        return step
    return forward, {name: train_step(fn) for name, fn in fns.items() if name != NONE}


def _time(calls: Dict, plan: TimingPlan, device: str):
    """Interleaved samples and peak bytes of every call."""
    sync = (lambda: None) if device == "cpu" else paddle.device.synchronize
    samples = time_interleaved(calls, {name: sync for name in calls}, plan.repeats, plan.warmup,
                               plan.min_sample_s)
    return samples, {name: paddle_peak_bytes(fn, device == "gpu") for name, fn in calls.items()}


def _ms(samples: List[float]) -> Dict[str, float]:
    return {k: (v * 1e3 if k != "n" else v) for k, v in summarize(samples).items()}


def _flops(name: str, layer, shape: List[int]) -> int:
    if name == FLOOR:
        return 2 * numel(shape)                             # mean, multiply
    if name == NONE:
        return 0
    return conv_flops(layer, shape) if name == CONV3X3 else block_flops(layer, shape)


def bench_shape(shape: FeatureShape, batch: int, specs: Dict[str, AttentionSpec],
                plan: TimingPlan, device: str = "cpu", conv_reference: bool = False) -> List[Dict]:
    """One row per candidate on a [batch, C, H, W] input; a block that can't be built there gets
    a row with its error and no numbers."""
    paddle.set_device(device)
    built = _build(specs, shape.channels, conv_reference)
    blocks = {name: b for name, b in built.items() if not isinstance(b, str)}
    x = paddle.randn([batch, shape.channels, shape.size, shape.size])
    forward, train = _calls(blocks, x, paddle.randn(x.shape))
    for block in blocks.values():
        block.eval()
    with paddle.no_grad():
        fwd, fwd_peak = _time(forward, plan, device)
    bwd, bwd_peak = {}, {}
    if plan.backward:
        for block in blocks.values():
            block.train()
        bwd, bwd_peak = _time(train, plan, device)
    rows = []
    for name in [FLOOR, NONE, *built]:
        row = {"stage": shape.label, "shape": list(x.shape), "block": name, "device": device}
        if isinstance(built.get(name), str):
            rows.append({**row, "error": built[name]})
            continue
        layer = blocks.get(name)
        rows.append({
            **row, "params": sum(int(p.size) for p in layer.parameters()) if layer else 0,
            "flops": _flops(name, layer, list(x.shape)),
            "fwd_ms": _ms(fwd[name]),
            "fwd_over_floor": summarize(per_repeat_ratios(fwd[name], fwd[FLOOR])),
            "fwdbwd_ms": _ms(bwd[name]) if name in bwd else None,
            "fwdbwd_over_floor": (summarize(per_repeat_ratios(bwd[name], bwd[FLOOR]))
                                  if name in bwd else None),
            "fwd_peak_bytes": fwd_peak[name], "fwdbwd_peak_bytes": bwd_peak.get(name)})
    return rows


def run_blocks(sets: Dict[str, List[FeatureShape]], specs: Dict[str, AttentionSpec],
               batch_sizes: List[int], plan: TimingPlan, device: str, log=print) -> List[Dict]:
    """bench_shape over shape sets, shapes and batch sizes.

    In ResNet-50 a conv-replacing block (PSA) takes the bottleneck's 3x3 conv, as in EPSANet: it
    is timed at that conv's shape (C / 4 channels, stride 1) next to the conv ('conv3x3'), in rows
    whose stage reads 'res2 conv2' and so on.
    """
    rows = []
    for set_name, shapes in sets.items():
        conv2 = {name: spec for name, spec in specs.items() if set_name == "resnet50"
                 and replaces_conv(resolve_attention(spec)[0])}
        in_place = {name: spec for name, spec in specs.items() if name not in conv2}
        for shape in shapes:
            jobs = [(shape, in_place, False)]
            if conv2:
                jobs.append((shape._replace(label=f"{shape.label} conv2",
                                            channels=shape.channels // 4), conv2, True))
            for batch in batch_sizes:
                for job_shape, job_specs, reference in jobs:
                    log(f"[{device}] {set_name} {job_shape.label} N={batch} "
                        f"C={job_shape.channels} H=W={job_shape.size}")
                    rows += [{"set": set_name, **row} for row in bench_shape(
                        job_shape, batch, job_specs, plan, device, reference)]
    return rows
