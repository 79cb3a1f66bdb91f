"""Result files: OTB / GOT-10k / boxes-table round trips, no clobbering, no partial files."""

import json
import os
import stat

import numpy as np
import pytest

from siamtrack.io import (
    OutputExistsError,
    read_boxes_file,
    read_got10k_results,
    read_otb_results,
    read_results,
    read_targets_boxes_file,
    write_boxes_file,
    write_targets_boxes_file,
    write_got10k_results,
    write_otb_results,
)
from siamtrack.io.results import find_result_file, list_trackers

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
    boxes_auto, _ = read_results(tmp_path, "siam", "GOT-10k_Val_000001")
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
    write_boxes_file(path, BOXES, SCORES, frame_indices=[0, 1, 2])
    frames, boxes, scores = read_boxes_file(path)
    np.testing.assert_array_equal(frames, [0, 1, 2])
    np.testing.assert_array_equal(boxes, BOXES)
    if suffix == ".txt":
        assert np.all(np.isnan(scores)) and len(path.read_text().splitlines()) == 3
    else:
        np.testing.assert_array_equal(scores, SCORES)
    if suffix == ".csv":
        assert path.read_text().splitlines()[0] == "frame,x,y,w,h,score"
    if suffix == ".json":
        data = json.loads(path.read_text())  # strict JSON: NaN became null
        assert data["frames"][2]["score"] is None and data["box_format"] == "xywh"


def test_boxes_file_never_clobbers_and_checks_input(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("user data\n")
    with pytest.raises(OutputExistsError, match="mine.csv' already exists"):
        write_boxes_file(path, BOXES, SCORES)
    assert path.read_text() == "user data\n"
    write_boxes_file(path, BOXES, SCORES, overwrite=True)
    assert path.read_text().startswith("frame,")
    with pytest.raises(ValueError, match="extension"):
        write_boxes_file(tmp_path / "boxes.xml", BOXES, SCORES)
    with pytest.raises(ValueError, match="3 boxes, 2 scores"):
        write_boxes_file(tmp_path / "b.txt", BOXES, SCORES[:2])


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
        0: (np.arange(3), BOXES, SCORES),
        "car": (np.arange(1, 3), BOXES[:2] + 1, SCORES[:2]),
    }
    (csv_path,) = write_targets_boxes_file(tmp_path / "b.csv", tracks)
    assert csv_path.read_text().splitlines()[0] == "frame,target,x,y,w,h,score"
    back = read_targets_boxes_file(csv_path)
    assert sorted(back) == ["0", "car"]
    np.testing.assert_array_equal(back["car"][0], [1, 2])
    np.testing.assert_array_equal(back["car"][1], BOXES[:2] + 1)
    (json_path,) = write_targets_boxes_file(tmp_path / "b.json", tracks)
    np.testing.assert_array_equal(read_targets_boxes_file(json_path)["0"][1], BOXES)
    txt_paths = write_targets_boxes_file(tmp_path / "b.txt", tracks)
    assert [p.name for p in txt_paths] == ["b_0.txt", "b_car.txt"]
    np.testing.assert_array_equal(read_otb_results(tmp_path, ".", "b_car"), BOXES[:2] + 1)
    with pytest.raises(OutputExistsError, match="b_0.txt"):
        write_targets_boxes_file(tmp_path / "b.txt", tracks)
