"""Evaluation protocols: the GOT-10k rule against the got10k toolkit, and protocol selection."""

import json
import logging

import cv2
import numpy as np
import pytest
from got10k.experiments import ExperimentGOT10k
from got10k.utils.metrics import rect_iou

from siamtrack.io.sequences import Sequence, load_sequence, load_sequences
from siamtrack.evaluation import (
    detect_protocol,
    evaluate,
    evaluate_got10k,
    evaluate_results,
    format_table,
    get_protocol,
    plot_reports,
    resolve_protocol,
    save_reports_json,
)
from siamtrack.io import write_got10k_results
from siamtrack.evaluation.ope import bounded_iou_xywh

from .got10k_folder import SEQUENCES, make_predictions, read_ground_truth, write_got10k_val

TRACKERS = {"noisy": False, "nan_box": True}  # name: NaN box on a scored frame


@pytest.fixture
def got10k_val(tmp_path):
    """A GOT-10k val split plus two trackers' GOT-10k result files in ``results/GOT-10k``."""
    split = write_got10k_val(tmp_path / "GOT-10k")
    results = tmp_path / "results" / "GOT-10k"  # where ExperimentGOT10k looks for them
    for tracker, nan_on_visible in TRACKERS.items():
        for name, (boxes, times) in make_predictions(split, nan_on_visible=nan_on_visible).items():
            write_got10k_results(results, tracker, name, boxes, times)
    return split, results


def _toolkit_report(split, results, monkeypatch):
    """got10k's own ExperimentGOT10k.report on the same folder and files (no plot)."""
    monkeypatch.setattr(ExperimentGOT10k, "plot_curves", lambda self, *args, **kwargs: None)
    experiment = ExperimentGOT10k(
        str(split.parent),
        subset="val",
        result_dir=str(results.parent),
        report_dir=str(results.parent.parent / "reports"),
    )
    return experiment.report(list(TRACKERS))


def _toolkit_ious(split, results, tracker):
    """rect_iou of frames 1.. with the image bound, on frames with cover > 0, per sequence."""
    ious = {}
    for name, gt in read_ground_truth(split).items():
        boxes = np.loadtxt(results / tracker / name / f"{name}_001.txt", delimiter=",")
        width, height, _ = SEQUENCES[name]
        cover = np.loadtxt(split / name / "cover.label")
        unbounded = rect_iou(boxes[1:].copy(), gt[1:].copy())[cover[1:] > 0]
        ious[name] = rect_iou(boxes[1:], gt[1:], bound=(width, height))[cover[1:] > 0]
        assert not np.allclose(ious[name], unbounded, equal_nan=True)  # boxes leave the image
    return ious


def test_got10k_numbers_equal_the_toolkit(got10k_val, monkeypatch):
    split, results = got10k_val
    toolkit = _toolkit_report(split, results, monkeypatch)
    sequences = load_sequences(split)
    assert [s.name for s in sequences] == list(SEQUENCES)
    for tracker in TRACKERS:
        report = evaluate_results(results, tracker, sequences)  # protocol "auto" -> got10k
        assert report.protocol == "got10k"
        expected = toolkit[tracker]["overall"]
        ious = _toolkit_ious(split, results, tracker)
        pooled = np.concatenate(list(ious.values()))
        for name, seq_ious in ious.items():
            ours = report.per_sequence[name]
            np.testing.assert_allclose(ours["ious"], seq_ious, rtol=0, atol=1e-12)
            seq_expected = toolkit[tracker]["seq_wise"][name]
            np.testing.assert_allclose(ours["ao"], seq_expected["ao"], rtol=0, atol=1e-9)
            assert ours["sr50"] == pytest.approx(seq_expected["sr"], abs=1e-9)
            assert ours["fps"] == pytest.approx(seq_expected["speed_fps"], abs=1e-9)
        overall = report.overall
        np.testing.assert_allclose(overall["ao"], expected["ao"], rtol=0, atol=1e-9)
        assert overall["sr50"] == pytest.approx(expected["sr"], abs=1e-9)
        assert overall["fps"] == pytest.approx(expected["speed_fps"], abs=1e-9)
        np.testing.assert_allclose(
            overall["success_curve"], expected["succ_curve"], rtol=0, atol=1e-9
        )
        # the toolkit has no SR0.75 scalar: its curve at 0.75, and its IoUs > 0.75
        assert overall["sr75"] == pytest.approx(expected["succ_curve"][75], abs=1e-9)
        assert overall["sr75"] == pytest.approx(np.mean(pooled > 0.75), abs=1e-9)
        assert overall["num_frames"] == len(pooled)
    # the case exercises what it should: NaN on a scored frame makes AO NaN (toolkit too) ...
    assert np.isnan(toolkit["nan_box"]["overall"]["ao"])
    noisy = toolkit["noisy"]["overall"]
    assert np.isfinite(noisy["ao"]) and noisy["sr"] > 0
    # ... and pooling frames is not the mean of per-sequence AOs
    seq_aos = [s["ao"] for s in toolkit["noisy"]["seq_wise"].values()]
    assert abs(np.mean(seq_aos) - noisy["ao"]) > 1e-4


