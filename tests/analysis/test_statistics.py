"""ppattn.analysis.statistics: golden values on maps small enough to check by hand."""
import math

import numpy as np
import pytest

from ppattn.analysis import gate_statistics, map_kind, spatial_entropy, summarize_blocks


def test_map_kind_is_channel_only_for_one_by_one_maps():
    assert map_kind(np.zeros((4, 1, 1))) == "channel"
    assert map_kind(np.zeros((4, 3, 1))) == "spatial"     # CoordAttention's height gate
    assert map_kind(np.zeros((1, 1, 5))) == "spatial"
    assert map_kind(np.zeros((2, 3, 4))) == "spatial"


def test_gate_statistics_of_four_gates():
    got = gate_statistics(np.array([0.05, 0.5, 0.95, 1.0]))
    assert got == pytest.approx({"mean": 0.625, "min": 0.05, "max": 1.0,
                                 "fraction_below_0.1": 0.25, "fraction_above_0.9": 0.5})


def test_gate_fractions_exclude_the_edges():
    got = gate_statistics(np.array([0.1, 0.9]))
    assert got["fraction_below_0.1"] == 0.0 and got["fraction_above_0.9"] == 0.0


@pytest.mark.parametrize("profile, entropy, normalised", [
    (np.ones((2, 3)), math.log(6), 1.0),                        # every position alike
    (np.array([[0.0, 0.7], [0.0, 0.0]]), 0.0, 0.0),             # one position
    (np.array([[0.2, 0.2], [0.0, 0.0]]), math.log(2), 0.5),     # two of four
    (np.array([[3.0, 1.0]]), 0.5623351446188083, 0.8112781244591328),  # p = 3/4, 1/4
])
def test_spatial_entropy_golden_values(profile, entropy, normalised):
    got = spatial_entropy(profile)
    assert got == pytest.approx((entropy, normalised))


@pytest.mark.parametrize("profile", [np.zeros((2, 2)), np.array([[1.0, -0.5]])])
def test_spatial_entropy_is_undefined_without_a_distribution(profile):
    assert spatial_entropy(profile) == (None, None)


def test_summary_numbers_match_the_hand_computed_ones(constructed):
    summary = summarize_blocks(constructed.blocks(), sample=1)
    constructed.assert_matches(summary["blocks"], constructed.want_blocks)
    assert summary["no_maps"] == constructed.want_no_maps


def test_summary_reads_the_sample_asked_for(constructed):
    summary = summarize_blocks(constructed.blocks(), sample=0)
    maps = summary["blocks"]["neck.attn"]["maps"]
    assert maps["channel"]["mean"] == 0.0
    assert maps["spatial"]["entropy"] is None     # sample 0's map is all zeros
