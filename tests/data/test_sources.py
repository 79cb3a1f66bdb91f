"""Pair sources: COCO filters (checked against pycocotools), GOT-10k / LaSOT / generic
sequences with absent flags and frame ranges, and the real shared sequences."""

from pathlib import Path

import numpy as np
import pytest
from detectron2.data.datasets import load_coco_json
from pycocotools.coco import COCO

from siamtrack.data.catalog import load_sequence_dicts
from siamtrack.data.pair_sources import ImagePairSource, SequencePairSource

from .helpers import make_coco, make_generic, make_got10k, make_lasot, write_boxes, write_frames


@pytest.fixture(scope="module")
def coco_sample(shared_data):
    root = shared_data / "coco_sample"
    json_file = str(root / "annotations" / "instances.json")
    return COCO(json_file), load_coco_json(json_file, str(root / "images"))


def _independent_counts(coco: COCO, skip_crowd: bool, min_size: float):
    kept_images, kept = set(), 0
    for ann in coco.loadAnns(coco.getAnnIds()):
        if skip_crowd and ann["iscrowd"]:
            continue
        if min(ann["bbox"][2], ann["bbox"][3]) < min_size:
            continue
        kept += 1
        kept_images.add(ann["image_id"])
    return kept, len(kept_images)


@pytest.mark.parametrize("skip_crowd,min_size", [(True, 4.0), (False, 0.0), (True, 16.0)])
def test_coco_filters_match_pycocotools(coco_sample, skip_crowd, min_size):
    coco, dicts = coco_sample
    source = ImagePairSource("coco_sample", dicts, min_size, skip_crowd)
    objects, images = _independent_counts(coco, skip_crowd, min_size)
    counts = source.filter_counts
    assert (source.num_objects, source.num_items) == (objects, images)
    num_crowd = len(coco.getAnnIds(iscrowd=True))
    assert counts["crowd"] == (num_crowd if skip_crowd else 0)
    assert counts["empty_image"] == len(coco.getImgIds()) - images
    assert counts["outside_image"] == counts["invalid_box"] == 0


def test_coco_sample_known_numbers(coco_sample):
    """Numbers from the data's SOURCE.md: 852 boxes, 10 crowd, 3 empty images, 620 non-crowd
    boxes with both sides >= 16 px."""
    _, dicts = coco_sample
    default = ImagePairSource("coco_sample", dicts, min_box_size=4.0, skip_crowd=True)
    assert default.filter_counts["crowd"] == 10
    assert default.filter_counts["empty_image"] == 3  # the three images without annotations
    assert ImagePairSource("c", dicts, 16.0, True).num_objects == 620
    assert ImagePairSource("c", dicts, 0.0, False).num_objects == 852


def test_coco_pairs_come_from_the_same_object(coco_sample):
    _, dicts = coco_sample
    source = ImagePairSource("coco_sample", dicts, 4.0, True)
    rng = np.random.default_rng(0)
    for item in rng.integers(0, source.num_items, 20):
        template, search = source.sample_positive(int(item), rng)
        assert template["file_name"] == search["file_name"]
        assert template["object_id"] == search["object_id"]
        np.testing.assert_array_equal(template["box_xywh"], search["box_xywh"])


def test_tiny_coco_filters_and_errors(tmp_path):
    images = [dict(id=i, file_name=f"{i}.jpg", width=64, height=48) for i in (1, 2, 3, 4)]
    annotations = [
        dict(image_id=1, bbox=[5, 5, 20, 20]),
        dict(image_id=1, bbox=[10, 10, 30, 20], iscrowd=1),
        dict(image_id=2, bbox=[1, 1, 2, 30]),  # tiny
        dict(image_id=3, bbox=[100, 10, 10, 10]),  # outside the 64x48 image
        # image 4: no annotations
    ]
    dicts = load_coco_json(str(make_coco(tmp_path, images, annotations)), str(tmp_path))
    source = ImagePairSource("tiny", dicts, min_box_size=4.0, skip_crowd=True)
    assert source.num_objects == 1 and source.num_items == 1
    counts = source.filter_counts
    assert (counts["crowd"], counts["too_small"], counts["outside_image"]) == (1, 1, 1)
    assert counts["empty_image"] == 3
    with pytest.raises(ValueError, match="no usable objects.*MIN_BOX_SIZE"):
        ImagePairSource("tiny", dicts, min_box_size=100.0, skip_crowd=True)
    with pytest.raises(ValueError, match="not an instance dict"):
        ImagePairSource("bad", [{"frame_paths": []}], 0.0, True)


def _positive_frames(source: SequencePairSource, item: int, draws: int = 200):
    rng = np.random.default_rng(1)
    pairs = [source.sample_positive(item, rng) for _ in range(draws)]
    number = lambda frame: int(Path(frame["file_name"]).stem)  # noqa: E731  1-based file names
    return [(number(t), number(s)) for t, s in pairs]


