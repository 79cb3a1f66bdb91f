"""Reading and writing tracking result files (pure numpy, no torch).

Result folders (``docs/conventions.md#result-files``):

- **OTB / pysot** (also UAV, LaSOT, NfS): ``<result_dir>/<tracker>/<seq>.txt``, one
  ``x,y,w,h`` line per frame, the initial box included, and next to it
  ``<seq>_confidence.value``, the tracker's confidence per frame (one number a line, frame 0
  included), as VOT-LT stores ``<seq>_001_confidence.value``.
- **GOT-10k**: ``<result_dir>/<tracker>/<seq>/<seq>_001.txt`` (boxes, same line format) and
  ``<seq>_time.txt`` (seconds per frame, one per line), as got10k's toolkit writes them, plus
  ``<seq>_001_confidence.value``.

Box lines are ``nan,nan,nan,nan`` on frames the tracker reports the target absent (the VOT-LT /
UAV123 convention; ``TrackSequenceResult.reported_boxes_xywh``). A missing confidence file
reads as confidence 1.0 on every frame (a tracker that reports none).

**Boxes files** (``write_boxes_file`` / ``read_boxes_file``, ``tools/track_video.py``), format
by extension, one row per frame:

- ``.txt``: the OTB line format (row k = frame k, so it can be evaluated directly), ``nan``
  rows on frames reported absent;
- ``.csv``: header ``frame,x,y,w,h,score,present,confidence`` (``present`` is 1 or 0);
- ``.json``: ``{"box_format": "xywh", "frames": [{"frame", "box_xywh", "score", "present",
  "confidence"}, ...]}`` (NaN becomes null).

On frames reported absent the csv and json rows still hold the tracker's box (where the target
was last seen) with ``present`` 0 / false. Several targets (``{target id: track}``): the csv
gains a ``target`` column (``frame,target,x,y,w,h,...``), the json rows a ``"target"`` key,
and ``.txt`` becomes one file per target, ``<stem>_<target><suffix>``.

Numbers are written with Python's shortest round-trip repr, so reading gives back exactly what
was written. Every file is written atomically (``files.write_text``).
"""

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Hashable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ..utils.paths import PathLike
from .files import OutputExistsError, write_text
from .sequences import read_box_file

__all__ = [
    "write_otb_results",
    "read_otb_results",
    "write_got10k_results",
    "read_got10k_results",
    "confidence_file",
    "read_confidence_file",
    "find_result_file",
    "SavedResult",
    "read_results",
    "list_trackers",
    "TrackRows",
    "write_boxes_file",
    "read_boxes_file",
    "BOXES_FILE_FORMATS",
]

BOXES_FILE_FORMATS = (".txt", ".csv", ".json")
_BOX_COLUMNS = ["x", "y", "w", "h"]
_DECISION_COLUMNS = ["present", "confidence"]


def _number(value: float) -> str:
    value = float(value)
    return repr(value) if math.isfinite(value) else "nan"


def _json_number(value: float) -> Optional[float]:
    value = float(value)
    return value if math.isfinite(value) else None


def _box_lines(boxes_xywh: np.ndarray) -> str:
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    return "".join(",".join(_number(v) for v in box) + "\n" for box in boxes)


def confidence_file(boxes_file: PathLike) -> Path:
    """The confidence file next to a result boxes file: ``<seq>.txt`` ->
    ``<seq>_confidence.value``, ``<seq>_001.txt`` -> ``<seq>_001_confidence.value``."""
    boxes_file = Path(boxes_file)
    return boxes_file.with_name(f"{boxes_file.stem}_confidence.value")


def _write_boxes_and_confidences(boxes_file: Path, boxes_xywh, confidences) -> Path:
    """The boxes file, and its confidence file when ``confidences`` is given (else an older
    confidence file there is removed: it would belong to other boxes)."""
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    target = confidence_file(boxes_file)
    if confidences is not None:
        values = np.asarray(confidences, dtype=np.float64).reshape(-1)
        if len(values) != len(boxes):
            raise ValueError(f"{boxes_file.stem}: {len(values)} confidences for {len(boxes)} boxes")
    write_text(boxes_file, _box_lines(boxes), overwrite=True)
    if confidences is None:
        target.unlink(missing_ok=True)
    else:
        write_text(target, "".join(f"{_number(v)}\n" for v in values), overwrite=True)
    return boxes_file


