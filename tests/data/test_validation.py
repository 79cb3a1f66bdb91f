"""datasets/validate_dataset.py: broken datasets are reported with the file and the problem."""

import importlib.util

from detectron2.data.datasets import load_coco_json

from siamtrack.data.validation import validate_instance_dicts, validate_sequence_root

from ..conftest import REPO_ROOT
from .helpers import make_coco, make_generic, write_boxes


def _script():
    path = REPO_ROOT / "datasets" / "validate_dataset.py"
    spec = importlib.util.spec_from_file_location("validate_dataset_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_broken_sequences_are_reported(tmp_path, capsys):
    root = tmp_path / "seqs"
    good = make_generic(root, "good", [[10, 10, 20, 20]] * 4)
    broken = make_generic(
        root, "broken", [[10, 10, 20, 20], [10, 10, 0, 5], [200, 10, 5, 5], [-3, 2, -1, 4]]
    )
    (broken / "img" / "00004.jpg").write_bytes(b"not an image")
    mismatch = make_generic(root, "mismatch", [[1, 1, 5, 5]] * 3)
    write_boxes(mismatch / "groundtruth.txt", [[1, 1, 5, 5]] * 2)
    gap = make_generic(root, "gap", [[1, 1, 5, 5]] * 5)
    (gap / "img" / "00003.jpg").unlink()

    report = validate_sequence_root(root)
    assert not report.ok
    text = report.format()
    assert "mismatch: sequence" in text and "3 frames but 2 ground-truth boxes" in text
    assert "gap: sequence" in text and "missing frame numbers: [3]" in text
    assert "frame 2: invalid box [10.0, 10.0, 0.0, 5.0]" in text
    assert "frame 3: box [200.0, 10.0, 5.0, 5.0] lies outside the 96x72 image" in text
    assert "frame 4 " in text and "00004.jpg: unreadable" in text
    assert report.stats["error_frame"] == 1 and report.stats["error_outside"] == 1
    assert report.stats["error_sequence"] == 2
    assert report.stats["sequences"] == 2  # good + broken (mismatch and gap did not load)
    assert validate_sequence_root(good).ok

    script = _script()
    assert script.main([str(root)]) == 1
    assert "PROBLEMS FOUND" in capsys.readouterr().out
    assert script.main([str(good)]) == 0
    assert script.main([str(tmp_path / "nothing")]) == 2  # bad input, not a report
    assert "does not exist" in capsys.readouterr().err


def test_coco_checks(tmp_path, shared_data):
    images = [
        dict(id=1, file_name="a.jpg", width=40, height=30),
        dict(id=2, file_name="b.jpg", width=40, height=30, missing=True),
        dict(id=3, file_name="c.jpg", width=40, height=30),
    ]
    annotations = [
        dict(image_id=1, bbox=[1, 1, 10, 10]),
        dict(image_id=1, bbox=[50, 1, 5, 5]),
        dict(image_id=2, bbox=[1, 1, 5, 5]),
        dict(image_id=1, bbox=[1, 1, 2, 2]),
    ]
    json_file = make_coco(tmp_path, images, annotations)
    (tmp_path / "c.jpg").write_bytes(b"\xff\xd8broken")
    report = validate_instance_dicts(
        "tiny", load_coco_json(str(json_file), str(tmp_path)), min_box_size=4.0
    )
    text = report.format()
    assert "b.jpg: missing" in text and "c.jpg: unreadable" in text
    assert "box [50.0, 1.0, 5.0, 5.0] lies outside the 40x30 image" in text
    assert report.stats["images_without_objects"] == 1
    assert report.stats["boxes_smaller_than_4px"] == 1

    coco = shared_data / "coco_sample"
    script = _script()
    assert (
        script.main(
            [str(coco / "annotations" / "instances.json"), "--image-root", str(coco / "images")]
        )
        == 0
    )
