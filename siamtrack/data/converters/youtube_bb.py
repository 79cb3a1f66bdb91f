"""YouTube-BoundingBoxes detection csv + extracted frames -> tracks for a tracks json.

YouTube-BB gives fractions of the frame size: ``box_xywh = (xmin W, ymin H, (xmax - xmin) W,
(ymax - ymin) H)`` for a W x H frame; no rounding or shift.
"""

import csv
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import numpy as np
from tqdm import tqdm

from ...errors import BadInputError
from ...io.sequences import Sequence
from ...utils.boxes import is_valid_xywh
from .common import NAN_BOX, add_track, image_size_wh

__all__ = ["YTB_BOX_NOTE", "YTB_COLUMNS", "YTB_DEFAULT_FRAME_PATTERN", "convert_youtube_bb"]

# columns of yt_bb_detection_{train,validation}.csv (the official files have no header row)
YTB_COLUMNS = (
    "youtube_id timestamp_ms class_id class_name object_id object_presence xmin xmax ymin ymax"
).split()
YTB_DEFAULT_FRAME_PATTERN = "frames/{youtube_id}/{timestamp_ms}.jpg"
YTB_BOX_NOTE = "xywh = fractions x frame size: (xmin W, ymin H, (xmax - xmin) W, (ymax - ymin) H)"


def _ytb_rows(csv_file: Path) -> Iterable[Tuple[int, List[str]]]:
    """(line number, 10 fields) per data row; the official files have no header row, a header
    row is accepted if it names exactly ``YTB_COLUMNS``."""
    with open(csv_file, newline="") as f:
        for line_number, row in enumerate(csv.reader(f), start=1):
            if not row or not "".join(row).strip():
                continue
            if line_number == 1 and row[0].strip() == YTB_COLUMNS[0]:
                if [c.strip() for c in row] != YTB_COLUMNS:
                    raise BadInputError(
                        f"{csv_file}: header {row} does not match the YouTube-BB detection "
                        f"columns {list(YTB_COLUMNS)}"
                    )
                continue
            if len(row) != len(YTB_COLUMNS):
                raise BadInputError(
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
        raise BadInputError(
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
                raise BadInputError(presence)
        except ValueError:
            raise BadInputError(
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
        raise BadInputError(f"{csv_file}: no annotation rows")

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
                    sizes[youtube_id] = image_size_wh(full_path)
                except OSError:
                    stats["skipped_frames_unreadable_file"] += 1
                    continue
            width, height = sizes[youtube_id]
            xmin, xmax, ymin, ymax = fractions
            box = np.array([xmin, ymin, xmax - xmin, ymax - ymin]) * (width, height, width, height)
            if present and (xmin < 0 or ymin < 0 or not is_valid_xywh(box)):
                stats["frames_invalid_box_marked_absent"] += 1
                present = False
            paths.append(path)
            boxes.append(box if present else NAN_BOX)
            absent.append(not present)
        add_track(tracks, stats, f"{youtube_id}_{class_id}_{object_id}", paths, boxes, absent)
    return tracks, stats
