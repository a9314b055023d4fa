"""ppattn/benchmark/flops.py: MACs from layer hooks plus the blocks' elementwise work."""
import contextlib
import io

import paddle
import paddle.nn as nn
import pytest

import ppattn
from ppattn.benchmark.flops import count_flops, floor_flops, layer_macs, pool_flops


def _count(block, shape):
    x = paddle.randn(shape)
    with paddle.no_grad():
        return count_flops(block, lambda: block(x))


def test_floor_flops_on_a_1x2x2x2_input():
    # pool: 8 adds + 2 divides; scale: 8 multiplies
    assert pool_flops([1, 2, 2, 2]) == 10
    assert floor_flops([1, 2, 2, 2]) == 18


def test_se_flops_by_hand():
    # C=64, rd=4, 8x8: fc1 64*4 + fc2 4*64 MACs; floor 64*64 + 64 + 64*64, biases 4 + 64,
    # relu 4, sigmoid 64
    count = _count(ppattn.SELayer(64), [1, 64, 8, 8])
    assert count.macs == 512
    assert count.elementwise == 2 * 64 * 64 + 64 + 68 + 4 + 64


def test_eca_macs_are_channels_times_kernel():
    block = ppattn.ECALayer(64)
    count = _count(block, [2, 64, 4, 4])
    assert count.macs == 2 * 64 * block.kernel_size
    assert count.elementwise == floor_flops([2, 64, 4, 4]) + 2 * 64


def test_global_ge_costs_as_much_as_se_of_the_same_width():
    shape = [1, 64, 8, 8]
    ge, se = ppattn.GatherExcite(64, rd_channels=4), ppattn.SELayer(64, rd_channels=4)
    assert _count(ge, shape) == _count(se, shape)


@pytest.mark.parametrize("extent", [2, 4])
def test_strided_ge_counts_its_pooling_windows(extent):
    block = ppattn.GatherExcite(16, extent=extent, use_mlp=False)
    count = _count(block, [1, 16, 8, 8])
    side = 8 // extent
    window = (2 * extent - 1) ** 2
    context = 16 * side * side
    assert count.macs == 0
    assert count.elementwise == context * (window + 1) + context + 16 * 64


def test_psa_counts_its_shared_se_once():
    block = ppattn.PSAModule(64)
    count = _count(block, [1, 64, 4, 4])
    convs = sum(layer_macs(getattr(block, f"conv_{i}"), [1, 16, 4, 4]) for i in range(1, 5))
    se_macs = 4 * 2 * 16 * block.se.rd_channels          # four branches through fc1 and fc2
    assert count.macs == convs + se_macs
    out = 64 * 16
    rd = block.se.rd_channels
    assert count.elementwise == (out + 64) + 4 * (2 * rd + 16) + 64 + 5 * 64 + out


def test_conv_macs_agree_with_paddle_flops_for_a_bias_free_conv():
    # paddle.flops counts sublayers only, hence the Sequential
    conv = nn.Sequential(nn.Conv2D(8, 16, 3, padding=1, groups=2, bias_attr=False))
    with contextlib.redirect_stdout(io.StringIO()):
        expected = paddle.flops(conv, [1, 8, 6, 6])
    assert _count(conv, [1, 8, 6, 6]).macs == expected == 16 * 6 * 6 * (8 // 2 * 9)


def test_counting_leaves_no_hooks_behind():
    block = ppattn.SELayer(16)
    _count(block, [1, 16, 2, 2])
    assert all(not layer._forward_pre_hooks and not layer._forward_post_hooks
               for layer in block.sublayers(include_self=True))


def test_subclasses_of_a_block_are_counted_like_it():
    class Tweaked(ppattn.ECALayer):
        pass

    shape = [1, 64, 4, 4]
    assert _count(Tweaked(64), shape) == _count(ppattn.ECALayer(64), shape)
