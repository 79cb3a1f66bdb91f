"""The tracks-json format: many sequences (tracks) in one file, frame paths relative to a root.

Written by the ImageNet VID and YouTube-BB converters (``siamtrack/data/converters/``) and read
as a sequence dataset (``siamtrack.data.register_tracks_json``)::

    {"info": {...}, "tracks": [{"sequence_name": str, "frame_paths": [str],
      "boxes_xywh": [[x, y, w, h] or 4 x null], "absent": [0 | 1]}, ...]}

A track runs from the first to the last frame where its object is visible; frames in between
where it is not annotated are absent with a null box. Coordinates are stored with at most 3
decimals (``docs/conventions.md#boxes``).
"""

import json
import math
import os
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..errors import BadInputError
from ..utils.paths import PathLike
from .files import write_json
from .sequences import Sequence

__all__ = ["json_coordinate", "read_tracks_json", "tracks_to_json", "write_tracks_json"]


def json_coordinate(value: float):
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
                "boxes_xywh": [[json_coordinate(v) for v in box] for box in track.boxes_xywh],
                "absent": [int(a) for a in track.absent],
            }
            for track in tracks
        ],
    }


def write_tracks_json(
    tracks: List[Sequence], path: PathLike, info: Optional[Dict] = None, overwrite: bool = False
) -> Path:
    """``tracks_to_json`` written atomically to ``path`` (``OutputExistsError`` if it exists)."""
    return write_json(tracks_to_json(tracks, info), path, overwrite, what="tracks json")


def _track_to_sequence(track: Dict, image_root: str) -> Sequence:
    if not isinstance(track, dict):
        raise TypeError(f"expected an object, got {type(track).__name__}")
    missing = [k for k in ("sequence_name", "frame_paths", "boxes_xywh") if k not in track]
    if missing:
        raise KeyError(f"missing {missing}")
    boxes = np.asarray(track["boxes_xywh"], dtype=np.float64)  # null -> NaN
    if boxes.ndim != 2 or boxes.shape[1] != 4 or len(boxes) == 0:
        raise ValueError(
            f"'boxes_xywh' must be a non-empty list of [x, y, w, h], got {boxes.shape}"
        )
    paths = [os.path.join(image_root, p) for p in track["frame_paths"]]
    return Sequence(
        str(track["sequence_name"]), paths, boxes, track.get("absent"), layout="tracks_json"
    )


def read_tracks_json(json_file: PathLike, image_root: PathLike, name: str = "tracks"):
    """The sequences of a tracks json, frame paths joined with ``image_root``.

    Args:
        json_file: the file (module docstring).
        image_root: folder the ``frame_paths`` are relative to (absolute paths stay as they are).
        name: dataset name for error messages.

    Returns:
        list of ``Sequence`` (boxes as stored, NaN where null; absent as bool).
    """
    json_file, image_root = os.fspath(json_file), os.fspath(image_root)
    if not os.path.isfile(json_file):
        raise FileNotFoundError(
            f"dataset '{name}': tracks file {json_file} does not exist (write it with the "
            "datasets/prepare_*.py scripts, see datasets/README.md)"
        )
    try:
        with open(json_file) as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInputError(
            f"dataset '{name}': {json_file} is not valid JSON ({e}); expected a tracks json"
        ) from e
    tracks = data.get("tracks") if isinstance(data, dict) else None
    if not isinstance(tracks, list):
        raise BadInputError(
            f"dataset '{name}': {json_file} is not a tracks json (expected an object with a "
            "'tracks' list of {sequence_name, frame_paths, boxes_xywh, absent})"
        )
    sequences = []
    for index, track in enumerate(tracks):
        try:
            sequences.append(_track_to_sequence(track, image_root))
        except (KeyError, TypeError, ValueError) as e:
            label = track.get("sequence_name", "?") if isinstance(track, dict) else "?"
            raise BadInputError(
                f"dataset '{name}': {json_file}: track {index} ('{label}') is broken: {e}"
            ) from e
    return sequences