def read_confidence_file(boxes_file: PathLike, num_frames: int) -> np.ndarray:
    """Confidences (``num_frames``,) from the confidence file of ``boxes_file``; all 1.0 if
    there is none (a tracker that reports no confidence)."""
    path = confidence_file(boxes_file)
    if not path.is_file():
        return np.ones(num_frames)
    values = []
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                values.append(float(line))
            except ValueError:
                raise ValueError(f"{path}:{line_number}: '{line.strip()}' is not a number")
    if len(values) != num_frames:
        raise ValueError(f"{path}: {len(values)} confidences for {num_frames} boxes")
    return np.asarray(values, dtype=np.float64)


def write_otb_results(
    result_dir: PathLike, tracker_name: str, sequence_name: str, boxes_xywh, confidences=None
) -> Path:
    """Write ``<result_dir>/<tracker>/<seq>.txt`` (+ ``<seq>_confidence.value``).

    Args:
        boxes_xywh: (N, 4) reported boxes, NaN rows on frames reported absent.
        confidences: optional (N,) confidence per frame.

    Returns:
        the boxes file.
    """
    boxes_file = Path(result_dir) / tracker_name / f"{sequence_name}.txt"
    return _write_boxes_and_confidences(boxes_file, boxes_xywh, confidences)


def read_otb_results(result_dir: PathLike, tracker_name: str, sequence_name: str) -> np.ndarray:
    """Boxes (N, 4) from ``<result_dir>/<tracker>/<seq>.txt``."""
    return read_box_file(Path(result_dir) / tracker_name / f"{sequence_name}.txt")


def write_got10k_results(
    result_dir: PathLike,
    tracker_name: str,
    sequence_name: str,
    boxes_xywh,
    times,
    confidences=None,
) -> Path:
    """Write GOT-10k's ``<tracker>/<seq>/<seq>_001.txt`` and ``<seq>_time.txt`` (+
    ``<seq>_001_confidence.value`` when ``confidences`` (N,) is given); returns the folder."""
    folder = Path(result_dir) / tracker_name / sequence_name
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if len(times) != len(np.asarray(boxes_xywh).reshape(-1, 4)):
        raise ValueError(f"{sequence_name}: {len(times)} times for {len(boxes_xywh)} boxes")
    _write_boxes_and_confidences(folder / f"{sequence_name}_001.txt", boxes_xywh, confidences)
    write_text(
        folder / f"{sequence_name}_time.txt",
        "".join(f"{_number(t)}\n" for t in times),
        overwrite=True,
    )
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
    """The result boxes file of a sequence in either layout (OTB first), or None."""
    tracker_dir = Path(result_dir) / tracker_name
    for candidate in (
        tracker_dir / f"{sequence_name}.txt",
        tracker_dir / sequence_name / f"{sequence_name}_001.txt",
    ):
        if candidate.is_file():
            return candidate
    return None


class SavedResult(NamedTuple):
    """What a result folder holds for one sequence.

    Attributes:
        boxes_xywh: (N, 4) reported boxes (NaN rows: reported absent).
        times: (N,) seconds per frame, or None (the OTB layout has no times).
        confidences: (N,) confidence per frame (all 1.0 without a confidence file).
    """

    boxes_xywh: np.ndarray
    times: Optional[np.ndarray]
    confidences: np.ndarray


def read_results(result_dir: PathLike, tracker_name: str, sequence_name: str) -> SavedResult:
    """Boxes, times (or None) and confidences of a sequence in whichever layout exists."""
    path = find_result_file(result_dir, tracker_name, sequence_name)
    if path is None:
        raise FileNotFoundError(
            f"no result for sequence '{sequence_name}' of tracker '{tracker_name}' in {result_dir} "
            f"(expected {tracker_name}/{sequence_name}.txt or "
            f"{tracker_name}/{sequence_name}/{sequence_name}_001.txt)"
        )
    if path.name.endswith("_001.txt"):
        boxes, times = read_got10k_results(result_dir, tracker_name, sequence_name)
    else:
        boxes, times = read_box_file(path), None
    return SavedResult(boxes, times, read_confidence_file(path, len(boxes)))