def test_bounding_frame_zero_and_visibility_matter():
    gt = np.array([[5, 5, 10, 10], [40, 0, 10, 10], [0, 0, 10, 10], [20, 20, 10, 10]], float)
    pred = np.array([[30, 30, 5, 5], [40, 0, 20, 10], [0, 0, 10, 10], [20, 20, 10, 5]], float)
    result = evaluate_got10k(pred, gt, [True, True, True, False], image_size_wh=(50, 50))
    # frame 0 and the invisible frame 3 are left out; frame 1 sticks out of the image
    np.testing.assert_allclose(result["ious"], [1.0, 1.0], atol=1e-12)
    assert result["num_frames"] == 2 and result["sr75"] == 1.0
    unbounded = bounded_iou_xywh(pred[1:2], gt[1:2])
    assert unbounded[0] == pytest.approx(0.5)
    # a NaN box on a scored frame: NaN AO, a miss for SR and the curve (toolkit behaviour)
    pred[2] = np.nan
    result = evaluate_got10k(pred, gt, image_size_wh=(50, 50))
    assert np.isnan(result["ao"]) and result["sr50"] == pytest.approx(1 / 3)
    assert result["success_curve"][0] == pytest.approx(2 / 3)  # IoUs 1, NaN, 0.5
    # no scored frame: NaN numbers, no error
    assert np.isnan(evaluate_got10k(pred[:1], gt[:1], image_size_wh=(50, 50))["ao"])
    with pytest.raises(ValueError, match="image_size_wh"):
        evaluate_got10k(pred, gt, image_size_wh=(0, 50))


def test_auto_picks_the_protocol_by_layout_and_an_override_wins(got10k_val, tmp_path):
    split, results = got10k_val
    got10k_sequences = load_sequences(split)
    assert detect_protocol(got10k_sequences) == "got10k"
    assert resolve_protocol("auto", got10k_sequences).name == "got10k"

    otb = tmp_path / "OTB" / "Toy"  # OTB layout: img/0001.jpg + groundtruth_rect.txt
    (otb / "img").mkdir(parents=True)
    for k in range(3):
        cv2.imwrite(str(otb / "img" / f"{k + 1:04d}.jpg"), np.zeros((20, 30, 3), np.uint8))
    (otb / "groundtruth_rect.txt").write_text("1\t2\t5\t6\n" * 3)
    otb_sequences = load_sequences(otb.parent)
    assert detect_protocol(otb_sequences) == "otb"

    lasot = tmp_path / "LaSOT" / "toy" / "toy-1"
    (lasot / "img").mkdir(parents=True)
    for k in range(3):
        cv2.imwrite(str(lasot / "img" / f"{k + 1:08d}.jpg"), np.zeros((20, 30, 3), np.uint8))
    (lasot / "groundtruth.txt").write_text("1,2,5,6\n" * 3)
    (lasot / "full_occlusion.txt").write_text("0,0,1")
    assert detect_protocol([load_sequence(lasot)]) == "lasot"

    with pytest.raises(ValueError, match="different protocols.*protocol="):
        detect_protocol(otb_sequences + got10k_sequences)

    # an explicit protocol wins over the layout
    report = evaluate_results(results, "noisy", got10k_sequences, protocol="otb")
    assert report.protocol == "otb" and "auc" in report.overall and "ao" not in report.overall
    boxes = report.boxes["GOT-10k_Val_000002"]
    seq = got10k_sequences[1]
    assert (
        report.per_sequence[seq.name]["auc"] == evaluate(boxes, seq.boxes_xywh, seq.absent)["auc"]
    )
    assert resolve_protocol("got10k", otb_sequences).name == "got10k"
    assert resolve_protocol("lasot", otb_sequences, skip_first_frame=True).skip_first_frame
    with pytest.raises(ValueError, match="unknown evaluation protocol 'vot'"):
        resolve_protocol("vot", otb_sequences)
    with pytest.raises(ValueError, match="unknown evaluation protocol 'vot'"):
        get_protocol("vot")


