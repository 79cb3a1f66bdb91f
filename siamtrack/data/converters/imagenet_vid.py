"""ILSVRC2015 VID -> tracks (one per snippet and ``<trackid>``) for a tracks json."""

import os
from collections import Counter
from pathlib import Path
from typing import List, Tuple

from tqdm import tqdm

from ...errors import BadInputError
from ...io.sequences import Sequence
from ...utils.boxes import is_valid_xywh
from .common import NAN_BOX, add_track, ilsvrc_folders
from .voc_xml import parse_voc_xml

__all__ = ["convert_imagenet_vid"]


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
    annotation_root, image_root = ilsvrc_folders(root, "VID", split, "ILSVRC2015 VID")
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
                    raise BadInputError(
                        f"{xml_file}: an <object> has no <trackid> (not a VID file?)"
                    )
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
                    if not is_valid_xywh(obj["box_xywh"]):
                        stats["objects_empty_box_marked_absent"] += 1
                        obj = None
                boxes.append(NAN_BOX if obj is None else obj["box_xywh"])
                absent.append(obj is None or (occluded_as_absent and obj["occluded"]))
            name = f"{folder.name}_{track_id:02d}"
            if name in names:  # snippet names are unique in the release; keep paths apart anyway
                name = f"{relative.as_posix().replace('/', '-')}_{track_id:02d}"
            names.add(name)
            add_track(tracks, stats, name, frame_paths, boxes, absent)
    if stats["xml_files"] == 0:
        raise FileNotFoundError(f"no .xml annotation files under {annotation_root}")
    return tracks, stats
