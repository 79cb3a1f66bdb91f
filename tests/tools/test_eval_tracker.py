"""tools/eval_tracker.py end to end with an OpenCV baseline and existing result files."""

import json
import os

import numpy as np
import pytest

from siamtrack.io.sequences import load_sequence
from siamtrack.io import write_otb_results


@pytest.fixture
def small_dataset(tmp_path, shared_data):
    """Two generic-layout sequences: the first 8 frames of Crossing and of Deer (symlinks)."""
    root = tmp_path / "seqs"
    for name in ("Crossing", "Deer"):
        full = load_sequence(shared_data / "sequences" / name)
        (root / name / "img").mkdir(parents=True)
        for path in full.frame_paths[:8]:
            os.symlink(path, root / name / "img" / os.path.basename(path))
        np.savetxt(root / name / "groundtruth.txt", full.boxes_xywh[:8], fmt="%g", delimiter=",")
    return root


def test_baseline_and_compare(eval_tracker_tool, small_dataset, tmp_path, capsys):
    from siamtrack.tracking.opencv_trackers import available_opencv_trackers

    out = tmp_path / "out"
    for name in ("Crossing", "Deer"):  # an "oracle" tracker's files, written beforehand
        gt = load_sequence(small_dataset / name).boxes_xywh
        write_otb_results(out / "results", "oracle", name, gt)
    args = [
        "--dataset-root",
        str(small_dataset),
        "--output-dir",
        str(out),
        "--compare",
        "all",
        "--per-sequence",
    ]
    baselines = available_opencv_trackers()[:1]
    if baselines:
        args = args + ["--baselines"] + baselines
    assert eval_tracker_tool.main(args) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert "2 sequences, 16 frames" in printed and lines[4].startswith("oracle")
    assert "Crossing" in printed and "Deer" in printed
    data = json.loads((out / "ope_results.json").read_text())
    names = [t["tracker"] for t in data["trackers"]]
    assert "oracle" in names and len(names) == 1 + len(baselines)
    oracle = data["trackers"][names.index("oracle")]["overall"]
    assert oracle["precision_20"] == 1.0 and oracle["auc"] == pytest.approx(20 / 21)
    assert (out / "success_plot.png").stat().st_size > 0 and (out / "precision_plot.png").is_file()
    for baseline in baselines:
        assert (out / "results" / f"OpenCV-{baseline}" / "Deer.txt").is_file()


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "nothing to evaluate"),
        (["--compare", "ghost"], "tracker 'ghost'"),
        (["--baselines", "Nope"], "has no tracker 'Nope'"),
    ],
)
def test_bad_input_exits_2_with_message(
    eval_tracker_tool, small_dataset, tmp_path, capsys, extra, message
):
    code = eval_tracker_tool.main(
        ["--dataset-root", str(small_dataset), "--output-dir", str(tmp_path / "o")] + extra
    )
    assert code == 2 and message in capsys.readouterr().err


def test_missing_dataset_exits_2(eval_tracker_tool, tmp_path, capsys):
    code = eval_tracker_tool.main(
        [
            "--dataset-root",
            str(tmp_path / "nope"),
            "--output-dir",
            str(tmp_path),
            "--compare",
            "all",
        ]
    )
    assert code == 2 and "nope" in capsys.readouterr().err


def test_our_tracker_got10k_format(eval_tracker_tool, small_dataset, tmp_path, capsys):
    from ..tracking.tiny_model import write_tiny_config

    config = write_tiny_config(tmp_path)
    out = tmp_path / "out"
    args = ["--dataset-root", str(small_dataset), "--output-dir", str(out), "--config-file", str(config),
            "--tracker-name", "tiny", "--format", "got10k", "--device", "cpu"]  # fmt: skip
    assert eval_tracker_tool.main(args) == 0
    for name in ("Crossing", "Deer"):
        folder = out / "results" / "tiny" / name
        assert len((folder / f"{name}_001.txt").read_text().splitlines()) == 8
        assert len((folder / f"{name}_time.txt").read_text().splitlines()) == 8
    assert "tiny" in capsys.readouterr().out
    data = json.loads((out / "ope_results.json").read_text())
    assert data["trackers"][0]["overall"]["num_frames"] == 16


