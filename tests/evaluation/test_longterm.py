"""The longterm (VOT-LT) protocol: every number against a hand computation on two tiny sequences,
auto-detection, result files with confidences, tables, JSON and the precision-recall plot."""

import json

import cv2
import numpy as np
import pytest

from siamtrack.evaluation import (
    detect_protocol,
    evaluate_longterm,
    evaluate_results,
    format_table,
    plot_reports,
    resolve_protocol,
    run_ope,
    save_reports_json,
    summarize_longterm,
)
from siamtrack.io import load_sequences, write_otb_results
from siamtrack.io.sequences import Sequence
from siamtrack.tracking.results import TrackSequenceResult

NAN = [np.nan] * 4
BOX = [0.0, 0.0, 10.0, 10.0]
# Sequence A: target absent in frame 2. Frame 0 has confidence 0.95, which must not become a
# threshold. IoUs of frames 1..4: 1 (conf 0.9), 0 (target absent, box reported, conf 0.3),
# 1/3 (conf 0.6), NaN box (reported absent while present, conf 0.2).
GT_A = np.array([BOX, BOX, NAN, BOX, BOX])
PRED_A = np.array([BOX, BOX, BOX, [5, 0, 10, 10], NAN])
CONF_A = np.array([0.95, 0.9, 0.3, 0.6, 0.2])
# Sequence B: target absent in frame 3. IoUs of frames 1..3: 0.5 (conf 0.6), 1 (conf 0.8),
# NaN box on the absent frame (conf 0.1: correctly reported absent).
GT_B = np.array([BOX, BOX, BOX, NAN])
PRED_B = np.array([BOX, [0, 0, 10, 5], BOX, NAN])
CONF_B = np.array([0.95, 0.6, 0.8, 0.1])


def _f(precision, recall):
    return 2 * precision * recall / (precision + recall)


def _per_sequence(with_confidences=True):
    return [
        evaluate_longterm(PRED_A, GT_A, CONF_A if with_confidences else None),
        evaluate_longterm(PRED_B, GT_B, CONF_B if with_confidences else None),
    ]


def test_numbers_match_a_hand_computation():
    a, b = _per_sequence()
    overall = summarize_longterm([a, b])
    # thresholds: the distinct confidences of reported frames (finite box), frames 1.. only
    np.testing.assert_array_equal(overall["thresholds"], [0.3, 0.6, 0.8, 0.9])
    # t = 0.9: only A reports (frame 1, IoU 1): Pr over A alone; Re = (1/3 + 0) / 2
    # t = 0.8: A {1}, B {2}: Pr = 1, Re = (1/3 + 1/2) / 2
    # t = 0.6: A {1, 3}: Pr 2/3, Re 4/9; B {1, 2}: Pr 3/4, Re 3/4
    # t = 0.3: A {1, 2, 3}: Pr 4/9, Re 4/9; B as at 0.6
    precision = [(4 / 9 + 3 / 4) / 2, (2 / 3 + 3 / 4) / 2, 1.0, 1.0]
    recall = [(4 / 9 + 3 / 4) / 2, (4 / 9 + 3 / 4) / 2, (1 / 3 + 1 / 2) / 2, 1 / 6]
    np.testing.assert_allclose(overall["precision_curve"], precision, rtol=0, atol=1e-12)
    np.testing.assert_allclose(overall["recall_curve"], recall, rtol=0, atol=1e-12)
    f_curve = [_f(p, r) for p, r in zip(precision, recall)]
    np.testing.assert_allclose(overall["f_curve"], f_curve, rtol=0, atol=1e-12)
    assert np.argmax(f_curve) == 1  # t = 0.6
    assert overall["f_score"] == pytest.approx(_f(17 / 24, 43 / 72), abs=1e-12)
    assert overall["precision"] == pytest.approx(17 / 24, abs=1e-12)
    assert overall["recall"] == pytest.approx(43 / 72, abs=1e-12)
    assert overall["threshold"] == 0.6
    # own decision: every finite box is reported (the NaN rows are not): as at t = 0.3
    assert overall["precision_decision"] == pytest.approx(43 / 72, abs=1e-12)
    assert overall["recall_decision"] == pytest.approx(43 / 72, abs=1e-12)
    assert overall["f_score_decision"] == pytest.approx(43 / 72, abs=1e-12)
    # success over present frames (21 thresholds, IoU > t): A: IoUs 1, 1/3, miss ->
    # (20 + 7) / (3 * 21); B: IoUs 0.5, 1 -> (10 + 20) / (2 * 21)
    assert a["auc_present"] == pytest.approx(27 / 63, abs=1e-12)
    assert b["auc_present"] == pytest.approx(30 / 42, abs=1e-12)
    assert overall["auc_present"] == pytest.approx((27 / 63 + 30 / 42) / 2, abs=1e-12)
    # absent frames: A's frame 2 was reported (a box), B's frame 3 reported absent
    assert (a["absent_reported"], b["absent_reported"], overall["absent_reported"]) == (0, 1, 0.5)
    assert (overall["num_frames"], overall["num_present"], overall["num_absent"]) == (7, 5, 2)
    # one sequence alone: thresholds 0.3, 0.6, 0.9 -> F 4/9, 8/15, 1/2
    assert a["f_score"] == pytest.approx(8 / 15, abs=1e-12) and a["threshold"] == 0.6
    np.testing.assert_allclose(a["f_curve"], [4 / 9, 8 / 15, 0.5], rtol=0, atol=1e-12)


