"""Result files: OTB / GOT-10k / boxes-file round trips, confidences, absent frames, no
clobbering, no partial files."""

import json
import os
import stat

import numpy as np
import pytest

from siamtrack.io import (
    OutputExistsError,
    TrackRows,
    load_sequence,
    read_boxes_file,
    read_got10k_results,
    read_otb_results,
    read_results,
    write_boxes_file,
    write_got10k_results,
    write_otb_results,
)
from siamtrack.io.result_files import find_result_file, list_trackers

BOXES = np.array(
    [[10.0, 20.0, 30.0, 40.0], [10.123456789, 20.5, 31.25, 39.0], [1e-3, 1234.5678, 5.0, 6.0]]
)
SCORES = np.array([1.0, 0.87654321, np.nan])


def test_otb_round_trip_is_exact(tmp_path):
    path = write_otb_results(tmp_path, "siam", "Crossing", BOXES)
    assert path == tmp_path / "siam" / "Crossing.txt"
    assert path.read_text().splitlines()[0] == "10.0,20.0,30.0,40.0"
    np.testing.assert_array_equal(read_otb_results(tmp_path, "siam", "Crossing"), BOXES)
    assert [p.name for p in path.parent.iterdir()] == ["Crossing.txt"]  # no temp files left


def test_got10k_round_trip(tmp_path):
    times = np.array([0.5, 0.01, 0.0125])
    folder = write_got10k_results(tmp_path, "siam", "GOT-10k_Val_000001", BOXES, times)
    assert sorted(p.name for p in folder.iterdir()) == [
        "GOT-10k_Val_000001_001.txt",
        "GOT-10k_Val_000001_time.txt",
    ]
    boxes, read_times = read_got10k_results(tmp_path, "siam", "GOT-10k_Val_000001")
    np.testing.assert_array_equal(boxes, BOXES)
    np.testing.assert_array_equal(read_times, times)
    boxes_auto, _, _ = read_results(tmp_path, "siam", "GOT-10k_Val_000001")
    np.testing.assert_array_equal(boxes_auto, BOXES)
    with pytest.raises(ValueError, match="2 times for 3 boxes"):
        write_got10k_results(tmp_path, "siam", "x", BOXES, times[:2])


def test_find_and_list(tmp_path):
    write_otb_results(tmp_path, "a", "seq1", BOXES)
    write_got10k_results(tmp_path, "b", "seq1", BOXES, np.zeros(3))
    assert list_trackers(tmp_path) == ["a", "b"]
    assert find_result_file(tmp_path, "a", "seq2") is None
    with pytest.raises(FileNotFoundError, match="seq2"):
        read_results(tmp_path, "a", "seq2")


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".json"])
def test_boxes_file_round_trip(tmp_path, suffix):
    path = tmp_path / f"boxes{suffix}"
    write_boxes_file(path, TrackRows(BOXES, SCORES, frames=[0, 1, 2]))
    (rows,) = read_boxes_file(path).values()
    frames, boxes, scores = rows.frames, rows.boxes_xywh, rows.scores
    np.testing.assert_array_equal(frames, [0, 1, 2])
    np.testing.assert_array_equal(boxes, BOXES)
    if suffix == ".txt":
        assert np.all(np.isnan(scores)) and len(path.read_text().splitlines()) == 3
    else:
        np.testing.assert_array_equal(scores, SCORES)
    if suffix == ".csv":
        assert path.read_text().splitlines()[0] == "frame,x,y,w,h,score,present,confidence"
    if suffix == ".json":
        data = json.loads(path.read_text())  # strict JSON: NaN became null
        assert data["frames"][2]["score"] is None and data["box_format"] == "xywh"


