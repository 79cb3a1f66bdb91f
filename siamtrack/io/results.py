"""Reading and writing tracking results (pure numpy, no torch).

Layouts (``docs/conventions.md#result-files``):

- **OTB / pysot** (also UAV, LaSOT, NfS): ``<result_dir>/<tracker>/<seq>.txt``, one
  ``x,y,w,h`` line per frame, the initial box included.
- **GOT-10k**: ``<result_dir>/<tracker>/<seq>/<seq>_001.txt`` (boxes, same line format) and
  ``<seq>_time.txt`` (seconds per frame, one per line), as got10k's toolkit writes them.
- **Boxes table** of ``tools/track_video.py`` by extension: ``.txt`` is the OTB line format
  (row k = frame k, so it can be evaluated directly); ``.csv`` has a header
  ``frame,x,y,w,h,score``; ``.json`` holds ``{"box_format": "xywh", "frames": [{"frame",
  "box_xywh", "score"}, ...]}`` (NaN scores become null). With several targets
  (``write_targets_boxes_file``) the csv gains a ``target`` column (``frame,target,x,y,w,h,
  score``), the json rows a ``"target"`` key, and ``.txt`` becomes one OTB file per target,
  ``<stem>_<target><suffix>``.

Numbers are written with Python's shortest round-trip repr, so reading gives back exactly what
was written. Every file is written atomically (``files.write_text``).
"""

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .files import OutputExistsError, write_text
from .sequences import read_box_file

__all__ = [
    "write_otb_results",
    "read_otb_results",
    "write_got10k_results",
    "read_got10k_results",
    "find_result_file",
    "read_results",
    "list_trackers",
    "write_boxes_file",
    "read_boxes_file",
    "write_targets_boxes_file",
    "read_targets_boxes_file",
    "BOXES_FILE_FORMATS",
]

PathLike = Union[str, os.PathLike]
BOXES_FILE_FORMATS = (".txt", ".csv", ".json")


def _number(value: float) -> str:
    value = float(value)
    return repr(value) if math.isfinite(value) else "nan"


def _box_lines(boxes_xywh: np.ndarray) -> str:
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    return "".join(",".join(_number(v) for v in box) + "\n" for box in boxes)


def write_otb_results(
    result_dir: PathLike, tracker_name: str, sequence_name: str, boxes_xywh
) -> Path:
    """Write ``<result_dir>/<tracker>/<seq>.txt``; boxes (N, 4) xywh. Returns the file."""
    return write_text(
        Path(result_dir) / tracker_name / f"{sequence_name}.txt", _box_lines(boxes_xywh)
    )


def read_otb_results(result_dir: PathLike, tracker_name: str, sequence_name: str) -> np.ndarray:
    """Boxes (N, 4) from ``<result_dir>/<tracker>/<seq>.txt``."""
    return read_box_file(Path(result_dir) / tracker_name / f"{sequence_name}.txt")


def write_got10k_results(
    result_dir: PathLike, tracker_name: str, sequence_name: str, boxes_xywh, times
) -> Path:
    """Write GOT-10k's ``<tracker>/<seq>/<seq>_001.txt`` and ``<seq>_time.txt``; returns the folder."""
    folder = Path(result_dir) / tracker_name / sequence_name
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if len(times) != len(np.asarray(boxes_xywh).reshape(-1, 4)):
        raise ValueError(f"{sequence_name}: {len(times)} times for {len(boxes_xywh)} boxes")
    write_text(folder / f"{sequence_name}_001.txt", _box_lines(boxes_xywh))
    write_text(folder / f"{sequence_name}_time.txt", "".join(f"{_number(t)}\n" for t in times))
    return folder


