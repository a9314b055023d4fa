"""ppattn/benchmark/blocks.py: one shape through the floor, no block and every block."""
import numpy as np
import paddle
import pytest

import ppattn
from ppattn.benchmark.blocks import FLOOR, FLOOR_FAST, NONE, TimingPlan, bench_shape, floor, \
    floor_fast
from ppattn.benchmark.shapes import FeatureShape

QUICK = TimingPlan(repeats=2, warmup=0, min_sample_s=0.0, backward=True, torch=False)
SPECS = {name: name for name in sorted(ppattn.ATTENTIONS)}


@pytest.fixture(scope="module")
def rows():
    return bench_shape(FeatureShape("tiny", 64, 4), 2, SPECS, QUICK, conv_reference=True)


def test_floor_pools_then_scales():
    x = paddle.to_tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])          # [1, 2, 1, 2]
    assert floor(x).numpy().tolist() == [[[[2.0, 6.0]], [[4.0, 4.0]]]]


@pytest.mark.parametrize("record_gradient", [False, True])
def test_floor_fast_computes_the_floor(record_gradient):
    x = paddle.randn([2, 3, 4, 5])
    x.stop_gradient = not record_gradient     # without gradients it scales by batch norm
    np.testing.assert_allclose(floor_fast(x).numpy(), floor(x).numpy(), rtol=1e-5, atol=1e-6)


def test_every_block_gets_a_row_after_floor_and_none(rows):
    assert [r["block"] for r in rows] == [FLOOR, FLOOR_FAST, NONE, *SPECS, "conv3x3"]
    assert all(r["shape"] == [2, 64, 4, 4] and r["device"] == "cpu" for r in rows)


def test_rows_carry_times_ratios_and_memory(rows):
    for row in rows:
        assert row["fwd_ms"]["n"] == QUICK.repeats
        assert row["fwd_over_floor"]["n"] == QUICK.repeats
        assert row["fwd_peak_bytes"] >= 0
        if row["block"] != NONE:
            assert row["fwdbwd_ms"]["n"] == QUICK.repeats
            assert row["fwdbwd_peak_bytes"] > 0


def test_floor_is_its_own_unit(rows):
    floor_row = rows[0]
    assert floor_row["fwd_over_floor"]["median"] == 1.0
    assert floor_row["params"] == 0 and floor_row["macs"] == 0


def test_params_match_the_built_block(rows):
    by_name = {r["block"]: r for r in rows}
    block = ppattn.build_attention("ese", 64)
    assert by_name["ese"]["params"] == sum(p.size for p in block.parameters()) == 64 * 64 + 64


def test_without_torch_there_are_no_torch_columns(rows):
    assert all(r["torch_fwd_ms"] is None and r["paddle_over_torch_fwd"] is None for r in rows)


def test_a_block_that_cannot_be_built_gets_an_error_row():
    plan = QUICK._replace(backward=False)
    rows = bench_shape(FeatureShape("stage1", 48, 2), 1, {"psa": "psa"}, plan)
    assert rows[-1]["block"] == "psa"
    assert rows[-1]["error"].startswith("ValueError: PSAModule: conv_groups entry")


def test_torch_references_are_timed_in_the_same_run():
    pytest.importorskip("torch")
    plan = QUICK._replace(torch=True)
    rows = bench_shape(FeatureShape("tiny", 64, 4), 1, SPECS, plan)
    for row in rows:
        if row["block"] not in (NONE, FLOOR_FAST):
            assert row["paddle_over_torch_fwd"]["n"] == plan.repeats, row["block"]
            assert row["paddle_over_torch_fwdbwd"]["n"] == plan.repeats, row["block"]