def test_visibility_without_cover_labels(got10k_val):
    split, results = got10k_val
    full = load_sequence(split / "GOT-10k_Val_000001")
    assert full.cover is not None and full.cover[7] == 0 and not full.absent[7]
    boxes = evaluate_results(results, "noisy", [full]).boxes[full.name]
    protocol = get_protocol("got10k")
    expected = protocol.evaluate_sequence(full, boxes, None)["ious"]
    # a catalog record without cover labels: they are read from the sequence folder
    record = Sequence(full.name, full.frame_paths, full.boxes_xywh, full.absent, layout="got10k")
    np.testing.assert_array_equal(protocol.evaluate_sequence(record, boxes, None)["ious"], expected)
    # no cover.label at all: the frames not flagged absent are scored (frame 7 comes back)
    (split / full.name / "cover.label").unlink()
    without = protocol.evaluate_sequence(load_sequence(split / full.name), boxes, None)
    assert without["num_frames"] == len(expected) + 1


def test_got10k_table_json_and_plot(got10k_val, tmp_path, caplog):
    split, results = got10k_val
    sequences = load_sequences(split)
    with caplog.at_level(logging.WARNING, logger="siamtrack.evaluation.protocols"):
        reports = [evaluate_results(results, name, sequences) for name in TRACKERS]
    assert "GOT-10k_Val_000003" in caplog.text and "NaN" in caplog.text
    table = format_table(reports)
    lines = table.splitlines()
    assert "got10k protocol" in lines[0]
    assert lines[1].split()[1:] == ["AO", "SR0.50", "SR0.75", "FPS"]
    assert lines[3].startswith("noisy")  # ranked by AO; NaN last
    assert list(reports[0].metrics()) == ["ao", "sr50", "sr75"]
    saved = json.loads(save_reports_json(reports, tmp_path / "ope.json").read_text())
    assert saved["protocol"] == "got10k"
    overall = saved["trackers"][0]["overall"]
    assert set(overall) >= {"ao", "sr50", "sr75", "fps", "num_frames"} and "auc" not in overall
    assert saved["trackers"][1]["overall"]["ao"] is None  # NaN
    assert saved["trackers"][0]["sequences"]["GOT-10k_Val_000002"]["image_size_wh"] == [80, 60]
    plots = plot_reports(reports, tmp_path / "plots")
    assert list(plots) == ["success"] and cv2.imread(str(plots["success"])) is not None
    otb_report = evaluate_results(results, "noisy", sequences, protocol="otb")
    with pytest.raises(ValueError, match="different protocols"):
        format_table(reports + [otb_report])


def test_test_split_has_nothing_to_score(got10k_val, caplog):
    split, results = got10k_val
    folder = split / "GOT-10k_Val_000003"
    first_line = (folder / "groundtruth.txt").read_text().splitlines()[0]
    (folder / "groundtruth.txt").write_text(first_line + "\n")  # as the test split ships it
    for label in ("cover", "absence", "cut_by_image"):
        (folder / f"{label}.label").unlink()
    sequence = load_sequence(folder)
    with caplog.at_level(logging.WARNING, logger="siamtrack.evaluation.protocols"):
        report = evaluate_results(results, "noisy", [sequence])
    assert report.overall["num_frames"] == 0 and np.isnan(report.overall["ao"])
    assert "1 of 1 sequences have no frame to score" in caplog.text