def test_got10k_folder_gets_the_got10k_protocol_unless_overridden(
    eval_tracker_tool, tmp_path, capsys
):
    from siamtrack.io.sequences import load_sequences
    from siamtrack.evaluation import evaluate_results
    from siamtrack.io import write_got10k_results

    from ..evaluation.got10k_folder import make_predictions, write_got10k_val

    split = write_got10k_val(tmp_path / "GOT-10k")
    out = tmp_path / "out"
    for name, (boxes, times) in make_predictions(split).items():
        write_got10k_results(out / "results", "noisy", name, boxes, times)
    args = ["--dataset-root", str(split), "--output-dir", str(out), "--compare", "all"]
    assert eval_tracker_tool.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "got10k protocol" in lines[1] and lines[2].split()[1:4] == ["AO", "SR0.50", "SR0.75"]
    data = json.loads((out / "ope_results.json").read_text())
    expected = evaluate_results(out / "results", "noisy", load_sequences(split), protocol="got10k")
    assert data["protocol"] == "got10k"
    assert data["trackers"][0]["overall"]["ao"] == pytest.approx(expected.overall["ao"])
    assert (out / "success_plot.png").is_file() and not (out / "precision_plot.png").exists()

    assert eval_tracker_tool.main(args + ["--protocol", "lasot", "--skip-first-frame"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "lasot protocol" in lines[1] and "frame 0 left out" in lines[1] and "AUC" in lines[2]
    data = json.loads((out / "ope_results.json").read_text())
    assert data["protocol"] == "lasot" and "auc" in data["trackers"][0]["overall"]
    assert (out / "precision_plot.png").is_file()


def test_nan_rows_in_ground_truth_get_the_longterm_protocol(eval_tracker_tool, tmp_path, capsys):
    """Absent frames (nan rows) pick the longterm protocol; result files with a confidence file
    and without one are compared in one table and one precision-recall plot."""
    import cv2

    from siamtrack.io import load_sequences

    root, out = tmp_path / "LT", tmp_path / "out"
    gt = np.array([[5, 5, 10, 10]] * 3 + [[np.nan] * 4] * 2 + [[6, 5, 10, 10]], dtype=float)
    for name in ("s1", "s2"):
        (root / name / "img").mkdir(parents=True)
        for k in range(len(gt)):
            cv2.imwrite(str(root / name / "img" / f"{k + 1:04d}.jpg"), np.zeros((30, 30, 3)))
        np.savetxt(root / name / "groundtruth.txt", gt, fmt="%g", delimiter=",")
    confident = gt.copy()
    confident[4] = [0, 0, 5, 5]  # a false positive on an absent frame, with a low confidence
    for sequence in load_sequences(root):
        write_otb_results(out / "results", "confident", sequence.name, confident,
                          [1, 0.9, 0.9, 0.1, 0.2, 0.9])  # fmt: skip
        write_otb_results(out / "results", "plain", sequence.name, confident)  # no confidences
    args = ["--dataset-root", str(root), "--output-dir", str(out), "--compare", "all"]
    assert eval_tracker_tool.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "longterm protocol" in lines[1] and lines[2].split()[1:4] == ["F", "Pr", "Re"]
    assert lines[4].startswith("confident") and lines[5].startswith("plain")
    data = json.loads((out / "ope_results.json").read_text())
    confident_overall, plain_overall = (t["overall"] for t in data["trackers"])
    assert data["protocol"] == "longterm" and confident_overall["f_score"] == 1.0
    assert confident_overall["threshold"] == 0.9 and plain_overall["precision"] == 0.75
    assert (out / "precision_recall_plot.png").is_file() and (out / "success_plot.png").is_file()