def test_boxes_file_never_clobbers_and_checks_input(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("user data\n")
    with pytest.raises(OutputExistsError, match="mine.csv' already exists"):
        write_boxes_file(path, TrackRows(BOXES, SCORES))
    assert path.read_text() == "user data\n"
    write_boxes_file(path, TrackRows(BOXES, SCORES), overwrite=True)
    assert path.read_text().startswith("frame,")
    with pytest.raises(ValueError, match="extension"):
        write_boxes_file(tmp_path / "boxes.xml", TrackRows(BOXES, SCORES))
    with pytest.raises(ValueError, match="3 boxes, 2 scores"):
        write_boxes_file(tmp_path / "b.txt", TrackRows(BOXES, SCORES[:2]))


def test_outputs_get_the_permissions_of_a_plain_open(tmp_path):
    previous = os.umask(0o027)
    try:
        path = write_otb_results(tmp_path, "siam", "Crossing", BOXES)
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o640


def test_several_targets_in_one_boxes_file(tmp_path):
    tracks = {
        0: TrackRows(BOXES, SCORES, np.arange(3)),
        "car": TrackRows(BOXES[:2] + 1, SCORES[:2], np.arange(1, 3)),
    }
    (csv_path,) = write_boxes_file(tmp_path / "b.csv", tracks)
    header = "frame,target,x,y,w,h,score,present,confidence"
    assert csv_path.read_text().splitlines()[0] == header
    back = read_boxes_file(csv_path)
    assert sorted(back) == ["0", "car"]
    np.testing.assert_array_equal(back["car"].frames, [1, 2])
    np.testing.assert_array_equal(back["car"].boxes_xywh, BOXES[:2] + 1)
    (json_path,) = write_boxes_file(tmp_path / "b.json", tracks)
    np.testing.assert_array_equal(read_boxes_file(json_path)["0"].boxes_xywh, BOXES)
    txt_paths = write_boxes_file(tmp_path / "b.txt", tracks)
    assert [p.name for p in txt_paths] == ["b_0.txt", "b_car.txt"]
    np.testing.assert_array_equal(read_otb_results(tmp_path, ".", "b_car"), BOXES[:2] + 1)
    with pytest.raises(OutputExistsError, match="b_0.txt"):
        write_boxes_file(tmp_path / "b.txt", tracks)


def test_result_folders_carry_confidences_and_absent_rows(tmp_path):
    boxes = BOXES.copy()
    boxes[1] = np.nan  # reported absent
    confidences = np.array([1.0, 0.125, 0.75])
    path = write_otb_results(tmp_path, "lt", "seq", boxes, confidences)
    assert path.read_text().splitlines()[1] == "nan,nan,nan,nan"
    assert (tmp_path / "lt" / "seq_confidence.value").read_text() == "1.0\n0.125\n0.75\n"
    saved = read_results(tmp_path, "lt", "seq")
    np.testing.assert_array_equal(saved.boxes_xywh, boxes)
    np.testing.assert_array_equal(saved.confidences, confidences)
    assert saved.times is None
    folder = write_got10k_results(tmp_path, "g", "seq", boxes, [0.5, 0.1, 0.1], confidences)
    assert (folder / "seq_001_confidence.value").is_file()
    boxes_back, times_back, confidences_back = read_results(tmp_path, "g", "seq")
    np.testing.assert_array_equal(boxes_back, boxes)
    np.testing.assert_array_equal(times_back, [0.5, 0.1, 0.1])
    np.testing.assert_array_equal(confidences_back, confidences)
    # without confidences: no file (an older one is removed), all 1.0 when read
    write_otb_results(tmp_path, "lt", "seq", boxes)
    assert not (tmp_path / "lt" / "seq_confidence.value").exists()
    np.testing.assert_array_equal(read_results(tmp_path, "lt", "seq").confidences, np.ones(3))
    with pytest.raises(ValueError, match="2 confidences for 3 boxes"):
        write_otb_results(tmp_path, "lt", "seq", boxes, confidences[:2])
    (tmp_path / "lt" / "seq_confidence.value").write_text("1\n0.5\n")
    with pytest.raises(ValueError, match="seq_confidence.value: 2 confidences for 3 boxes"):
        read_results(tmp_path, "lt", "seq")


def _absent_track():
    """Frame 1 reported absent (the tracker keeps its box there), frame 2 unreadable."""
    return TrackRows(BOXES, SCORES, present=[True, False, True], confidences=[1.0, 0.25, np.nan])


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".json"])
def test_boxes_file_absent_frames(tmp_path, suffix):
    path = tmp_path / f"b{suffix}"
    (written,) = write_boxes_file(path, _absent_track())
    assert written == path
    (rows,) = read_boxes_file(path).values()
    np.testing.assert_array_equal(rows.present, [True, False, True])
    if suffix == ".txt":  # the VOT-LT / UAV123 convention: no box on absent frames
        assert path.read_text().splitlines()[1] == "nan,nan,nan,nan"
        np.testing.assert_array_equal(rows.boxes_xywh, _absent_track().reported_boxes_xywh)
        assert np.all(np.isnan(rows.confidences))
        return
    np.testing.assert_array_equal(rows.boxes_xywh, BOXES)  # the last box is kept
    np.testing.assert_array_equal(rows.confidences, [1.0, 0.25, np.nan])
    np.testing.assert_array_equal(rows.scores, SCORES)
    if suffix == ".csv":
        lines = path.read_text().splitlines()
        assert lines[2] == "1,10.123456789,20.5,31.25,39.0,0.87654321,0,0.25"
    else:
        row = json.loads(path.read_text())["frames"][1]
        assert row["present"] is False and row["confidence"] == 0.25
        assert json.loads(path.read_text())["frames"][2]["confidence"] is None