def list_trackers(result_dir: PathLike) -> List[str]:
    """Names of the tracker folders in ``result_dir`` (sorted)."""
    result_dir = Path(result_dir)
    if not result_dir.is_dir():
        raise FileNotFoundError(f"result folder '{result_dir}' does not exist")
    return sorted(p.name for p in result_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


@dataclass(frozen=True)
class TrackRows:
    """One target's rows of a boxes file.

    Attributes:
        boxes_xywh: float64 (N, 4), the tracker's box per row (also on rows reported absent).
        scores: float64 (N,), raw score (NaN: unknown, or a frame that could not be read).
        frames: int64 (N,), frame index per row; default 0..N-1.
        present: bool (N,), the tracker reports the target; default all True.
        confidences: float64 (N,), presence confidence; default all 1.0.
    """

    boxes_xywh: np.ndarray
    scores: np.ndarray
    frames: Optional[np.ndarray] = None
    present: Optional[np.ndarray] = None
    confidences: Optional[np.ndarray] = None

    def __post_init__(self):
        boxes = np.array(self.boxes_xywh, dtype=np.float64).reshape(-1, 4)
        n = len(boxes)
        scores = np.array(self.scores, dtype=np.float64).reshape(-1)
        frames = np.arange(n) if self.frames is None else self.frames
        frames = np.array(frames, dtype=np.int64).reshape(-1)
        present = np.ones(n, bool) if self.present is None else self.present
        present = np.array(present, dtype=bool).reshape(-1)
        confidences = np.ones(n) if self.confidences is None else self.confidences
        confidences = np.array(confidences, dtype=np.float64).reshape(-1)
        if not n == len(scores) == len(frames) == len(present) == len(confidences):
            raise ValueError(
                f"{n} boxes, {len(scores)} scores, {len(frames)} frame indices, "
                f"{len(present)} presence flags and {len(confidences)} confidences differ"
            )
        for name, array in (
            ("boxes_xywh", boxes),
            ("scores", scores),
            ("frames", frames),
            ("present", present),
            ("confidences", confidences),
        ):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.boxes_xywh)

    @property
    def reported_boxes_xywh(self) -> np.ndarray:
        """``boxes_xywh`` with NaN rows where the target is reported absent."""
        return np.where(self.present[:, None], self.boxes_xywh, np.nan)

    @classmethod
    def from_track(cls, track, frames: Optional[Sequence[int]] = None) -> "TrackRows":
        """From anything with ``boxes_xywh`` and ``scores`` (and optionally ``present``,
        ``confidences``, ``frames``), e.g. a ``TrackSequenceResult``; ``frames`` overrides."""
        if isinstance(track, cls) and frames is None:
            return track
        return cls(
            track.boxes_xywh,
            track.scores,
            getattr(track, "frames", None) if frames is None else frames,
            getattr(track, "present", None),
            getattr(track, "confidences", None),
        )


TracksLike = Union[object, Mapping[Hashable, object]]


def _as_targets(tracks: TracksLike) -> Dict[Hashable, TrackRows]:
    """``{target id: TrackRows}``; one track (or ``{None: track}``) is ``{None: rows}``."""
    if not isinstance(tracks, Mapping):
        return {None: TrackRows.from_track(tracks)}
    if not tracks:
        raise ValueError("no targets to write")
    if None in tracks and len(tracks) > 1:
        raise ValueError("target id None stands for a single target; name every target")
    return {target_id: TrackRows.from_track(track) for target_id, track in tracks.items()}


def _target_txt_path(path: Path, target_id) -> Path:
    return path if target_id is None else path.with_name(f"{path.stem}_{target_id}{path.suffix}")


def _table_rows(targets: Dict[Hashable, TrackRows]):
    """(frame, target id, box, score, present, confidence) of every row, by frame (targets in
    their order within a frame)."""
    rows = [
        (int(rows.frames[k]), target_id, rows.boxes_xywh[k], rows.scores[k], rows.present[k],
         rows.confidences[k])
        for target_id, rows in targets.items()
        for k in range(len(rows))
    ]  # fmt: skip
    return sorted(rows, key=lambda row: row[0])


def _csv_text(targets: Dict[Hashable, TrackRows]) -> str:
    single = list(targets) == [None]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["frame"] + ([] if single else ["target"]) + _BOX_COLUMNS + ["score"]
                    + _DECISION_COLUMNS)  # fmt: skip
    for frame, target_id, box, score, present, confidence in _table_rows(targets):
        writer.writerow(
            [frame]
            + ([] if single else [target_id])
            + [_number(v) for v in box]
            + [_number(score), int(present), _number(confidence)]
        )
    return buffer.getvalue()


def _json_text(targets: Dict[Hashable, TrackRows]) -> str:
    single = list(targets) == [None]
    entries = []
    for frame, target_id, box, score, present, confidence in _table_rows(targets):
        entry = {"frame": frame} if single else {"frame": frame, "target": target_id}
        entry.update(
            box_xywh=[_json_number(v) for v in box],
            score=_json_number(score),
            present=bool(present),
            confidence=_json_number(confidence),
        )
        entries.append(entry)
    return json.dumps({"box_format": "xywh", "frames": entries}, indent=1) + "\n"


