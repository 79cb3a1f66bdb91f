"""ImageNet VID / DET and YouTube-BB converters, tracks json registration and the scripts, on
tiny synthetic releases (XML, CSV and JPEG files written into tmp dirs)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog

from siamtrack import add_siamtrack_config
from siamtrack.data import (
    PairCropDatasetMapper,
    PairSampler,
    build_pair_source,
    get_dataset_dicts,
    get_sequences,
    register_coco_pairs,
    register_tracks_json,
)
from siamtrack.data.builtin import register_builtin_datasets
from siamtrack.data.converters import (
    convert_imagenet_det,
    convert_imagenet_vid,
    convert_youtube_bb,
    parse_voc_xml,
)
from siamtrack.io import OutputExistsError, tracks_to_json, write_json
from siamtrack.data.pair_sources import ImagePairSource, SequencePairSource

from ..conftest import REPO_ROOT

NAN4 = [np.nan] * 4


def _unregister(*names):
    for name in names:
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
        if name in MetadataCatalog.list():
            MetadataCatalog.remove(name)


def _jpeg(path: Path, size_wh=(64, 48)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(len(str(path))).integers(0, 256, (size_wh[1], size_wh[0], 3))
    cv2.imwrite(str(path), pixels.astype(np.uint8))


def _xml(path: Path, objects, size_wh=(64, 48)) -> None:
    """objects: (name, (xmin, ymin, xmax, ymax), trackid or None, occluded)."""
    parts = []
    for name, (x0, y0, x1, y1), trackid, occluded in objects:
        track = f"<trackid>{trackid}</trackid>" if trackid is not None else ""
        parts.append(
            f"<object>{track}<name>{name}</name><bndbox><xmax>{x1}</xmax><xmin>{x0}</xmin>"
            f"<ymax>{y1}</ymax><ymin>{y0}</ymin></bndbox><occluded>{occluded}</occluded>"
            "<generated>0</generated></object>"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<annotation><folder>x</folder><filename>{path.stem}</filename><size>"
        f"<width>{size_wh[0]}</width><height>{size_wh[1]}</height></size>{''.join(parts)}"
        "</annotation>"
    )


def make_vid(root: Path) -> Path:
    """Snippet A: track 0 in frames 0,1,3,5 (absent 2 and 4), track 1 in 1..3 (occluded in 1).
    Snippet B: track 3, frame 1 JPEG missing, frame 2 box empty. Snippet C: no objects."""
    ann, data = root / "Annotations/VID/train", root / "Data/VID/train"
    a = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    t0 = {0: (10, 8, 40, 30), 1: (11, 8, 41, 30), 3: (12, 9, 42, 31), 5: (13, 9, 43, 31)}
    t1 = {1: (0, 0, 20, 20), 2: (1, 1, 21, 21), 3: (2, 2, 22, 22)}
    for f in range(6):
        objects = [("n02084071", t0[f], 0, 0)] if f in t0 else []
        objects += [("n02121808", t1[f], 1, int(f == 1))] if f in t1 else []
        _xml(ann / a / f"{f:06d}.xml", objects)
        _jpeg(data / a / f"{f:06d}.JPEG")
    b = "ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000"
    for f, box in enumerate([(5, 5, 25, 25), (6, 6, 26, 26), (7, 7, 7, 27)]):
        _xml(ann / b / f"{f:06d}.xml", [("n01503061", box, 3, 0)])
        if f != 1:
            _jpeg(data / b / f"{f:06d}.JPEG")
    c = "ILSVRC2015_VID_train_0001/ILSVRC2015_train_00002000"
    for f in range(2):
        _xml(ann / c / f"{f:06d}.xml", [])
        _jpeg(data / c / f"{f:06d}.JPEG")
    return root


def make_det(root: Path) -> Path:
    ann, data = root / "Annotations/DET/train", root / "Data/DET/train"
    files = {
        "ILSVRC2013_train/n02084071/n02084071_7": [
            ("n02084071", (5, 5, 25, 35), None, 0),
            ("n01443537", (30, 10, 50, 40), None, 0),
        ],
        "ILSVRC2014_train_0000/ILSVRC2014_train_00000001": [
            ("n01443537", (0, 0, 10, 10), None, 0),
            ("n01443537", (5, 5, 5, 9), None, 0),  # empty box
        ],
        "ILSVRC2014_train_0000/ILSVRC2014_train_00000002": [],  # no objects
        "ILSVRC2014_train_0000/ILSVRC2014_train_00000003": [("n01443537", (1, 1, 9, 9), None, 0)],
    }
    for stem, objects in files.items():
        _xml(ann / f"{stem}.xml", objects)
        if not stem.endswith("3"):  # the last one has no JPEG
            _jpeg(data / f"{stem}.JPEG")
    return root


YTB_ROWS = [
    "vidA,0,5,dog,0,present,0.1,0.5,0.2,0.6",
    "vidA,2000,5,dog,0,present,0.25,0.75,0.5,1.0",  # out of order on purpose
    "vidA,1000,5,dog,0,absent,-1,-1,-1,-1",
    "vidA,3000,5,dog,0,present,0.1,0.2,0.1,0.2",  # frame file missing
    "vidA,0,5,dog,1,absent,-1,-1,-1,-1",  # never visible
    "vidA,1000,5,dog,1,absent,-1,-1,-1,-1",
    "vid_B-2,500,0,person,0,present,0.0,1.0,0.0,1.0",
    "vid_B-2,1500,0,person,0,present,0.5,0.25,0.0,1.0",  # xmax < xmin
]


def make_ytb(root: Path) -> Path:
    for timestamp in (0, 1000, 2000):
        _jpeg(root / "frames" / "vidA" / f"{timestamp}.jpg", (80, 60))
    for timestamp in (500, 1500):
        _jpeg(root / "frames" / "vid_B-2" / f"{timestamp}.jpg", (40, 30))
    (root / "yt_bb_detection_train.csv").write_text("\n".join(YTB_ROWS) + "\n")
    return root


# ---------------------------------------------------------------------------- converters
def test_vid_tracks_boxes_and_absent_flags(tmp_path):
    tracks, stats = convert_imagenet_vid(make_vid(tmp_path))
    assert [t.name for t in tracks] == [
        "ILSVRC2015_train_00000000_00",
        "ILSVRC2015_train_00000000_01",
        "ILSVRC2015_train_00001000_03",
    ]
    t0, t1, t3 = tracks
    assert [Path(p).name for p in t0.frame_paths] == [f"{f:06d}.JPEG" for f in range(6)]
    assert t0.frame_paths[0] == "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000/000000.JPEG"
    assert t0.absent.tolist() == [False, False, True, False, True, False]
    expected = [[10, 8, 30, 22], [11, 8, 30, 22], NAN4, [12, 9, 30, 22], NAN4, [13, 9, 30, 22]]
    np.testing.assert_array_equal(t0.boxes_xywh, expected)  # xmax - xmin, no +1
    assert [Path(p).name for p in t1.frame_paths] == ["000001.JPEG", "000002.JPEG", "000003.JPEG"]
    assert not t1.absent.any()  # occluded frames are used by default (as in pysot)
    np.testing.assert_array_equal(t1.boxes_xywh[0], [0, 0, 20, 20])
    assert t3.frame_paths == ["ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000/000000.JPEG"]
    assert (stats["tracks"], stats["snippets"], stats["xml_files"]) == (3, 3, 11)
    assert stats["skipped_frames_missing_jpeg"] == 1
    assert stats["objects_empty_box_marked_absent"] == 1
    assert stats["snippets_without_objects"] == 1 and stats["objects_occluded"] == 1
    assert stats["track_frames"] == 6 + 3 + 1 and stats["track_frames_absent"] == 2

    occluded, _ = convert_imagenet_vid(tmp_path, occluded_as_absent=True)
    assert [Path(p).name for p in occluded[1].frame_paths] == ["000002.JPEG", "000003.JPEG"]
    assert not occluded[1].absent.any()  # the occluded first frame became absent and was trimmed


def test_det_to_coco(tmp_path):
    coco, stats = convert_imagenet_det(make_det(tmp_path))
    assert [c["name"] for c in coco["categories"]] == ["n01443537", "n02084071"]
    assert [c["id"] for c in coco["categories"]] == [1, 2]
    names = [i["file_name"] for i in coco["images"]]
    assert names == [
        "ILSVRC2013_train/n02084071/n02084071_7.JPEG",
        "ILSVRC2014_train_0000/ILSVRC2014_train_00000001.JPEG",
    ]
    assert (coco["images"][0]["width"], coco["images"][0]["height"]) == (64, 48)
    boxes = [(a["image_id"], a["category_id"], a["bbox"]) for a in coco["annotations"]]
    assert boxes == [(1, 2, [5, 5, 20, 30]), (1, 1, [30, 10, 20, 30]), (2, 1, [0, 0, 10, 10])]
    assert (stats["images"], stats["objects"], stats["categories"]) == (2, 3, 2)
    assert stats["skipped_objects_empty_box"] == 1
    assert stats["skipped_images_without_objects"] == 1
    assert stats["skipped_images_missing_jpeg"] == 1


def test_youtube_bb_tracks(tmp_path):
    tracks, stats = convert_youtube_bb(make_ytb(tmp_path) / "yt_bb_detection_train.csv", tmp_path)
    assert [t.name for t in tracks] == ["vidA_5_0", "vid_B-2_0_0"]
    a, b = tracks
    assert a.frame_paths == ["frames/vidA/0.jpg", "frames/vidA/1000.jpg", "frames/vidA/2000.jpg"]
    assert a.absent.tolist() == [False, True, False]
    np.testing.assert_allclose(a.boxes_xywh, [[8, 12, 32, 24], NAN4, [20, 30, 40, 30]])
    assert b.frame_paths == ["frames/vid_B-2/500.jpg"]  # the broken last row was trimmed
    np.testing.assert_array_equal(b.boxes_xywh, [[0, 0, 40, 30]])
    assert stats["csv_rows"] == 8 and stats["tracks"] == 2
    assert stats["skipped_frames_missing_file"] == 1
    assert stats["skipped_tracks_no_visible_frame"] == 1
    assert stats["frames_invalid_box_marked_absent"] == 1

    # a header row naming the official columns is accepted; another frame layout via pattern
    header = "youtube_id,timestamp_ms,class_id,class_name,object_id,object_presence,"
    csv_file = tmp_path / "with_header.csv"
    csv_file.write_text(header + "xmin,xmax,ymin,ymax\n" + YTB_ROWS[0] + "\n")
    (tmp_path / "by_class").mkdir()
    os.link(tmp_path / "frames/vidA/0.jpg", tmp_path / "by_class/vidA_0_5_0.jpg")
    pattern = "by_class/{youtube_id}_{timestamp_ms}_{class_id}_{object_id}.jpg"
    (track,), _ = convert_youtube_bb(csv_file, tmp_path, pattern)
    assert track.frame_paths == ["by_class/vidA_0_5_0.jpg"]


def test_bad_inputs_name_the_file(tmp_path):
    vid = make_vid(tmp_path / "vid")
    broken = vid / "Annotations/VID/train/ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    (broken / "000003.xml").write_text("<annotation><object>")
    with pytest.raises(ValueError, match="000003.xml: malformed XML"):
        convert_imagenet_vid(vid)
    (broken / "000003.xml").write_text(
        "<annotation><object><trackid>0</trackid><bndbox><xmin>1</xmin><ymin>1</ymin>"
        "<ymax>5</ymax></bndbox></object></annotation>"
    )
    with pytest.raises(ValueError, match="000003.xml: object 0 has no <xmax>"):
        parse_voc_xml(broken / "000003.xml")
    det = make_det(tmp_path / "det")
    with pytest.raises(ValueError, match="no <trackid>"):
        convert_imagenet_vid(_as_vid(det))
    with pytest.raises(FileNotFoundError, match="Annotations/VID/val does not exist"):
        convert_imagenet_vid(vid, split="val")

    ytb = make_ytb(tmp_path / "ytb")
    header = "youtube_id,timestamp,class_id,class_name,object_id,object_presence,xmin,xmax,y0,y1"
    bad_csv = [
        ("video_id,time,class,name,object,presence,x0,x1,y0,y1\n", "is not a YouTube-BB row"),
        (header + "\n", "header .* does not match"),
        ("vidA,0,5,dog,0,present,0.1,0.5,0.2\n", r"bad.csv:1: 9 columns, expected 10"),
        (
            YTB_ROWS[0] + "\nvidA,0,5,dog,0,maybe,0,1,0,1\n",
            "bad.csv:2: .*'maybe'.* not a YouTube-BB",
        ),
    ]
    for text, message in bad_csv:
        (ytb / "bad.csv").write_text(text)
        with pytest.raises(ValueError, match=message):
            convert_youtube_bb(ytb / "bad.csv", ytb)
    with pytest.raises(ValueError, match="frame pattern.*invalid"):
        convert_youtube_bb(ytb / "yt_bb_detection_train.csv", ytb, "{video}/{timestamp_ms}.jpg")


def _as_vid(det_root: Path) -> Path:
    """A DET release laid out as VID: its objects have no <trackid>."""
    vid = det_root.parent / "det_as_vid"
    for kind in ("Annotations", "Data"):
        (vid / kind / "VID").mkdir(parents=True)
        os.symlink(det_root / kind / "DET" / "train", vid / kind / "VID" / "train")
    return vid


# ---------------------------------------------------------------------------- catalog + pairs
def test_registered_sources_feed_sampler_and_mapper(tmp_path):
    names = ("t_vid", "t_det", "t_ytb")
    _unregister(*names)
    vid, det, ytb = make_vid(tmp_path / "vid"), make_det(tmp_path / "det"), make_ytb(tmp_path / "y")
    vid_json = write_json(tracks_to_json(convert_imagenet_vid(vid)[0]), tmp_path / "v.json")
    det_json = write_json(convert_imagenet_det(det)[0], tmp_path / "d.json")
    tracks = convert_youtube_bb(ytb / "yt_bb_detection_train.csv", ytb)[0]
    ytb_json = write_json(tracks_to_json(tracks), tmp_path / "y.json")
    text = ytb_json.read_text()  # the file format: nulls for unknown boxes, integers kept short
    assert '"boxes_xywh":[[8,12,32,24],[null,null,null,null],[20,30,40,30]]' in text
    assert '"absent":[0,1,0]' in text and '"sequence_name":"vidA_5_0"' in text
    register_tracks_json("t_vid", vid_json, vid / "Data/VID/train")
    register_coco_pairs("t_det", det_json, det / "Data/DET/train")
    register_tracks_json("t_ytb", ytb_json, ytb)
    assert MetadataCatalog.get("t_vid").kind == "sequences"

    sequences = get_sequences("t_vid")
    assert len(sequences) == 3 and all(os.path.isfile(p) for s in sequences for p in s.frame_paths)
    assert sequences[0].frame_paths[0] == str(
        vid / "Data/VID/train/ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000/000000.JPEG"
    )
    assert sequences[0].absent.tolist() == [False, False, True, False, True, False]
    assert np.isnan(sequences[0].boxes_xywh[2]).all()  # null in the json -> NaN
    np.testing.assert_array_equal(sequences[0].boxes_xywh[5], [13, 9, 30, 22])
    ytb_sequences = get_sequences("t_ytb")
    np.testing.assert_allclose(ytb_sequences[0].boxes_xywh[0], [8, 12, 32, 24])
    assert ytb_sequences[1].frame_paths == [str(ytb / "frames/vid_B-2/500.jpg")]
    det_dicts = get_dataset_dicts("t_det")
    assert det_dicts[0]["annotations"][1]["bbox"] == [30, 10, 20, 30]
    assert MetadataCatalog.get("t_det").thing_classes == ["n01443537", "n02084071"]

    source = build_pair_source("t_vid", frame_range=1, min_box_size=0.0)
    assert isinstance(source, SequencePairSource)
    assert source.filter_counts["frames"] == 4 + 3 + 1
    assert source.filter_counts["absent_frames"] == 2
    rng = np.random.default_rng(0)
    for _ in range(50):
        template, search = source.sample_positive(0, rng)
        gap = int(Path(template["file_name"]).stem) - int(Path(search["file_name"]).stem)
        assert abs(gap) <= 1  # frame range 1 over frame numbers (absent 2 and 4 never drawn)
        assert Path(search["file_name"]).stem not in ("000002", "000004")
    det_source = build_pair_source("t_det", min_box_size=0.0)
    assert isinstance(det_source, ImagePairSource) and det_source.num_objects == 3

    cfg = add_siamtrack_config(get_cfg())
    cfg.MODEL.SIAMESE.TEMPLATE_SIZE, cfg.MODEL.SIAMESE.SEARCH_SIZE = 31, 63
    sources = [source, det_source, build_pair_source("t_ytb", 3, 0.0)]
    sampler = PairSampler(sources, [1.0, 1.0, 1.0], samples_per_epoch=30, seed=0)
    mapper = PairCropDatasetMapper(cfg, is_train=False)
    seen = set()
    for index in range(30):
        record = sampler.record(index)
        out = mapper(record)
        seen.add(record["dataset_name"])
        assert out["search"].shape == (3, 63, 63) and out["template"].shape == (3, 31, 31)
        x0, y0, x1, y1 = out["search_box_xyxy"].tolist()
        assert (x0 + x1) / 2 == pytest.approx(31.5) and (y0 + y1) / 2 == pytest.approx(31.5)
        w, h = record["search"]["box_xywh"][2:]
        assert (x1 - x0) / (y1 - y0) == pytest.approx(w / h, rel=1e-4)
    assert seen == set(names)
    _unregister(*names)


def test_tracks_json_errors(tmp_path):
    _unregister("t_tracks")
    json_file = tmp_path / "tracks.json"
    register_tracks_json("t_tracks", json_file, tmp_path)  # lazy: nothing read yet
    with pytest.raises(FileNotFoundError, match="t_tracks.*tracks.json does not exist"):
        get_sequences("t_tracks")
    json_file.write_text('{"tracks": [')
    with pytest.raises(ValueError, match="tracks.json is not valid JSON"):
        get_sequences("t_tracks")
    json_file.write_text('{"images": [], "annotations": []}')
    with pytest.raises(ValueError, match="tracks.json is not a tracks json"):
        get_sequences("t_tracks")
    bad = {"sequence_name": "s", "frame_paths": ["a.jpg", "b.jpg"], "boxes_xywh": [[1, 2, 3, 4]]}
    write_json({"tracks": [bad]}, json_file, overwrite=True)
    with pytest.raises(ValueError, match=r"tracks.json: track 0 \('s'\).*2 frames, 1 boxes"):
        get_sequences("t_tracks")
    with pytest.raises(OutputExistsError, match="already exists"):
        write_json({}, json_file)
    _unregister("t_tracks")


# ---------------------------------------------------------------------------- scripts
def _script(name: str):
    path = REPO_ROOT / "datasets" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts_write_the_builtin_locations(tmp_path, monkeypatch):
    """The three scripts run as ``__main__`` in one fresh interpreter (importing siamtrack costs
    ~3 s per process) with their default outputs; the builtin names then load those files
    from $DETECTRON2_DATASETS."""
    make_vid(tmp_path / "ILSVRC2015")
    make_det(tmp_path / "ILSVRC2015")
    make_ytb(tmp_path / "youtube_bb")
    driver = (
        "import runpy, sys\n"
        "codes = []\n"
        "for path in sys.argv[1:]:\n"
        "    sys.argv = [path]\n"
        "    try:\n"
        "        runpy.run_path(path, run_name='__main__')\n"
        "    except SystemExit as e:\n"
        "        codes.append(e.code)\n"
        "print('exit codes', codes)\n"
    )
    scripts = ("prepare_imagenet_vid", "prepare_imagenet_det", "prepare_youtube_bb")
    result = subprocess.run(
        [sys.executable, "-c", driver] + [str(REPO_ROOT / "datasets" / f"{s}.py") for s in scripts],
        cwd=tmp_path,
        env=dict(os.environ, DETECTRON2_DATASETS=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "exit codes [0, 0, 0]" in result.stdout, result.stderr
    assert "ImageNet VID train: wrote 3 tracks" in result.stdout
    assert "skipped_frames_missing_jpeg: 1" in result.stdout
    assert "ImageNet DET train: wrote 2 images, 3 objects, 2 categories" in result.stdout
    assert "YouTube-BB: wrote 2 tracks" in result.stdout
    assert "skipped_frames_missing_file: 1" in result.stdout

    monkeypatch.setenv("DETECTRON2_DATASETS", str(tmp_path))
    register_builtin_datasets()
    assert len(get_sequences("imagenet_vid_train")) == 3
    assert [s.name for s in get_sequences("youtube_bb_train")] == ["vidA_5_0", "vid_B-2_0_0"]
    assert len(get_dataset_dicts("imagenet_det_train")) == 2
    assert MetadataCatalog.get("youtube_bb_train").kind == "sequences"
    assert MetadataCatalog.get("imagenet_det_train").kind == "images"


def test_scripts_refuse_to_overwrite(tmp_path, capsys):
    vid_script, ytb_script = _script("prepare_imagenet_vid"), _script("prepare_youtube_bb")
    root = make_vid(tmp_path / "ILSVRC2015")
    output = tmp_path / "out" / "vid.json"
    output.parent.mkdir()
    output.write_text("mine")
    assert vid_script.main(["--root", str(root), "--output", str(output)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert output.read_text() == "mine"
    assert vid_script.main(["--root", str(root), "--output", str(output), "--force"]) == 0
    assert "ILSVRC2015_train_00000000_00" in output.read_text()

    ytb = make_ytb(tmp_path / "ytb")
    (ytb / "bad.csv").write_text("vidA,0,5\n")
    args = ["--root", str(ytb), "--csv", str(ytb / "bad.csv"), "--output", str(tmp_path / "y.json")]
    assert ytb_script.main(args) == 2
    assert "bad.csv:1: 3 columns" in capsys.readouterr().err
    assert not (tmp_path / "y.json").exists()
