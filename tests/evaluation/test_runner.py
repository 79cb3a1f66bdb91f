"""run_ope / evaluate_results / tables / plots / OpenCV baselines on tiny sequences."""

import json

import cv2
import numpy as np
import pytest

from siamtrack.io.sequences import Sequence, load_sequence
from siamtrack.evaluation import (
    evaluate_results,
    format_table,
    plot_ope,
    run_ope,
    save_reports_json,
)
from siamtrack.io import write_otb_results
from siamtrack.tracking.results import TrackSequenceResult


class ShiftTracker:
    """Returns the ground truth shifted by a fixed offset (reads no images)."""

    def __init__(self, gt_by_first_box, shift):
        self.gt_by_first_box = gt_by_first_box
        self.shift = np.asarray(shift, dtype=float)
        self.calls = 0
        self.name = "shift"

    def track(self, frames, init_box_xywh):
        self.calls += 1
        gt = self.gt_by_first_box[tuple(init_box_xywh)]
        boxes = gt + self.shift
        boxes[0] = init_box_xywh
        return TrackSequenceResult(boxes, np.ones(len(gt)), np.full(len(gt), 0.1))


def _sequences():
    gt_a = np.array([[0, 0, 10, 10], [1, 0, 10, 10], [2, 0, 10, 10]], dtype=float)
    gt_b = np.array(
        [[50, 50, 20, 20], [52, 50, 20, 20], [54, 50, 20, 20], [56, 50, 20, 20]], dtype=float
    )
    seqs = [
        Sequence("seqA", [f"a{k}.jpg" for k in range(3)], gt_a),
        Sequence("seqB", [f"b{k}.jpg" for k in range(4)], gt_b, absent=[False, False, True, False]),
    ]
    return seqs, {tuple(gt_a[0]): gt_a, tuple(gt_b[0]): gt_b}


def test_run_ope_writes_resumes_and_scores(tmp_path):
    seqs, gt = _sequences()
    tracker = ShiftTracker(gt, [0, 25, 0, 0])  # every frame after 0 is a 25 px miss
    report = run_ope(tracker, seqs, result_dir=tmp_path, show_progress=False)
    assert tracker.calls == 2
    assert (tmp_path / "shift" / "seqA.txt").is_file() and (
        tmp_path / "shift" / "seqB.txt"
    ).is_file()
    assert report.per_sequence["seqA"]["precision_20"] == pytest.approx(1 / 3)
    assert report.per_sequence["seqB"]["precision_20"] == pytest.approx(1 / 4)
    assert report.overall["precision_20"] == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert report.per_sequence["seqA"]["fps"] == pytest.approx(10.0)
    again = run_ope(tracker, seqs, result_dir=tmp_path, show_progress=False)  # reuses files
    assert tracker.calls == 2 and again.overall["auc"] == report.overall["auc"]
    run_ope(tracker, seqs, result_dir=tmp_path, overwrite=True, show_progress=False)
    assert tracker.calls == 4
    got = run_ope(
        tracker,
        seqs,
        tracker_name="g",
        result_dir=tmp_path,
        result_format="got10k",
        show_progress=False,
    )
    assert (tmp_path / "g" / "seqB" / "seqB_time.txt").is_file()
    assert got.overall["auc"] == report.overall["auc"]


def test_compare_trackers_table_json_and_plots(tmp_path):
    seqs, gt = _sequences()
    run_ope(
        ShiftTracker(gt, [1, 0, 0, 0]),
        seqs,
        tracker_name="good",
        result_dir=tmp_path,
        show_progress=False,
    )
    for seq in seqs:  # a second tracker's files, written by "someone else"
        write_otb_results(tmp_path, "bad", seq.name, seq.boxes_xywh + [30, 0, 0, 0])
    reports = [evaluate_results(tmp_path, name, seqs) for name in ("bad", "good")]
    assert reports[1].overall["auc"] > reports[0].overall["auc"]
    table = format_table(reports)
    lines = table.splitlines()
    assert lines[3].startswith("good") and lines[4].startswith("bad")  # best first
    assert "seqA" in table and "AUC" in table and "Prec@20" in table
    saved = json.loads(save_reports_json(reports, tmp_path / "ope.json").read_text())
    assert (
        saved["trackers"][0]["tracker"] == "bad" and saved["trackers"][0]["overall"]["fps"] is None
    )
    plots = plot_ope({r.tracker_name: r.overall for r in reports}, tmp_path / "plots")
    for path in plots.values():
        assert path.stat().st_size > 5000 and cv2.imread(str(path)) is not None
    with pytest.raises(FileNotFoundError, match="no results for 2 of 2"):
        evaluate_results(tmp_path, "nobody", seqs)


def test_run_ope_rejects_bad_input():
    seqs, gt = _sequences()
    with pytest.raises(ValueError, match="result_format"):
        run_ope(ShiftTracker(gt, [0, 0, 0, 0]), seqs, result_format="vot")
    bad = Sequence("bad", ["x.jpg"], [[np.nan] * 4])
    with pytest.raises(ValueError, match="'bad': first box"):
        run_ope(ShiftTracker(gt, [0, 0, 0, 0]), [bad], show_progress=False)


def test_opencv_baseline_on_real_frames(shared_data):
    from siamtrack.tracking.opencv_trackers import OpenCVTracker, available_opencv_trackers

    names = available_opencv_trackers()
    if not names:
        pytest.skip("this OpenCV build has no baseline tracker")
    full = load_sequence(shared_data / "sequences" / "Crossing")
    seq = Sequence("Crossing10", full.frame_paths[:10], full.boxes_xywh[:10])
    report = run_ope(OpenCVTracker(names[0]), [seq], show_progress=False)
    assert report.per_sequence["Crossing10"]["num_frames"] == 10
    assert report.overall["auc"] > 0.3  # an easy start of a sequence
    with pytest.raises(ValueError, match="has no tracker 'Nope'"):
        OpenCVTracker("Nope")


class _ScoringCvTracker:
    """Stands in for cv2.TrackerNano / TrackerVit: ``getTrackingScore`` after each update."""

    def __init__(self, scores):
        self.scores = list(scores)
        self.score = float("nan")

    def init(self, image, rect):
        pass

    def update(self, image):
        self.score = self.scores.pop(0)
        return self.score > 0.5, (1, 2, 3, 4)

    def getTrackingScore(self):
        return self.score


def test_opencv_tracking_score_is_the_confidence():
    from siamtrack.tracking.opencv_trackers import OpenCVTracker, available_opencv_trackers

    names = available_opencv_trackers()
    if not names:
        pytest.skip("this OpenCV build has no baseline tracker")
    frames = [np.zeros((20, 20, 3), np.uint8)] * 3
    plain = OpenCVTracker(names[0]).track(frames, [5, 5, 8, 8])
    assert plain.present.all() and np.array_equal(plain.confidences, np.ones(3))
    tracker = OpenCVTracker(names[0])
    tracker._create = lambda: _ScoringCvTracker([0.75, 0.25])
    result = tracker.track(frames, [5, 5, 8, 8])
    np.testing.assert_array_equal(result.confidences, [1.0, 0.75, 0.25])
    np.testing.assert_array_equal(result.scores, [1.0, 0.75, 0.0])  # a failed update scores 0
    assert result.present.all()