def write_boxes_file(path: PathLike, tracks: TracksLike, *, overwrite: bool = False) -> List[Path]:
    """Write one row per frame of one or several targets (format by extension, module docstring).

    Args:
        path: output file; its extension picks the format (``BOXES_FILE_FORMATS``).
        tracks: one target: a ``TrackRows``, a ``TrackSequenceResult`` (frames 0..N-1) or
            ``{None: track}``; several targets: ``{target id: track}`` (a ``target`` column;
            ``.txt``: one file per target, ``<stem>_<target>.txt``).
        overwrite: replace existing files; otherwise ``OutputExistsError`` before anything is
            written if any of the files exists.

    Returns:
        the files written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BOXES_FILE_FORMATS:
        raise ValueError(f"boxes file '{path}': extension must be one of {BOXES_FILE_FORMATS}")
    targets = _as_targets(tracks)
    if suffix == ".txt":
        texts = {
            _target_txt_path(path, target_id): _box_lines(rows.reported_boxes_xywh)
            for target_id, rows in targets.items()
        }
    else:
        texts = {path: (_csv_text if suffix == ".csv" else _json_text)(targets)}
    if not overwrite:
        for output in texts:
            if output.exists():
                raise OutputExistsError(output, "boxes file")
    return [write_text(p, text, overwrite=True, what="boxes file") for p, text in texts.items()]


def _rows_from_records(records) -> Dict[Optional[str], TrackRows]:
    """Group ``(frame, target or None, box, score, present or None, confidence)`` records."""
    grouped: Dict[Optional[str], list] = {}
    for record in records:
        grouped.setdefault(record[1], []).append(record)
    targets = {}
    for target_id, rows in grouped.items():
        boxes = np.asarray([r[2] for r in rows], dtype=np.float64).reshape(-1, 4)
        present = [r[4] for r in rows]
        targets[target_id] = TrackRows(
            boxes,
            [r[3] for r in rows],
            [r[0] for r in rows],
            np.all(np.isfinite(boxes), axis=1) if None in present else present,
            [r[5] for r in rows],
        )
    return targets


def _read_csv_records(path: Path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        base = ["frame"] + _BOX_COLUMNS + ["score"]
        if set(columns) - {"target"} - set(_DECISION_COLUMNS) != set(base) or (
            set(_DECISION_COLUMNS) & set(columns) not in (set(), set(_DECISION_COLUMNS))
        ):
            raise ValueError(
                f"{path}: expected a header frame,[target,]x,y,w,h,score,present,confidence"
            )
        records = []
        for r in reader:
            decision = "present" in r
            records.append(
                (
                    int(r["frame"]),
                    r["target"] if "target" in r else None,
                    [float(r[k]) for k in _BOX_COLUMNS],
                    float(r["score"]),
                    r["present"].strip().lower() in ("1", "true") if decision else None,
                    float(r["confidence"]) if decision else np.nan,
                )
            )
    return records


def _read_json_records(path: Path):
    def number(value):
        return np.nan if value is None else float(value)

    return [
        (
            int(r["frame"]),
            str(r["target"]) if "target" in r else None,
            [number(v) for v in r["box_xywh"]],
            number(r["score"]),
            bool(r["present"]) if "present" in r else None,
            number(r.get("confidence")),
        )
        for r in json.loads(path.read_text())["frames"]
    ]


def read_boxes_file(path: PathLike) -> Dict[Optional[str], TrackRows]:
    """The rows of a boxes file of ``write_boxes_file``: ``{None: TrackRows}`` for one target,
    ``{target id (str): TrackRows}`` for several (read ``.txt`` files one by one).

    A ``.txt`` file has no frame column, scores or confidences: frames are 0..N-1, scores and
    confidences NaN, and ``present`` is False on its NaN rows. Files written before the
    ``present`` / ``confidence`` columns existed read the same way (confidences NaN, present
    where the box is finite).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        boxes = read_box_file(path)
        nan = np.full(len(boxes), np.nan)
        present = np.all(np.isfinite(boxes), axis=1)
        return {None: TrackRows(boxes, nan, None, present, nan)}
    if suffix == ".csv":
        records = _read_csv_records(path)
    elif suffix == ".json":
        records = _read_json_records(path)
    else:
        raise ValueError(f"boxes file '{path}': extension must be one of {BOXES_FILE_FORMATS}")
    if not records:
        raise ValueError(f"{path}: no rows")
    return _rows_from_records(records)