def read_got10k_results(
    result_dir: PathLike, tracker_name: str, sequence_name: str
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(boxes (N, 4), times (N,) or None) from the GOT-10k layout."""
    folder = Path(result_dir) / tracker_name / sequence_name
    boxes = read_box_file(folder / f"{sequence_name}_001.txt")
    time_file = folder / f"{sequence_name}_time.txt"
    times = None
    if time_file.is_file():
        times = np.asarray([float(t) for t in time_file.read_text().split()], dtype=np.float64)
        if len(times) != len(boxes):
            raise ValueError(f"{time_file}: {len(times)} times for {len(boxes)} boxes")
    return boxes, times


def find_result_file(result_dir: PathLike, tracker_name: str, sequence_name: str) -> Optional[Path]:
    """The result file of a sequence in either layout (OTB first), or None."""
    tracker_dir = Path(result_dir) / tracker_name
    for candidate in (
        tracker_dir / f"{sequence_name}.txt",
        tracker_dir / sequence_name / f"{sequence_name}_001.txt",
    ):
        if candidate.is_file():
            return candidate
    return None


def read_results(
    result_dir: PathLike, tracker_name: str, sequence_name: str
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(boxes, times or None) of a sequence in whichever layout exists."""
    path = find_result_file(result_dir, tracker_name, sequence_name)
    if path is None:
        raise FileNotFoundError(
            f"no result for sequence '{sequence_name}' of tracker '{tracker_name}' in {result_dir} "
            f"(expected {tracker_name}/{sequence_name}.txt or "
            f"{tracker_name}/{sequence_name}/{sequence_name}_001.txt)"
        )
    if path.name.endswith("_001.txt"):
        return read_got10k_results(result_dir, tracker_name, sequence_name)
    return read_box_file(path), None


def list_trackers(result_dir: PathLike) -> List[str]:
    """Names of the tracker folders in ``result_dir`` (sorted)."""
    result_dir = Path(result_dir)
    if not result_dir.is_dir():
        raise FileNotFoundError(f"result folder '{result_dir}' does not exist")
    return sorted(p.name for p in result_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def write_boxes_file(
    path: PathLike,
    boxes_xywh,
    scores,
    frame_indices: Optional[Sequence[int]] = None,
    overwrite: bool = False,
) -> Path:
    """Write one row per frame to a .txt / .csv / .json file (format by extension).

    Args:
        path: output file; its extension picks the format (``BOXES_FILE_FORMATS``).
        boxes_xywh: (N, 4) boxes; scores: (N,) raw scores (NaN allowed).
        frame_indices: (N,) frame numbers, default 0..N-1.
        overwrite: replace an existing file (otherwise ``OutputExistsError``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BOXES_FILE_FORMATS:
        raise ValueError(f"boxes file '{path}': extension must be one of {BOXES_FILE_FORMATS}")
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    frames = np.arange(len(boxes)) if frame_indices is None else np.asarray(frame_indices, int)
    if not len(boxes) == len(scores) == len(frames):
        raise ValueError(f"{len(boxes)} boxes, {len(scores)} scores, {len(frames)} frame indices")
    if suffix == ".txt":
        text = _box_lines(boxes)
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["frame", "x", "y", "w", "h", "score"])
        for frame, box, score in zip(frames, boxes, scores):
            writer.writerow([int(frame)] + [_number(v) for v in box] + [_number(score)])
        text = buffer.getvalue()
    else:
        rows = [
            {
                "frame": int(frame),
                "box_xywh": [float(v) if math.isfinite(v) else None for v in box],
                "score": float(score) if math.isfinite(score) else None,
            }
            for frame, box, score in zip(frames, boxes, scores)
        ]
        text = json.dumps({"box_format": "xywh", "frames": rows}, indent=1) + "\n"
    return write_text(path, text, overwrite=overwrite, what="boxes file")


def read_boxes_file(path: PathLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frame indices (N,), boxes (N, 4), scores (N,)) from a file of ``write_boxes_file``.

    A ``.txt`` file has no frame column or scores: frames are 0..N-1 and scores NaN.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        boxes = read_box_file(path)
        return np.arange(len(boxes)), boxes, np.full(len(boxes), np.nan)
    if suffix == ".csv":
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or set(rows[0]) != {"frame", "x", "y", "w", "h", "score"}:
            raise ValueError(f"{path}: expected a header frame,x,y,w,h,score and rows")
        frames = np.asarray([int(r["frame"]) for r in rows])
        boxes = np.asarray([[float(r[k]) for k in "xywh"] for r in rows], dtype=np.float64)
        return frames, boxes, np.asarray([float(r["score"]) for r in rows], dtype=np.float64)
    if suffix == ".json":
        data = json.loads(path.read_text())
        rows = data["frames"]
        frames = np.asarray([int(r["frame"]) for r in rows])
        boxes = np.asarray(
            [[np.nan if v is None else v for v in r["box_xywh"]] for r in rows], dtype=np.float64
        ).reshape(-1, 4)
        scores = np.asarray(
            [np.nan if r["score"] is None else r["score"] for r in rows], np.float64
        )
        return frames, boxes, scores
    raise ValueError(f"boxes file '{path}': extension must be one of {BOXES_FILE_FORMATS}")


def _target_txt_path(path: Path, target_id) -> Path:
    return path.with_name(f"{path.stem}_{target_id}{path.suffix}")


def write_targets_boxes_file(path: PathLike, tracks: Dict, overwrite: bool = False) -> List[Path]:
    """Write the boxes of several targets (format by extension, module docstring).

    Args:
        path: output file (.txt: one file per target next to it, ``<stem>_<target>.txt``).
        tracks: ``{target id: (frame indices (N,), boxes (N, 4), scores (N,))}``.
        overwrite: replace existing files (otherwise ``OutputExistsError``, nothing written).

    Returns:
        the files written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BOXES_FILE_FORMATS:
        raise ValueError(f"boxes file '{path}': extension must be one of {BOXES_FILE_FORMATS}")
    if suffix == ".txt":
        targets = {_target_txt_path(path, t): rows for t, rows in tracks.items()}
        for target_path in targets:
            if target_path.exists() and not overwrite:
                raise OutputExistsError(target_path, "boxes file")
        return [
            write_boxes_file(target_path, boxes, scores, frames, overwrite=overwrite)
            for target_path, (frames, boxes, scores) in targets.items()
        ]
    rows = [
        (int(frame), target_id, np.asarray(box, np.float64), float(score))
        for target_id, (frames, boxes, scores) in tracks.items()
        for frame, box, score in zip(frames, boxes, scores)
    ]
    rows.sort(key=lambda row: row[0])  # by frame, targets in their order within a frame
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["frame", "target", "x", "y", "w", "h", "score"])
        for frame, target_id, box, score in rows:
            writer.writerow([frame, target_id] + [_number(v) for v in box] + [_number(score)])
        text = buffer.getvalue()
    else:
        entries = [
            {
                "frame": frame,
                "target": target_id,
                "box_xywh": [float(v) if math.isfinite(v) else None for v in box],
                "score": score if math.isfinite(score) else None,
            }
            for frame, target_id, box, score in rows
        ]
        text = json.dumps({"box_format": "xywh", "frames": entries}, indent=1) + "\n"
    return [write_text(path, text, overwrite=overwrite, what="boxes file")]


def read_targets_boxes_file(path: PathLike) -> Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``{target id (str): (frame indices, boxes, scores)}`` from a multi-target ``.csv`` /
    ``.json`` of ``write_targets_boxes_file`` (read ``.txt`` files one by one with
    ``read_boxes_file``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="") as f:
            records = [
                (int(r["frame"]), r["target"], [float(r[k]) for k in "xywh"], float(r["score"]))
                for r in csv.DictReader(f)
            ]
    elif suffix == ".json":
        records = [
            (
                int(r["frame"]),
                str(r["target"]),
                [np.nan if v is None else v for v in r["box_xywh"]],
                np.nan if r["score"] is None else r["score"],
            )
            for r in json.loads(path.read_text())["frames"]
        ]
    else:
        raise ValueError(f"multi-target boxes file '{path}': expected .csv or .json")
    tracks: Dict[str, list] = {}
    for frame, target_id, box, score in records:
        tracks.setdefault(target_id, []).append((frame, box, score))
    return {
        target_id: (
            np.asarray([r[0] for r in rows]),
            np.asarray([r[1] for r in rows], dtype=np.float64).reshape(-1, 4),
            np.asarray([r[2] for r in rows], dtype=np.float64),
        )
        for target_id, rows in tracks.items()
    }
