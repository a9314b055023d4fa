"""Per-block cost at real feature-map shapes: parameters, FLOPs, latency, memory, the floor.

The floor is the least work a channel-attention block can do: read its input twice (pool, then
scale) and write its output once, `x * x.mean([2, 3], keepdim=True)`. It runs in the same
interleaved repeats as the blocks, and every block's time is also given as a ratio to it.
`floor_fast` is the same work through ppattn's own squeeze and scale (`spatial_mean`,
`channel_scale`: on the CPU a matrix-vector pool and, without gradients, a batch-norm scale, both
several times faster than Paddle's mean and broadcast multiply), so a block can beat `floor`, but
not `floor_fast` by much: its excess over `floor_fast` is what its excitation costs.
"""
from contextlib import nullcontext
from typing import Callable, Dict, List, NamedTuple, Optional

import paddle
import paddle.nn as nn

from ..layers.common import channel_scale, spatial_mean
from ..registry import AttentionSpec, build_attention
from .flops import FlopCount, count_flops, floor_flops
from .machine import syncs, torch_module
from .shapes import FeatureShape
from .timing import (paddle_peak_bytes, per_repeat_ratios, summarize, time_interleaved,
                     torch_peak_bytes)

FLOOR, FLOOR_FAST, NONE, CONV3X3 = "floor", "floor_fast", "none", "conv3x3"


class TimingPlan(NamedTuple):
    """How to time: repeats and warm-up calls per candidate, shortest sample, and what to run."""
    repeats: int = 10
    warmup: int = 3
    min_sample_s: float = 0.01
    backward: bool = True
    torch: bool = True


def floor(x: paddle.Tensor) -> paddle.Tensor:
    """Pool, then scale: the least a channel-attention block does."""
    return x * x.mean([2, 3], keepdim=True)


def floor_fast(x: paddle.Tensor) -> paddle.Tensor:
    """The floor through ppattn's squeeze and scale helpers, the fastest we found in Paddle on
    the CPU: how far below `floor` a block can get."""
    return channel_scale(x, spatial_mean(x))


def build_blocks(specs: Dict[str, AttentionSpec], channels: int,
                 conv_reference: bool) -> Dict[str, object]:
    """Return name -> block for one channel count, or name -> error message where it can't build.

    `conv_reference` adds 'conv3x3', the C -> C 3x3 conv that PSA replaces in EPSANet.
    """
    built: Dict[str, object] = {}
    for name, spec in specs.items():
        try:
            built[name] = build_attention(spec, channels)
        except (TypeError, ValueError) as error:
            built[name] = f"{type(error).__name__}: {error}"
    if conv_reference:
        built[CONV3X3] = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
    return built


def _paddle_calls(blocks: Dict[str, nn.Layer], x: paddle.Tensor, grad: paddle.Tensor):
    """Return (forward calls, forward+backward calls) for the floor, no block and each block."""
    fns = {FLOOR: floor, FLOOR_FAST: floor_fast, NONE: lambda t: t, **blocks}
    forward = {name: (lambda fn=fn: fn(x)) for name, fn in fns.items()}
    x_train = x.detach()
    x_train.stop_gradient = False

    def train_step(fn, layer):
        def step():
            paddle.autograd.backward([fn(x_train)], [grad])
            x_train.clear_gradient(False)
            if layer is not None:
                layer.clear_gradients(False)
        return step

    train = {name: train_step(fn, fn if isinstance(fn, nn.Layer) else None)
             for name, fn in fns.items() if name != NONE}
    return forward, train


def _torch_calls(blocks: Dict[str, nn.Layer], x: paddle.Tensor, grad: paddle.Tensor,
                 device: str):
    """The same calls for the torch mirrors of `blocks` (those that have one) and the floor."""
    torch = torch_module()
    from .torch_blocks import mirror_of
    where = "cuda" if device == "gpu" else "cpu"
    x, grad = (torch.from_numpy(t.numpy()).to(where) for t in (x, grad))
    mirrors = {FLOOR: lambda t: t * t.mean((2, 3), keepdim=True)}
    for name, block in blocks.items():
        mirror = (torch.nn.Conv2d(block._in_channels, block._out_channels, 3, padding=1,
                                  bias=False) if name == CONV3X3 else mirror_of(block))
        if mirror is not None:
            mirrors[name] = mirror.to(where)
    forward = {name: (lambda fn=fn: fn(x)) for name, fn in mirrors.items()}
    x_train = x.clone().requires_grad_(True)

    def train_step(fn):
        def step():
            fn(x_train).backward(grad)
            x_train.grad = None
            if isinstance(fn, torch.nn.Module):
                fn.zero_grad(set_to_none=True)
        return step

    return forward, {name: train_step(fn) for name, fn in mirrors.items()}


