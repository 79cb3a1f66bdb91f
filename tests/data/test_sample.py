"""The bundled sample is reproducible by datasets/make_sample.py and internally consistent."""

import importlib.util
import json

import cv2
import numpy as np
import pytest

from siamtrack.data import read_box_file
from siamtrack.data.builtin import sample_root

from ..conftest import REPO_ROOT


@pytest.fixture(scope="module")
def make_sample():
    path = REPO_ROOT / "datasets" / "make_sample.py"
    spec = importlib.util.spec_from_file_location("make_sample_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_ground_truth_is_regenerated_exactly(make_sample):
    root = sample_root()
    assert root == REPO_ROOT / "datasets" / "siamtrack_sample"
    for spec in make_sample.SEQUENCES:
        folder = root / spec["split"] / spec["name"]
        boxes = make_sample.sequence_boxes(spec)["target"]
        lines = [",".join(f"{v:.2f}" for v in box) for box in boxes]
        assert (folder / "groundtruth.txt").read_text().splitlines() == lines
        assert len(list((folder / "img").glob("*.jpg"))) == spec["frames"]
        truth = read_box_file(folder / "groundtruth.txt")
        assert np.all(truth[:, :2] >= 0) and np.all(truth[:, 0] + truth[:, 2] <= 320)
        assert np.all(truth[:, 1] + truth[:, 3] <= 240)
        sizes = np.sqrt(truth[:, 2] * truth[:, 3])
        aspects = truth[:, 2] / truth[:, 3]
        assert sizes.max() / sizes.min() > 1.3 and aspects.max() / aspects.min() > 1.15


def test_rendered_frames_match_committed_jpegs(make_sample):
    spec = next(s for s in make_sample.SEQUENCES if s["split"] == "val")
    boxes = make_sample.sequence_boxes(spec)
    cache = {}
    folder = sample_root() / "val" / spec["name"]
    for index in (0, 33):
        rendered = make_sample.render_frame(spec, boxes, index, cache).astype(float)
        committed = cv2.imread(str(folder / "img" / f"{index + 1:05d}.jpg")).astype(float)
        assert np.abs(rendered - committed).mean() < 3.0  # JPEG quality 75
        x, y, w, h = np.round(boxes["target"][index]).astype(int)
        inside = committed[y + 2 : y + h - 2, x + 2 : x + w - 2]
        assert inside.std() > 10  # a textured photograph, not a flat patch
    video = cv2.VideoCapture(str(folder / f"{spec['name']}.mp4"))
    count = 0
    while video.read()[0]:
        count += 1
    assert count == spec["frames"]


def test_small_render_and_coco_json(make_sample, tmp_path):
    output = tmp_path / "sample"
    make_sample.make_sample(output, frame_limit=6)
    committed = sample_root()
    for spec in make_sample.SEQUENCES:
        relative = f"{spec['split']}/{spec['name']}/groundtruth.txt"
        small = (output / relative).read_text().splitlines()
        assert small == (committed / relative).read_text().splitlines()[:6]
    data = json.loads((committed / "annotations" / "instances.json").read_text())
    by_id = {image["id"]: image for image in data["images"]}
    targets = {OBJ[3] for OBJ in (make_sample.OBJECTS[s["target"]] for s in make_sample.SEQUENCES)}
    checked = 0
    for annotation in data["annotations"]:
        file_name = by_id[annotation["image_id"]]["file_name"]
        assert (committed / file_name).is_file() and file_name.startswith("train/")
        split, name, _, frame = file_name.split("/")
        spec = next(s for s in make_sample.SEQUENCES if s["name"] == name)
        if annotation["category_id"] == make_sample.OBJECTS[spec["target"]][3]:
            truth = read_box_file(committed / split / name / "groundtruth.txt")
            np.testing.assert_allclose(annotation["bbox"], truth[int(frame[:5]) - 1], atol=1e-6)
            checked += 1
    assert checked >= 30 and targets


def test_sample_is_small():
    size = sum(p.stat().st_size for p in sample_root().rglob("*") if p.is_file())
    assert size < 3.2e6, f"bundled sample grew to {size / 1e6:.2f} MB"


def test_refuses_to_overwrite_foreign_folder(make_sample, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("user data")
    assert make_sample.main(["--output", str(tmp_path / "mine")]) == 1
    assert (tmp_path / "mine" / "notes.txt").read_text() == "user data"
    assert "not made by this script" in capsys.readouterr().err