def test_tracker_without_confidences_scores_its_own_decision():
    overall = summarize_longterm(_per_sequence(with_confidences=False))
    np.testing.assert_array_equal(overall["thresholds"], [1.0])
    assert overall["threshold"] == 1.0
    for key in ("f_score", "precision", "recall"):
        assert overall[key] == overall[f"{key}_decision"]
        assert overall[key] == pytest.approx(43 / 72, abs=1e-12)


def test_frame_zero_and_edge_cases():
    # frame 0 is the given box: a miss there would change nothing
    shifted = PRED_A.copy()
    shifted[0] = [50, 50, 10, 10]
    assert evaluate_longterm(shifted, GT_A, CONF_A)["f_score"] == pytest.approx(8 / 15)
    # a tracker that never reports: F 0, Pr undefined, Re 0
    never = evaluate_longterm(np.array([BOX, NAN, NAN]), np.array([BOX, BOX, NAN]))
    assert never["f_score"] == 0 and np.isnan(never["precision"]) and never["recall"] == 0
    assert never["absent_reported"] == 1.0 and never["auc_present"] == 0.0
    # a NaN confidence (an unreadable frame) is never >= t, but its box counts for the decision
    unread = evaluate_longterm(np.array([BOX] * 4), np.array([BOX] * 4), [1, np.nan, 0.4, 0.7])
    np.testing.assert_array_equal(unread["thresholds"], [0.4, 0.7])
    np.testing.assert_allclose(unread["recall_curve"], [2 / 3, 1 / 3], rtol=0, atol=1e-12)
    assert unread["recall_decision"] == 1.0
    # ties go to the highest threshold: t = 0.9 (Pr 1, Re 1/3) and t = 0.4 (Pr = Re = 1/2)
    pred = np.array([BOX, BOX, [0, 0, 10, 5], NAN, BOX])
    tie = evaluate_longterm(pred, np.array([BOX, BOX, BOX, BOX, NAN]), [1, 0.9, 0.4, 0.1, 0.4])
    assert tie["f_curve"].tolist() == [0.5, 0.5] and tie["threshold"] == 0.9
    assert tie["precision"] == 1.0
    with pytest.raises(ValueError, match="2 confidences for 4 frames"):
        evaluate_longterm(np.array([BOX] * 4), np.array([BOX] * 4), [1, 1])