def test_single_target_forms_and_older_files(tmp_path):
    """A track, {None: track} and a TrackSequenceResult-like object write the same file; csv /
    json written before the present and confidence columns still read."""
    from types import SimpleNamespace

    track = _absent_track()
    like = SimpleNamespace(
        boxes_xywh=BOXES, scores=SCORES, present=track.present, confidences=track.confidences
    )
    texts = []
    for name, tracks in (("a", track), ("b", {None: track}), ("c", like)):
        (path,) = write_boxes_file(tmp_path / f"{name}.csv", tracks)
        texts.append(path.read_text())
    assert texts[0] == texts[1] == texts[2]
    with pytest.raises(ValueError, match="target id None"):
        write_boxes_file(tmp_path / "d.csv", {None: track, 1: track})
    old = tmp_path / "old.csv"
    old.write_text("frame,x,y,w,h,score\n0,1.0,2.0,3.0,4.0,1.0\n1,nan,nan,nan,nan,0.5\n")
    (rows,) = read_boxes_file(old).values()
    np.testing.assert_array_equal(rows.present, [True, False])
    assert np.all(np.isnan(rows.confidences))
    old_json = tmp_path / "old.json"
    old_json.write_text(
        json.dumps({"frames": [{"frame": 3, "box_xywh": [1, 2, 3, 4], "score": None}]})
    )
    (rows,) = read_boxes_file(old_json).values()
    assert rows.frames.tolist() == [3] and rows.present.tolist() == [True]
    (tmp_path / "bad.csv").write_text("frame,x,y,w,h,score,present\n")
    with pytest.raises(ValueError, match="expected a header"):
        read_boxes_file(tmp_path / "bad.csv")


def test_several_targets_absent_frames_and_overwrite(tmp_path):
    tracks = {0: _absent_track(), 1: TrackRows(BOXES[:2], SCORES[:2], [1, 2])}
    (path,) = write_boxes_file(tmp_path / "t.csv", tracks)
    lines = path.read_text().splitlines()
    assert lines[0] == "frame,target,x,y,w,h,score,present,confidence"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["0", "0"], ["1", "0"], ["1", "1"], ["2", "0"], ["2", "1"]
    ]  # fmt: skip
    back = read_boxes_file(path)
    np.testing.assert_array_equal(back["0"].present, [True, False, True])
    np.testing.assert_array_equal(back["1"].frames, [1, 2])
    json_rows = json.loads(write_boxes_file(tmp_path / "t.json", tracks)[0].read_text())["frames"]
    assert json_rows[1] == {
        "frame": 1,
        "target": 0,
        "box_xywh": BOXES[1].tolist(),
        "score": SCORES[1],
        "present": False,
        "confidence": 0.25,
    }
    # .txt: one file per target; an existing one stops everything unless overwrite
    (tmp_path / "t_1.txt").write_text("mine\n")
    with pytest.raises(OutputExistsError, match="t_1.txt"):
        write_boxes_file(tmp_path / "t.txt", tracks)
    assert not (tmp_path / "t_0.txt").exists() and (tmp_path / "t_1.txt").read_text() == "mine\n"
    paths = write_boxes_file(tmp_path / "t.txt", tracks, overwrite=True)
    assert [p.name for p in paths] == ["t_0.txt", "t_1.txt"]
    assert paths[0].read_text().splitlines()[1] == "nan,nan,nan,nan"
    with pytest.raises(OutputExistsError, match="t.csv"):
        write_boxes_file(tmp_path / "t.csv", tracks)


def _generic_sequence(root, lines):
    (root / "img").mkdir(parents=True)
    for k in range(len(lines)):
        (root / "img" / f"{k + 1:04d}.jpg").write_bytes(b"")
    (root / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return root


def test_ground_truth_nan_rows_mark_absent_frames(tmp_path):
    lines = ["1,2,3,4", "nan,nan,nan,nan", "NaN\tNaN\tNaN\tNaN", "1,2,3,4"]
    sequence = load_sequence(_generic_sequence(tmp_path / "seq", lines))
    np.testing.assert_array_equal(sequence.absent, [False, True, True, False])
    bad = _generic_sequence(tmp_path / "bad", ["1,2,3,4", "1,nan,3,4", "1,2,3,4"])
    with pytest.raises(ValueError) as raised:
        load_sequence(bad)
    message = str(raised.value)
    assert message.startswith(f"{bad / 'groundtruth.txt'}:2: '1,nan,3,4' mixes nan and numbers")
    assert "\n" not in message
