"""ppattn.deploy.compare: largest differences between two runtimes' outputs, on outputs small
enough to check by hand."""
import numpy as np

from ppattn.deploy import has_nms, output_differences

# two images: 2 and 1 detections; rows (class, score, x1, y1, x2, y2)
BOXES = np.array([[0, 0.9, 0, 0, 10, 10], [1, 0.9, 5, 5, 20, 20], [2, 0.5, 1, 2, 3, 4]],
                 np.float32)
COUNTS = np.array([2, 1], np.int32)


def test_nms_order_of_tied_scores_makes_no_difference():
    swapped = BOXES[[1, 0, 2]]
    assert output_differences([BOXES, COUNTS], [swapped, COUNTS]) == \
        {"boxes": 0.0, "scores": 0.0, "labels": 0, "count": 0}


def test_differences_are_per_image_maxima():
    other = BOXES.copy()
    other[2, 1] += 0.25          # image 1's score
    other[0, 4] += 0.5           # image 0's x2
    diff = output_differences([BOXES, COUNTS], [other, COUNTS])
    assert diff == {"boxes": 0.5, "scores": 0.25, "labels": 0, "count": 0}


def test_a_missing_detection_and_a_changed_label_are_counted():
    other = BOXES[[0, 2]].copy()
    other[1, 0] = 1
    diff = output_differences([BOXES, COUNTS], [other, np.array([1, 1], np.int32)])
    assert diff["count"] == 1 and diff["labels"] == 1


def test_raw_outputs_are_compared_elementwise():
    boxes, scores = np.zeros((2, 5, 4), np.float32), np.zeros((2, 3, 5), np.float32)
    assert not has_nms([boxes, scores]) and has_nms([BOXES, COUNTS])
    diff = output_differences([boxes, scores], [boxes + 0.125, scores])
    assert diff == {"boxes": 0.125, "scores": 0.0}