def _interleaved(paddle_calls: Dict[str, Callable], torch_calls: Dict[str, Callable],
                 device: str, plan: TimingPlan) -> Dict[str, List[float]]:
    """Time Paddle and torch calls in one interleaved run; keys 'paddle:name' / 'torch:name'."""
    sync = syncs(device)
    candidates, waits = {}, {}
    for framework, calls in (("paddle", paddle_calls), ("torch", torch_calls)):
        for name, fn in calls.items():
            candidates[f"{framework}:{name}"] = fn
            waits[f"{framework}:{name}"] = sync[framework]
    return time_interleaved(candidates, waits, plan.repeats, plan.warmup, plan.min_sample_s)


def _set_mode(blocks: Dict[str, nn.Layer], training: bool) -> None:
    for block in blocks.values():
        if training:
            block.train()
        else:
            block.eval()


def _ms(samples: Optional[List[float]]) -> Optional[Dict[str, float]]:
    if not samples:
        return None
    return {k: (v * 1e3 if k != "n" else v) for k, v in summarize(samples).items()}


def _ratio(samples: Dict[str, List[float]], a: str, b: str) -> Optional[Dict[str, float]]:
    if a not in samples or b not in samples:
        return None
    return summarize(per_repeat_ratios(samples[a], samples[b]))


def _flops(name: str, fn, x: paddle.Tensor) -> FlopCount:
    if name in (FLOOR, FLOOR_FAST):
        return FlopCount(0, floor_flops(x.shape))
    if name == NONE:
        return FlopCount(0, 0)
    with paddle.no_grad():
        return count_flops(fn, lambda: fn(x))


def _measure(blocks: Dict[str, nn.Layer], calls, torch_calls, plan: TimingPlan, device: str):
    """Interleaved times and peak memory: forward in eval mode under no_grad, then forward +
    backward in train mode. Returns (forward samples, fwd+bwd samples, peak bytes), keyed
    'paddle:name' / 'torch:name' (peak bytes of fwd+bwd: 'paddle_train:name')."""
    (forward, train), (t_forward, t_train) = calls, torch_calls
    on_gpu = device == "gpu"
    _set_mode(blocks, training=False)
    with paddle.no_grad(), (torch_module().no_grad() if t_forward else nullcontext()):
        fwd = _interleaved(forward, t_forward, device, plan)
        peak = {f"paddle:{n}": paddle_peak_bytes(fn, on_gpu) for n, fn in forward.items()}
        peak.update({f"torch:{n}": torch_peak_bytes(fn, on_gpu) for n, fn in t_forward.items()})
    bwd = {}
    if plan.backward:
        _set_mode(blocks, training=True)
        bwd = _interleaved(train, t_train, device, plan)
        peak.update({f"paddle_train:{n}": paddle_peak_bytes(fn, on_gpu)
                     for n, fn in train.items()})
        _set_mode(blocks, training=False)
    return fwd, bwd, peak


def bench_shape(shape: FeatureShape, batch: int, specs: Dict[str, AttentionSpec],
                plan: TimingPlan, device: str = "cpu", conv_reference: bool = False) -> List[Dict]:
    """Measure the floor, no block and every block of `specs` on one [batch, C, H, W] input.

    Returns one row per candidate; a block that can't be built at this shape gets a row with its
    error and no numbers.
    """
    paddle.set_device(device)
    built = build_blocks(specs, shape.channels, conv_reference)
    blocks = {k: v for k, v in built.items() if isinstance(v, nn.Layer)}
    x = paddle.randn([batch, shape.channels, shape.size, shape.size])
    grad = paddle.randn(x.shape)
    use_torch = plan.torch and torch_module() is not None
    torch_calls = _torch_calls(blocks, x, grad, device) if use_torch else ({}, {})
    fwd, bwd, peak = _measure(blocks, _paddle_calls(blocks, x, grad), torch_calls, plan, device)
    rows = []
    for name in [FLOOR, FLOOR_FAST, NONE, *built]:
        row = {"stage": shape.label, "shape": list(x.shape), "block": name, "device": device}
        if name in built and not isinstance(built[name], nn.Layer):
            rows.append({**row, "error": built[name]})
            continue
        block = blocks.get(name)
        count = _flops(name, block, x)
        params = sum(int(q.size) for q in block.parameters()) if block is not None else 0
        p, t = f"paddle:{name}", f"torch:{name}"
        rows.append({
            **row, "params": params,
            "macs": count.macs, "elementwise": count.elementwise, "flops": count.flops,
            "fwd_ms": _ms(fwd.get(p)), "fwd_over_floor": _ratio(fwd, p, "paddle:floor"),
            "fwdbwd_ms": _ms(bwd.get(p)), "fwdbwd_over_floor": _ratio(bwd, p, "paddle:floor"),
            "fwd_peak_bytes": peak.get(p), "fwdbwd_peak_bytes": peak.get(f"paddle_train:{name}"),
            "torch_fwd_ms": _ms(fwd.get(t)), "paddle_over_torch_fwd": _ratio(fwd, p, t),
            "torch_fwdbwd_ms": _ms(bwd.get(t)), "paddle_over_torch_fwdbwd": _ratio(bwd, p, t),
            "torch_fwd_peak_bytes": peak.get(t),
        })
    return rows
