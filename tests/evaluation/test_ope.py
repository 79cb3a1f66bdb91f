"""OPE metrics against hand-computed values on tiny cases."""

import numpy as np
import pytest

from siamtrack.evaluation import evaluate, summarize
from siamtrack.evaluation.ope import (
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
)

GT = np.array([[0, 0, 10, 10]] * 4, dtype=float)
PRED = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [30, 0, 10, 10], [0, 0, 10, 20]], dtype=float)
# IoU: 1, 1/3, 0, 1/2; centre distance: 0, 5, 30, 5; normalized distance: 0, .5, 3, .5


def test_thresholds_are_the_standard_ones():
    assert (
        len(SUCCESS_THRESHOLDS) == 21
        and SUCCESS_THRESHOLDS[10] == 0.5
        and SUCCESS_THRESHOLDS[-1] == 1.0
    )
    assert PRECISION_THRESHOLDS[20] == 20 and len(PRECISION_THRESHOLDS) == 51
    assert NORM_PRECISION_THRESHOLDS[20] == 0.2 and NORM_PRECISION_THRESHOLDS[-1] == 0.5


def test_hand_computed_case():
    result = evaluate(PRED, GT)
    expected_curve = np.array([0.75] * 7 + [0.5] * 3 + [0.25] * 10 + [0.0])  # IoU > t
    np.testing.assert_allclose(result["success_curve"], expected_curve)
    assert result["auc"] == pytest.approx((7 * 0.75 + 3 * 0.5 + 10 * 0.25) / 21)
    assert result["precision_20"] == 0.75
    assert result["precision_curve"][4] == 0.25 and result["precision_curve"][5] == 0.75  # <= d
    assert result["precision_curve"][30] == 1.0
    assert result["norm_precision"] == 0.25
    assert result["norm_precision_curve"][50] == 0.75
    assert result["num_frames"] == 4 and result["num_compared"] == 4


def test_absent_and_unknown_frames_are_misses_in_the_full_denominator():
    absent = np.array([False, False, False, True])
    result = evaluate(PRED, GT, absent)
    assert result["success_curve"][0] == 0.5  # IoU > 0 only on frames 0 and 1, out of 4
    assert result["precision_20"] == 0.5
    gt_unknown = GT.copy()
    gt_unknown[3] = np.nan
    np.testing.assert_allclose(evaluate(PRED, gt_unknown)["success_curve"], result["success_curve"])
    gt_empty = GT.copy()
    gt_empty[3] = [0, 0, 0, 0]
    assert evaluate(PRED, gt_empty)["precision_20"] == 0.5
    assert evaluate(PRED, GT, absent)["num_compared"] == 3


def test_nan_prediction_is_a_miss_and_perfect_is_one():
    pred = PRED.copy()
    pred[1] = np.nan
    result = evaluate(pred, GT)
    assert result["success_curve"][0] == 0.5 and result["precision_20"] == 0.5
    perfect = evaluate(GT, GT)
    assert perfect["auc"] == pytest.approx(20 / 21) and perfect["precision_20"] == 1.0


def test_skip_first_frame_and_length_checks():
    result = evaluate(PRED, GT, skip_first_frame=True)
    assert result["num_frames"] == 3 and result["precision_20"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="3 predicted boxes for 4"):
        evaluate(PRED[:3], GT)
    with pytest.raises(ValueError, match="absence flags"):
        evaluate(PRED, GT, np.zeros(2, bool))


def test_centre_convention_matches_pysot_distances():
    rng = np.random.default_rng(0)
    pred = np.c_[rng.uniform(0, 100, (50, 2)), rng.uniform(5, 40, (50, 2))]
    gt = np.c_[rng.uniform(0, 100, (50, 2)), rng.uniform(5, 40, (50, 2))]
    pysot_centre = lambda b: b[:, :2] + (b[:, 2:] - 1) / 2  # noqa: E731
    pysot_distance = np.linalg.norm(pysot_centre(pred) - pysot_centre(gt), axis=1)
    expected = np.mean(pysot_distance <= 20)
    assert evaluate(pred, gt)["precision_20"] == pytest.approx(expected)


def test_summarize_is_the_mean_over_sequences():
    a = dict(evaluate(PRED, GT), fps=10.0)
    b = dict(evaluate(GT, GT), fps=float("nan"))
    overall = summarize([a, b])
    assert overall["auc"] == pytest.approx((a["auc"] + b["auc"]) / 2)
    assert overall["precision_20"] == pytest.approx(0.875)
    np.testing.assert_allclose(
        overall["success_curve"], (a["success_curve"] + b["success_curve"]) / 2
    )
    assert overall["fps"] == 10.0 and overall["num_sequences"] == 2 and overall["num_frames"] == 8
