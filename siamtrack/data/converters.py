"""Converters from the raw annotations of large training sets to siamtrack's source formats.

Pure Python/numpy (xml, csv, json; Pillow for image headers), no torch. The scripts
``datasets/prepare_{imagenet_vid,imagenet_det,youtube_bb}.py`` are thin command lines over them.

- **tracks json** (ImageNet VID, YouTube-BB): ``{"info": {...}, "tracks": [{"sequence_name":
  str, "frame_paths": [str, relative to an image root], "boxes_xywh": [[x, y, w, h] or 4 x
  null], "absent": [0 | 1]}, ...]}``, i.e. the ``DatasetCatalog`` record of a sequence
  (``catalog.sequence_to_dict``); read with ``siamtrack.data.register_tracks_json``. A track
  runs from the first to the last frame where its object is visible; frames in between where
  it is not annotated are absent with a null box. Numbers have at most 3 decimals.
- **COCO instances json** (ImageNet DET): read with ``siamtrack.data.register_coco_pairs``.

Box conventions (continuous pixel coordinates, top-left xywh, as everywhere in siamtrack):

- ImageNet VID/DET ``<bndbox>`` holds integer pixel indices in PASCAL VOC style (the ILSVRC
  devkit's wording); read literally, ``xmax``/``ymax`` index the last pixel inside the object.
  Like pysot's ``training_dataset/{vid,det}`` scripts (``w = xmax - xmin``, centre
  ``(xmin + xmax) / 2``), siamtrack uses the numbers as corners, **without adding 1**:
  ``box_xywh = (xmin, ymin, xmax - xmin, ymax - ymin)``. Compared with the exact pixel extent
  ``[xmin, xmax + 1)`` the box is 1 px narrower and shorter (centre 0.5 px up-left): negligible
  for training, and the same boxes pysot's published models were trained on.
- YouTube-BB gives fractions of the frame size: ``box_xywh = (xmin W, ymin H,
  (xmax - xmin) W, (ymax - ymin) H)`` for a W x H frame; no rounding or shift.
"""

import csv
import json
import math
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple
from xml.etree import ElementTree

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..utils.files import atomic_output
from .sequences import Sequence

__all__ = [
    "VOC_BOX_NOTE",
    "YTB_BOX_NOTE",
    "YTB_COLUMNS",
    "YTB_DEFAULT_FRAME_PATTERN",
    "convert_imagenet_det",
    "convert_imagenet_vid",
    "convert_youtube_bb",
    "format_stats",
    "parse_voc_xml",
    "tracks_to_json",
    "write_json",
]

# columns of yt_bb_detection_{train,validation}.csv (the official files have no header row)
YTB_COLUMNS = (
    "youtube_id timestamp_ms class_id class_name object_id object_presence xmin xmax ymin ymax"
).split()
YTB_DEFAULT_FRAME_PATTERN = "frames/{youtube_id}/{timestamp_ms}.jpg"
VOC_BOX_NOTE = "xywh = (xmin, ymin, xmax - xmin, ymax - ymin): VOC corners as-is, like pysot"
YTB_BOX_NOTE = "xywh = fractions x frame size: (xmin W, ymin H, (xmax - xmin) W, (ymax - ymin) H)"
_NAN_BOX = (np.nan,) * 4


# ---------------------------------------------------------------------------- output files
def _number(value: float):
    """JSON value of a coordinate: null if not finite, int if integral, else 3 decimals."""
    value = float(value)
    if not math.isfinite(value):
        return None
    value = round(value, 3)
    return int(value) if value.is_integer() else value


def tracks_to_json(tracks: List[Sequence], info: Optional[Dict] = None) -> Dict:
    """The tracks-json object of sequences whose ``frame_paths`` are relative to an image root.

    Args:
        tracks: sequences (boxes_xywh (N, 4) with NaN where unknown, absent (N,) bool).
        info: free-form provenance stored under ``"info"``.
    """
    return {
        "info": dict(info or {}, format="siamtrack tracks json", box_format="xywh"),
        "tracks": [
            {
                "sequence_name": track.name,
                "frame_paths": [str(p) for p in track.frame_paths],
                "boxes_xywh": [[_number(v) for v in box] for box in track.boxes_xywh],
                "absent": [int(a) for a in track.absent],
            }
            for track in tracks
        ],
    }


