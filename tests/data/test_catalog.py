"""Dataset registration: lazy loading, kinds, builtin names, clear errors for bad input."""

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

import siamtrack  # noqa: F401  registers the builtin names
from siamtrack.data import (
    Sequence,
    get_dataset_dicts,
    get_sequences,
    register_coco_pairs,
    register_sequence_dataset,
)
from siamtrack.data.builtin import register_builtin_datasets

from .helpers import make_coco, make_generic, make_lasot


def _unregister(*names):
    for name in names:
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
        if name in MetadataCatalog.list():
            MetadataCatalog.remove(name)


def test_bundled_sample_names():
    train, val = get_sequences("siamtrack_sample_train"), get_sequences("siamtrack_sample_val")
    assert len(train) == 3 and len(val) == 1 and all(isinstance(s, Sequence) for s in train)
    assert all(len(s) >= 60 and s.visible.all() for s in train + val)
    record = DatasetCatalog.get("siamtrack_sample_val")[0]
    assert set(record) == {"sequence_name", "frame_paths", "boxes_xywh", "absent", "layout"}
    assert record["boxes_xywh"].shape == (80, 4) and record["absent"].dtype == bool
    assert MetadataCatalog.get("siamtrack_sample_train").kind == "sequences"
    assert MetadataCatalog.get("siamtrack_sample_coco").kind == "images"
    coco = get_dataset_dicts("siamtrack_sample_coco")
    assert coco[0]["annotations"] and coco[0]["file_name"].endswith(".jpg")
    with pytest.raises(ValueError, match="not a sequence dataset"):
        get_sequences("siamtrack_sample_coco")


def test_registration_reads_nothing_until_used(tmp_path):
    _unregister("t_lazy")
    register_sequence_dataset("t_lazy", tmp_path / "not_there_yet")  # no error at registration
    with pytest.raises(FileNotFoundError, match="t_lazy.*not_there_yet"):
        get_sequences("t_lazy")
    make_generic(tmp_path / "not_there_yet", "seq_a", [[1, 2, 30, 20]] * 3)
    sequences = get_sequences("t_lazy")
    assert [s.name for s in sequences] == ["seq_a"] and sequences[0].layout == "generic"
    np.testing.assert_array_equal(sequences[0].boxes_xywh[0], [1, 2, 30, 20])
    _unregister("t_lazy")


def test_standard_names_use_detectron2_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTRON2_DATASETS", str(tmp_path))
    for category, index in (("cat", 1), ("cat", 2), ("dog", 1)):
        make_lasot(tmp_path / "LaSOT", category, index, [[1, 1, 9, 9]] * 2, [0, 0], [0, 0])
    (tmp_path / "LaSOT" / "testing_set.txt").write_text("cat-2\n")
    register_builtin_datasets()  # idempotent
    assert [s.name for s in get_sequences("lasot_test")] == ["cat-2"]
    assert [s.name for s in get_sequences("lasot_train")] == ["cat-1", "dog-1"]
    (tmp_path / "LaSOT" / "testing_set.txt").write_text("cat-9\n")
    with pytest.raises(FileNotFoundError, match="cat-9"):
        get_sequences("lasot_test")
    with pytest.raises(FileNotFoundError, match="GOT-10k"):
        get_sequences("got10k_val")


def test_coco_registration_errors(tmp_path):
    _unregister("t_corrupt", "t_missing", "t_empty", "t_ok")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"images": [')
    register_coco_pairs("t_corrupt", corrupt, tmp_path)
    with pytest.raises(ValueError, match="corrupt.json.*not valid JSON"):
        get_dataset_dicts("t_corrupt")
    register_coco_pairs("t_missing", tmp_path / "nope.json", tmp_path)
    with pytest.raises(FileNotFoundError, match="t_missing.*nope.json"):
        get_dataset_dicts("t_missing")
    DatasetCatalog.register("t_empty", lambda: [])
    with pytest.raises(ValueError, match="'t_empty' is empty"):
        get_dataset_dicts("t_empty")
    with pytest.raises(KeyError, match="not registered"):
        get_dataset_dicts("t_never_registered")
    json_file = make_coco(
        tmp_path,
        [dict(id=1, file_name="a.jpg", width=32, height=32)],
        [dict(image_id=1, bbox=[2, 2, 10, 10])],
    )
    register_coco_pairs("t_ok", json_file, tmp_path)
    assert MetadataCatalog.get("t_ok").kind == "images"
    assert get_dataset_dicts("t_ok")[0]["annotations"][0]["bbox"] == [2, 2, 10, 10]
    _unregister("t_corrupt", "t_missing", "t_empty", "t_ok")
