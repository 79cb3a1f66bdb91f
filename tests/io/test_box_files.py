"""Box files: x,y,w,h lines, nan rows, VOT polygons read as their bounding boxes, and
``datasets/prepare_sequence.py`` writing a sequence from frames and such a file."""

import importlib.util

import cv2
import numpy as np
import pytest

from siamtrack.errors import BadInputError
from siamtrack.io import read_box_file
from siamtrack.utils.boxes import polygon_bounds_xywh

from ..conftest import REPO_ROOT

# A rotated rectangle (VOT style, corners in any order) and the upright box holding it.
ROTATED = [20.5, 10.0, 40.0, 18.0, 32.0, 38.0, 12.5, 30.0]
ROTATED_BOUNDS = [12.5, 10.0, 27.5, 28.0]


def test_polygon_bounds():
    np.testing.assert_array_equal(polygon_bounds_xywh(ROTATED), ROTATED_BOUNDS)
    np.testing.assert_array_equal(polygon_bounds_xywh([0, 0, 4, 1, 2, 6]), [0, 0, 4, 6])
    assert np.isnan(polygon_bounds_xywh([np.nan] * 8)).all()


def test_polygon_lines_are_read_as_bounding_boxes_only_when_asked(tmp_path):
    path = tmp_path / "groundtruth.txt"
    rows = [",".join(map(str, ROTATED)), "1,2,3,4", "nan,nan,nan,nan", "0 0 4 1 2 6"]
    path.write_text("\n".join(rows) + "\n")
    boxes = read_box_file(path, polygons=True)
    np.testing.assert_array_equal(boxes[[0, 1, 3]], [ROTATED_BOUNDS, [1, 2, 3, 4], [0, 0, 4, 6]])
    assert np.isnan(boxes[2]).all()
    with pytest.raises(BadInputError, match=r"groundtruth.txt:1: .* has 8 numbers .*--polygons"):
        read_box_file(path)
    path.write_text("1,2,3,4\n1,2,nan,4,5,6\n")
    with pytest.raises(BadInputError, match=r"groundtruth.txt:2: .* mixes nan and numbers"):
        read_box_file(path, polygons=True, allow_partial_nan=False)
    path.write_text("1,2,3,4\n1,2,3,4,5,6,7\n")
    with pytest.raises(BadInputError, match=r"groundtruth.txt:2: .* 7 numbers .*polygon x1,y1"):
        read_box_file(path, polygons=True)


def _prepare_sequence():
    path = REPO_ROOT / "datasets" / "prepare_sequence.py"
    spec = importlib.util.spec_from_file_location("prepare_sequence_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_prepare_sequence_with_polygons(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for index in range(3):
        image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(frames / f"{index:08d}.png"), image)
    boxes = tmp_path / "gt.txt"
    boxes.write_text(f"{','.join(map(str, ROTATED))}\nnan,nan,nan,nan\n5,6,7,8\n")
    main = _prepare_sequence()

    out = tmp_path / "seq"
    assert main(["--frames", str(frames), "--boxes", str(boxes), "--output", str(out)]) == 2
    assert "has 8 numbers" in capsys.readouterr().err and not out.exists()

    argv = ["--frames", str(frames), "--boxes", str(boxes), "--output", str(out), "--polygons"]
    assert main(argv + ["--one-based"]) == 0
    lines = (out / "groundtruth.txt").read_text().splitlines()
    assert lines == ["11.50,9.00,27.50,28.00", "nan,nan,nan,nan", "4.00,5.00,7.00,8.00"]
    assert sorted(p.name for p in (out / "img").iterdir()) == [f"{i:05d}.jpg" for i in (1, 2, 3)]
    assert cv2.imread(str(out / "img" / "00001.jpg")).shape == (48, 64, 3)

    assert main(argv) == 2  # an existing sequence is never replaced
    assert "already exists" in capsys.readouterr().err
    assert (out / "groundtruth.txt").read_text().splitlines() == lines

    boxes.write_text(f"{','.join(map(str, ROTATED))}\n5,6,7,8\n")  # one box short
    other = tmp_path / "other"
    argv = ["--frames", str(frames), "--boxes", str(boxes), "--output", str(other), "--polygons"]
    assert main(argv) == 2
    assert "3 frames but 2 boxes" in capsys.readouterr().err and not other.exists()
