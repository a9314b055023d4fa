"""ppattn.deploy.compare: whether two runs of a detector agree, on outputs small enough to check
by hand."""
import numpy as np
import pytest

from ppattn.deploy import compare_outputs, has_nms, match_detections

# two images: 2 and 1 detections; rows (class, score, x1, y1, x2, y2)
BOXES = np.array([[0, 0.9, 0, 0, 10, 10], [1, 0.8, 5, 5, 20, 20], [2, 0.5, 1, 2, 3, 4]],
                 np.float32)
COUNTS = np.array([2, 1], np.int32)


def test_identical_runs_pass_with_zero_differences():
    result = compare_outputs([BOXES, COUNTS], [BOXES.copy(), COUNTS])
    assert result.passed
    assert result.differences == {"scores": 0.0, "boxes": 0.0, "matched": 3, "mismatched": 0,
                                  "excused": 0}


def test_order_of_rows_makes_no_difference():
    assert compare_outputs([BOXES, COUNTS], [BOXES[[1, 0, 2]], COUNTS]).passed


def test_rounding_within_tolerance_passes_and_is_reported():
    other = BOXES.copy()
    other[0, 1] += 5e-5
    other[1, 4] += 5e-3
    result = compare_outputs([BOXES, COUNTS], [other, COUNTS])
    assert result.passed
    assert result.differences["scores"] == pytest.approx(5e-5, rel=1e-2)
    assert result.differences["boxes"] == pytest.approx(5e-3, rel=1e-2)


def test_a_wrong_score_fails_and_the_summary_says_so():
    other = BOXES.copy()
    other[2, 1] = 0.1                # a miscomputed score on image 1
    result = compare_outputs([BOXES, COUNTS], [other, COUNTS])
    assert not result.passed
    assert result.differences["mismatched"] == 2     # the row in each run lacks a partner
    assert result.summary().startswith("FAIL: ") and "tolerance: scores 0.0001" in \
        result.summary()


def test_a_changed_label_fails():
    other = BOXES.copy()
    other[0, 0] = 2
    assert not compare_outputs([BOXES, COUNTS], [other, COUNTS]).passed


def test_a_missing_detection_fails_unless_it_sits_at_the_cut():
    # image 0 loses its 0.8 row: not the lowest score of a longer list -> mismatch
    shorter = BOXES[[0, 2]]
    assert not compare_outputs([BOXES, COUNTS], [shorter, np.array([1, 1], np.int32)]).passed
    # image 0 keeps 0.9 and a 0.8 tie of another class in place of this one: keep_top_k cut
    rows = np.array([[0, 0.9, 0, 0, 10, 10], [1, 0.8, 5, 5, 20, 20], [2, 0.8, 50, 50, 60, 60]],
                    np.float32)
    result = compare_outputs([rows[:2], np.array([2])], [rows[[0, 2]], np.array([2])])
    assert result.passed and result.differences["excused"] == 2


def test_rows_tied_at_the_threshold_are_excused_when_the_other_run_kept_none():
    # an untrained head: every anchor scores the prior, 0.01, the NMS threshold; one run's
    # rounding keeps all of them, the other's none
    tied = np.array([[0, 0.0100001, 0, 0, 10, 10], [0, 0.01000008, 20, 20, 40, 40]], np.float32)
    none = np.zeros([0, 6], np.float32)
    result = compare_outputs([none, np.array([0])], [tied, np.array([2])])
    assert result.passed and result.differences["excused"] == 2
    # rows spread above the lowest are not at the cut: losing them all is a mismatch
    spread = np.array([[0, 0.9, 0, 0, 10, 10], [0, 0.0100001, 20, 20, 40, 40]], np.float32)
    result = compare_outputs([none, np.array([0])], [spread, np.array([2])])
    assert not result.passed and result.differences["mismatched"] == 1


def test_tied_boxes_swapped_by_nms_are_excused():
    # two overlapping boxes of one class scored within 1e-7: each run's NMS kept another one
    a = np.array([[0, 0.7, 0, 0, 10, 10], [0, 0.3, 30, 30, 40, 40]], np.float32)
    b = np.array([[0, 0.7, 1, 1, 11, 11], [0, 0.3, 30, 30, 40, 40]], np.float32)
    result = compare_outputs([a, np.array([2])], [b, np.array([2])])
    assert result.passed and result.differences["excused"] == 2


def test_match_detections_pairs_the_closest_box():
    a = np.array([[0, 0.5, 0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0.5, 0.004, 0, 10, 10], [0, 0.5, 0.001, 0, 10, 10]], np.float32)
    pairs, left_a, left_b = match_detections(a, b, score_atol=1e-4, box_atol=1e-2)
    assert pairs == [(0, 1)] and left_a == [] and left_b == [0]


def test_raw_outputs_are_compared_elementwise():
    boxes, scores = np.zeros((2, 5, 4), np.float32), np.zeros((2, 3, 5), np.float32)
    assert not has_nms([boxes, scores]) and has_nms([BOXES, COUNTS])
    result = compare_outputs([boxes, scores], [boxes + 0.125, scores])
    assert not result.passed and result.differences == {"scores": 0.0, "boxes": 0.125}
    assert compare_outputs([boxes, scores], [boxes + 0.005, scores]).passed


def test_nms_and_raw_outputs_do_not_compare():
    boxes, scores = np.zeros((1, 5, 4), np.float32), np.zeros((1, 3, 5), np.float32)
    with pytest.raises(ValueError, match="one run has NMS outputs and the other raw"):
        compare_outputs([BOXES, COUNTS], [boxes, scores])