def write_json(data: Dict, path: os.PathLike, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, then rename); FileExistsError if
    ``path`` exists and ``overwrite`` is False (then nothing is touched)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass --overwrite to replace it")
    with atomic_output(path, suffix=".tmp") as temp_path:
        with open(temp_path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
    return path


def format_stats(stats: Counter) -> str:
    """One ``key: count`` line per counter, sorted (for the scripts' summaries)."""
    return "\n".join(f"  {key}: {value}" for key, value in sorted(stats.items()))


# ---------------------------------------------------------------------------- ImageNet XML
def _xml_number(element, tag: str, path: Path, what: str) -> float:
    node = element.find(tag)
    if node is None or node.text is None:
        raise ValueError(f"{path}: {what} has no <{tag}>")
    try:
        return float(node.text)
    except ValueError:
        raise ValueError(f"{path}: {what} <{tag}> is '{node.text}', expected a number") from None


def parse_voc_xml(path: os.PathLike) -> Dict:
    """Read one ILSVRC (PASCAL VOC style) annotation file.

    Returns:
        ``{"size_wh": (width, height) or None, "objects": [{"name": str, "box_xywh": ndarray
        (4,), "trackid": int or None, "occluded": bool}, ...]}`` with boxes
        as in the module docstring (``xmax - xmin``, no +1).

    Raises:
        ValueError: malformed XML or an object without a complete numeric ``<bndbox>``; the
            message names the file.
    """
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as e:
        raise ValueError(f"{path}: malformed XML ({e})") from None
    size, size_wh = root.find("size"), None
    if size is not None and size.find("width") is not None:
        size_wh = tuple(int(_xml_number(size, t, path, "<size>")) for t in ("width", "height"))
    objects = []
    for index, node in enumerate(root.findall("object")):
        what = f"object {index}"
        bndbox = node.find("bndbox")
        if bndbox is None:
            raise ValueError(f"{path}: {what} has no <bndbox>")
        xmin, ymin, xmax, ymax = (
            _xml_number(bndbox, tag, path, what) for tag in ("xmin", "ymin", "xmax", "ymax")
        )
        trackid = node.find("trackid")
        if trackid is not None:
            trackid = int(_xml_number(node, "trackid", path, what))
        box_xywh = np.array([xmin, ymin, xmax - xmin, ymax - ymin], dtype=np.float64)
        name = (node.findtext("name") or "").strip()
        occluded = node.findtext("occluded", "0").strip() == "1"
        objects.append(dict(name=name, box_xywh=box_xywh, trackid=trackid, occluded=occluded))
    return {"size_wh": size_wh, "objects": objects}


def _box_ok(box: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0)


def _add_track(tracks: List[Sequence], stats: Counter, name: str, paths, boxes, absent) -> None:
    """Append the track from its first to its last visible frame (count it if none is)."""
    visible = [i for i, a in enumerate(absent) if not a]
    if not visible:
        stats["skipped_tracks_no_visible_frame"] += 1
        return
    first, last = visible[0], visible[-1] + 1
    track = Sequence(name, paths[first:last], boxes[first:last], absent[first:last], "tracks_json")
    tracks.append(track)
    stats.update(tracks=1, track_frames=len(track), track_frames_absent=int(track.absent.sum()))


# ---------------------------------------------------------------------------- ImageNet VID
def _snippet_folders(annotation_root: Path) -> List[Path]:
    """Folders holding frame XMLs (``<batch>/<snippet>`` for train, ``<snippet>`` for val)."""
    walk = os.walk(annotation_root)
    return sorted(Path(d) for d, _, files in walk if any(f.endswith(".xml") for f in files))


def convert_imagenet_vid(
    root: os.PathLike,
    split: str = "train",
    occluded_as_absent: bool = False,
    show_progress: bool = False,
) -> Tuple[List[Sequence], Counter]:
    """ILSVRC2015 VID -> tracks: one per (snippet, ``<trackid>``).

    Args:
        root: the ``ILSVRC2015`` folder with ``Annotations/VID/<split>/.../<snippet>/*.xml`` and
            ``Data/VID/<split>/.../<snippet>/*.JPEG``.
        split: "train" or "val".
        occluded_as_absent: mark frames flagged ``<occluded>1`` absent (pysot uses them).
        show_progress: tqdm bar over snippets.

    Returns:
        (tracks, stats): frame paths relative to ``root/Data/VID/<split>``; a track spans its
        first to last visible frame, frames where its object is not annotated (or has an
        empty box) are absent with a NaN box. Frames whose JPEG is missing are left out.
    """
    root = Path(root)
    annotation_root = root / "Annotations" / "VID" / split
    image_root = root / "Data" / "VID" / split
    if not annotation_root.is_dir():
        raise FileNotFoundError(
            f"{annotation_root} does not exist (expected the ILSVRC2015 VID release under {root})"
        )
    stats: Counter = Counter()
    tracks: List[Sequence] = []
    names = set()
    folders = _snippet_folders(annotation_root)
    for folder in tqdm(folders, desc=f"VID {split}", unit="snippet", disable=not show_progress):
        stats["snippets"] += 1
        relative = folder.relative_to(annotation_root)
        frame_paths, frame_objects = [], []
        for xml_file in sorted(folder.glob("*.xml")):
            stats["xml_files"] += 1
            frame = (relative / xml_file.stem).as_posix() + ".JPEG"
            if not (image_root / frame).is_file():
                stats["skipped_frames_missing_jpeg"] += 1
                continue
            objects = {}
            for obj in parse_voc_xml(xml_file)["objects"]:
                if obj["trackid"] is None:
                    raise ValueError(f"{xml_file}: an <object> has no <trackid> (not a VID file?)")
                if obj["trackid"] in objects:
                    stats["skipped_objects_duplicate_trackid"] += 1
                    continue
                objects[obj["trackid"]] = obj
            frame_paths.append(frame)
            frame_objects.append(objects)
        track_ids = sorted({t for objects in frame_objects for t in objects})
        if not track_ids:
            stats["snippets_without_objects"] += 1
        for track_id in track_ids:
            boxes, absent = [], []
            for objects in frame_objects:
                obj = objects.get(track_id)
                if obj is not None:
                    stats.update(objects=1, objects_occluded=int(obj["occluded"]))
                    if not _box_ok(obj["box_xywh"]):
                        stats["objects_empty_box_marked_absent"] += 1
                        obj = None
                boxes.append(_NAN_BOX if obj is None else obj["box_xywh"])
                absent.append(obj is None or (occluded_as_absent and obj["occluded"]))
            name = f"{folder.name}_{track_id:02d}"
            if name in names:  # snippet names are unique in the release; keep paths apart anyway
                name = f"{relative.as_posix().replace('/', '-')}_{track_id:02d}"
            names.add(name)
            _add_track(tracks, stats, name, frame_paths, boxes, absent)
    if stats["xml_files"] == 0:
        raise FileNotFoundError(f"no .xml annotation files under {annotation_root}")
    return tracks, stats


# ---------------------------------------------------------------------------- ImageNet DET
def _image_size_wh(path: Path) -> Tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def convert_imagenet_det(
    root: os.PathLike, split: str = "train", show_progress: bool = False
) -> Tuple[Dict, Counter]:
    """ILSVRC DET -> a COCO instances dict, one category per WordNet id (``<name>``).

    Args:
        root: the folder with ``Annotations/DET/<split>/**.xml`` and the images at the same
            relative paths under ``Data/DET/<split>`` (``.JPEG``), e.g. ``ILSVRC2015``.
        split: "train" or "val".
        show_progress: tqdm bar over XML files.

    Returns:
        (coco, stats): ``file_name`` relative to ``root/Data/DET/<split>``; categories sorted by
        WordNet id with ids 1..K; boxes as in the module docstring. Images with no usable box
        and images whose JPEG is missing are left out; empty boxes are dropped.
    """
    root = Path(root)
    annotation_root = root / "Annotations" / "DET" / split
    image_root = root / "Data" / "DET" / split
    if not annotation_root.is_dir():
        raise FileNotFoundError(
            f"{annotation_root} does not exist (expected the ILSVRC DET release under {root})"
        )
    xml_files = sorted(annotation_root.rglob("*.xml"))
    if not xml_files:
        raise FileNotFoundError(f"no .xml annotation files under {annotation_root}")
    stats: Counter = Counter()
    images, annotations = [], []
    for xml_file in tqdm(xml_files, desc=f"DET {split}", unit="xml", disable=not show_progress):
        stats["xml_files"] += 1
        file_name = xml_file.relative_to(annotation_root).with_suffix(".JPEG").as_posix()
        if not (image_root / file_name).is_file():
            stats["skipped_images_missing_jpeg"] += 1
            continue
        parsed = parse_voc_xml(xml_file)
        if not all(obj["name"] for obj in parsed["objects"]):
            raise ValueError(f"{xml_file}: an <object> has no <name> (WordNet id)")
        kept = [obj for obj in parsed["objects"] if _box_ok(obj["box_xywh"])]
        stats["skipped_objects_empty_box"] += len(parsed["objects"]) - len(kept)
        if not kept:
            stats["skipped_images_without_objects"] += 1
            continue
        width, height = parsed["size_wh"] or (0, 0)
        if width <= 0 or height <= 0:
            width, height = _image_size_wh(image_root / file_name)
            stats["image_sizes_read_from_jpeg"] += 1
        image_id = len(images) + 1
        images.append(dict(id=image_id, file_name=file_name, width=width, height=height))
        for obj in kept:
            box = [_number(v) for v in obj["box_xywh"]]
            annotation = dict(id=len(annotations) + 1, image_id=image_id, bbox=box, iscrowd=0)
            # category_id holds the WordNet id until the numeric ids are known (below)
            annotation.update(area=_number(box[2] * box[3]), category_id=obj["name"])
            annotations.append(annotation)
    wnids = sorted({a["category_id"] for a in annotations})
    category_ids = {wnid: i + 1 for i, wnid in enumerate(wnids)}
    for annotation in annotations:
        annotation["category_id"] = category_ids[annotation["category_id"]]
    stats.update(images=len(images), objects=len(annotations), categories=len(wnids))
    coco = {
        "info": {"description": f"ImageNet DET {split}", "box_convention": VOC_BOX_NOTE},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [dict(id=category_ids[w], name=w, supercategory="") for w in wnids],
    }
    return coco, stats


# ---------------------------------------------------------------------------- YouTube-BB
def _ytb_rows(csv_file: Path) -> Iterable[Tuple[int, List[str]]]:
    """(line number, 10 fields) per data row; the official files have no header row, a header
    row is accepted if it names exactly ``YTB_COLUMNS``."""
    with open(csv_file, newline="") as f:
        for line_number, row in enumerate(csv.reader(f), start=1):
            if not row or not "".join(row).strip():
                continue
            if line_number == 1 and row[0].strip() == YTB_COLUMNS[0]:
                if [c.strip() for c in row] != YTB_COLUMNS:
                    raise ValueError(
                        f"{csv_file}: header {row} does not match the YouTube-BB detection "
                        f"columns {list(YTB_COLUMNS)}"
                    )
                continue
            if len(row) != len(YTB_COLUMNS):
                raise ValueError(
                    f"{csv_file}:{line_number}: {len(row)} columns, expected {len(YTB_COLUMNS)} "
                    f"({','.join(YTB_COLUMNS)}; no header or exactly that header)"
                )
            yield line_number, row


def convert_youtube_bb(
    csv_file: os.PathLike,
    image_root: os.PathLike,
    frame_pattern: str = YTB_DEFAULT_FRAME_PATTERN,
    show_progress: bool = False,
) -> Tuple[List[Sequence], Counter]:
    """YouTube-BoundingBoxes detection csv + already extracted frames -> tracks.

    Args:
        csv_file: ``yt_bb_detection_{train,validation}.csv`` rows ``youtube_id, timestamp_ms,
            class_id, class_name, object_id, object_presence, xmin, xmax, ymin, ymax``
            (box as fractions of the frame size; -1 when absent).
        image_root: folder the frame pattern is relative to.
        frame_pattern: path of a row's frame under ``image_root``, formatted with the row's
            ``youtube_id``, ``timestamp_ms`` (int), ``class_id``, ``class_name``, ``object_id``.
        show_progress: tqdm bars over csv rows and tracks.

    Returns:
        (tracks, stats): one track per (youtube_id, class_id, object_id), frames sorted by
        timestamp; rows marked "absent" (or with an empty box) are absent frames with a NaN
        box; rows whose frame file is missing or unreadable are left out (counted). The frame
        size is read from the first frame of each video (all frames of a video share it).
    """
    csv_file, image_root = Path(csv_file), Path(image_root)
    if not csv_file.is_file():
        raise FileNotFoundError(f"YouTube-BB csv {csv_file} does not exist")
    try:
        frame_pattern.format(youtube_id="v", timestamp_ms=0, class_id=0, class_name="", object_id=0)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(
            f"frame pattern '{frame_pattern}' is invalid ({type(e).__name__}: {e}); it may use "
            "{youtube_id}, {timestamp_ms}, {class_id}, {class_name} and {object_id}"
        ) from None
    stats: Counter = Counter()
    rows_by_track: Dict[Tuple, Dict[int, Tuple]] = defaultdict(dict)
    rows = tqdm(_ytb_rows(csv_file), desc="csv rows", unit="row", disable=not show_progress)
    for line_number, row in rows:
        youtube_id, timestamp, class_id, class_name, object_id, presence = row[:6]
        try:
            key = (youtube_id, int(class_id), int(object_id))
            timestamp_ms = int(timestamp)
            fractions = tuple(float(v) for v in row[6:])  # xmin, xmax, ymin, ymax
            if presence not in ("present", "absent"):
                raise ValueError(presence)
        except ValueError:
            raise ValueError(
                f"{csv_file}:{line_number}: {row} is not a YouTube-BB row (expected integer "
                "timestamp_ms/class_id/object_id, object_presence 'present' or 'absent' and "
                f"numeric xmin..ymax; columns {','.join(YTB_COLUMNS)})"
            ) from None
        stats["csv_rows"] += 1
        if timestamp_ms in rows_by_track[key]:
            stats["skipped_rows_duplicate_timestamp"] += 1
            continue
        rows_by_track[key][timestamp_ms] = (class_name, presence == "present", fractions)
    if not rows_by_track:
        raise ValueError(f"{csv_file}: no annotation rows")

    tracks: List[Sequence] = []
    sizes: Dict[str, Tuple[int, int]] = {}
    keys = sorted(rows_by_track)
    for key in tqdm(keys, desc="tracks", unit="track", disable=not show_progress):
        youtube_id, class_id, object_id = key
        fields = dict(youtube_id=youtube_id, class_id=class_id, object_id=object_id)
        paths, boxes, absent = [], [], []
        for timestamp_ms, (class_name, present, fractions) in sorted(rows_by_track[key].items()):
            path = frame_pattern.format(timestamp_ms=timestamp_ms, class_name=class_name, **fields)
            full_path = image_root / path
            if not full_path.is_file():
                stats["skipped_frames_missing_file"] += 1
                continue
            if youtube_id not in sizes:
                try:
                    sizes[youtube_id] = _image_size_wh(full_path)
                except OSError:
                    stats["skipped_frames_unreadable_file"] += 1
                    continue
            width, height = sizes[youtube_id]
            xmin, xmax, ymin, ymax = fractions
            box = np.array([xmin, ymin, xmax - xmin, ymax - ymin]) * (width, height, width, height)
            if present and (xmin < 0 or ymin < 0 or not _box_ok(box)):
                stats["frames_invalid_box_marked_absent"] += 1
                present = False
            paths.append(path)
            boxes.append(box if present else _NAN_BOX)
            absent.append(not present)
        _add_track(tracks, stats, f"{youtube_id}_{class_id}_{object_id}", paths, boxes, absent)
    return tracks, stats