def _write_dataset(root, ground_truths):
    """Generic-layout sequences (img/0001.jpg ... + groundtruth.txt, nan rows where absent)."""
    for name, gt in ground_truths.items():
        (root / name / "img").mkdir(parents=True)
        for k in range(len(gt)):
            cv2.imwrite(
                str(root / name / "img" / f"{k + 1:04d}.jpg"), np.zeros((8, 8, 3), np.uint8)
            )
        lines = [",".join("nan" if np.isnan(v) else f"{v:g}" for v in box) for box in gt]
        (root / name / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return load_sequences(root)


class _ReplayTracker:
    """Returns fixed results per sequence (by its first frame), with presence and confidence."""

    name = "replay"

    def __init__(self, by_first_frame):
        self.by_first_frame = by_first_frame

    def track(self, frames, init_box_xywh):
        boxes, confidences = self.by_first_frame[frames[0]]
        present = np.all(np.isfinite(boxes), axis=1)
        kept = np.where(present[:, None], boxes, 99.0)  # the tracker's own box when absent
        n = len(boxes)
        return TrackSequenceResult(kept, np.ones(n), np.full(n, 0.01), confidences, present)


def test_auto_detection_run_files_table_json_and_plot(tmp_path):
    sequences = _write_dataset(tmp_path / "LT", {"a": GT_A, "b": GT_B})
    assert [s.absent.tolist() for s in sequences] == [
        [False, False, True, False, False],
        [False, False, False, True],
    ]
    assert detect_protocol(sequences) == "longterm"
    short_term = _write_dataset(tmp_path / "ST", {"c": GT_A[:2]})
    assert detect_protocol(short_term) == "otb"
    assert resolve_protocol("otb", sequences).name == "otb"  # an explicit name wins
    assert resolve_protocol("longterm", short_term).name == "longterm"

    tracker = _ReplayTracker(
        {
            sequences[0].frame_paths[0]: (PRED_A, CONF_A),
            sequences[1].frame_paths[0]: (PRED_B, CONF_B),
        }
    )
    results = tmp_path / "results"
    report = run_ope(tracker, sequences, result_dir=results, show_progress=False)
    assert report.protocol == "longterm"
    assert report.overall["f_score"] == pytest.approx(_f(17 / 24, 43 / 72), abs=1e-12)
    assert (results / "replay" / "a.txt").read_text().splitlines()[4] == "nan,nan,nan,nan"
    np.testing.assert_array_equal(np.loadtxt(results / "replay" / "a_confidence.value"), CONF_A)
    np.testing.assert_array_equal(report.confidences["b"], CONF_B)
    # the files give the same numbers; a tracker without confidence files counts 1.0
    again = evaluate_results(results, "replay", sequences)
    assert again.overall["f_score"] == report.overall["f_score"]
    for sequence, pred in zip(sequences, (PRED_A, PRED_B)):
        write_otb_results(results, "plain", sequence.name, pred)
    plain = evaluate_results(results, "plain", sequences)
    assert plain.overall["f_score"] == plain.overall["f_score_decision"]
    assert plain.overall["f_score"] == pytest.approx(43 / 72, abs=1e-12)

    reports = [plain, report]
    lines = format_table(reports).splitlines()
    assert "longterm protocol" in lines[0]
    assert lines[1].split()[1:] == [
        "F", "Pr", "Re", "F(own)", "Pr(own)", "Re(own)", "AUC(pres)", "Abs.rep", "FPS"
    ]  # fmt: skip
    assert lines[3].startswith("replay") and lines[4].startswith("plain")  # by F
    assert lines[3].split()[1] == f"{100 * report.overall['f_score']:.1f}"
    saved = json.loads(save_reports_json(reports, tmp_path / "lt.json").read_text())
    overall = saved["trackers"][1]["overall"]
    assert saved["protocol"] == "longterm" and overall["threshold"] == 0.6
    assert overall["absent_reported"] == 0.5 and "thresholds" not in overall
    assert saved["trackers"][1]["sequences"]["a"]["f_score"] == pytest.approx(8 / 15)
    plots = plot_reports(reports, tmp_path / "plots")
    assert sorted(plots) == ["precision_recall", "success"]
    assert plots["precision_recall"].name == "precision_recall_plot.png"
    for path in plots.values():
        assert path.stat().st_size > 5000 and cv2.imread(str(path)) is not None


def test_nan_rows_in_a_sequence_built_in_code():
    """detect_protocol looks at the ground truth itself, whatever built the Sequence."""
    sequence = Sequence("x", ["0.jpg", "1.jpg"], [BOX, NAN], layout="tracks_json")
    assert detect_protocol([sequence]) == "longterm"