def test_got10k_absent_frames_and_frame_range(tmp_path):
    boxes = [[10, 10, 20, 20]] * 12
    absent = [0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    make_got10k(tmp_path, "GOT-10k_Train_000001", boxes, absent)
    dicts = load_sequence_dicts(tmp_path, "got10k")
    assert dicts[0]["layout"] == "got10k" and dicts[0]["absent"].sum() == 3
    source = SequencePairSource("got", dicts, frame_range=2, min_box_size=4.0)
    assert source.filter_counts["absent_frames"] == 3 and source.filter_counts["frames"] == 9
    for template, search in _positive_frames(source, 0):
        assert absent[template - 1] == 0 and absent[search - 1] == 0  # 1-based file names
        assert abs(template - search) <= 2


def test_lasot_flags_and_generic_broken_boxes(tmp_path):
    boxes = [[5, 5, 30, 20]] * 6
    make_lasot(tmp_path / "lasot", "cat", 1, boxes, [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0])
    make_lasot(tmp_path / "lasot", "dog", 3, boxes, [0] * 6, [0] * 6)
    dicts = load_sequence_dicts(tmp_path / "lasot")
    assert [d["sequence_name"] for d in dicts] == ["cat-1", "dog-3"]
    source = SequencePairSource("lasot", dicts, frame_range=100, min_box_size=0.0)
    assert source.filter_counts["absent_frames"] == 2 and source.num_items == 2
    for template, search in _positive_frames(source, 0):
        assert template not in (2, 5) and search not in (2, 5)

    generic = [
        [5, 5, 30, 20],
        [5, 5, 0, 20],
        [np.nan] * 4,
        [5, 5, -3, 4],
        [5, 5, 2, 2],
        [6, 6, 30, 20],
    ]
    make_generic(tmp_path / "generic", "seq", generic)
    source = SequencePairSource(
        "generic", load_sequence_dicts(tmp_path / "generic"), frame_range=100, min_box_size=4.0
    )
    # the nan row counts as absent (a ground-truth row of nan means "target not visible"),
    # the zero-width and negative-width rows as invalid
    assert source.filter_counts["absent_frames"] == 1
    assert source.filter_counts["invalid_frames"] == 2
    assert source.filter_counts["too_small_frames"] == 1 and source.filter_counts["frames"] == 2
    for template, search in _positive_frames(source, 0):
        assert {template, search} <= {1, 6}


def test_sequence_source_errors(tmp_path):
    with pytest.raises(ValueError, match="no usable frames"):
        SequencePairSource(
            "empty",
            [
                dict(
                    sequence_name="s",
                    frame_paths=["a.jpg"],
                    boxes_xywh=np.zeros((1, 4)),
                    absent=[False],
                )
            ],
            10,
            0.0,
        )
    with pytest.raises(ValueError, match="2 frames but 1 boxes"):
        SequencePairSource(
            "bad",
            [dict(sequence_name="s", frame_paths=["a", "b"], boxes_xywh=np.ones((1, 4)))],
            10,
            0.0,
        )
    with pytest.raises(ValueError, match="not a sequence record"):
        SequencePairSource("bad", [{"file_name": "x"}], 10, 0.0)


def test_shared_otb_sequences(shared_data):
    dicts = load_sequence_dicts(shared_data / "sequences")
    assert {d["sequence_name"]: len(d["frame_paths"]) for d in dicts} == {
        "Crossing": 120,
        "Deer": 71,
    }
    source = SequencePairSource("otb", dicts, frame_range=10, min_box_size=4.0)
    assert source.filter_counts["frames"] == 191
    rng = np.random.default_rng(0)
    for item in (0, 1):
        for _ in range(50):
            template, search = source.sample_positive(item, rng)
            t_index = int(template["file_name"][-9:-4])
            s_index = int(search["file_name"][-9:-4])
            assert abs(t_index - s_index) <= 10
            assert template["file_name"].split("/")[-3] == search["file_name"].split("/")[-3]
            truth = dicts[item]["boxes_xywh"][s_index - 1]
            np.testing.assert_array_equal(search["box_xywh"], truth)


def test_unpadded_frame_names_keep_numeric_order(tmp_path):
    """frame_10 after frame_9: a lexicographic sort would pair boxes with the wrong frames."""
    folder = tmp_path / "seq"
    write_frames(folder / "img", 11, name_format="frame_{}.png")
    write_boxes(folder / "groundtruth.txt", [[i, 0, 5, 5] for i in range(11)])
    (record,) = load_sequence_dicts(folder)
    names = [Path(p).name for p in record["frame_paths"]]
    assert names == [f"frame_{i}.png" for i in range(1, 12)]
