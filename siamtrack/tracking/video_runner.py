"""Track through a video / image list / camera and write the outputs: a thin loop over writers.

``track_video`` drives the one tracking loop (``loop.iterate_tracking``) over a
``FrameSource`` and hands every ``FrameRecord`` to its writers (the ``ResultWriter`` contract of
``siamtrack.modeling.contracts``: ``write(record)``, ``close(completed)``):

- ``AnnotatedVideoWriter``: the frames with the box, frame index, score and confidence drawn
  (several targets: each in its own colour with its id and confidence); a target reported
  absent keeps its last box, dashed and grey, labelled "target lost". Through
  ``SafeVideoWriter`` (an unreadable frame repeats the previous frame, labelled "unreadable");
- ``BoxesFileWriter``: one row per frame including frame 0 (the initial box, score 1.0):
  ``.txt`` OTB lines (``nan`` rows on frames reported absent), ``.csv`` / ``.json`` with frame
  index, score, presence and confidence; several targets: a ``target`` column, ``.txt`` one
  file per target (``siamtrack.io.result_files.write_boxes_file``);
- ``ConfidencePlotWriter``: a PNG of every target's presence confidence and raw score over the
  frames, the presence threshold and the frames reported absent (``confidence_plot.py``).

The tracker may be a ``SiamTracker`` (one box) or a ``MultiTargetTracker`` (several).

Unreadable frames follow the loop's rule (the previous box again, NaN score). If the run stops
early (an error or Ctrl-C), every writer is closed properly and holds the frames done so far;
existing files are never replaced unless ``overwrite``.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Hashable, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from ..errors import BadInputError
from ..io.files import check_output_path
from ..io.result_files import BOXES_FILE_FORMATS, TrackRows, write_boxes_file
from ..io.video import FrameSource, SafeVideoWriter
from ..utils.visualization import draw_targets, draw_track_result
from .confidence_plot import plot_confidence
from .loop import FrameRecord, iterate_tracking
from .results import MultiTrackResult, TrackSequenceResult

__all__ = [
    "AnnotatedVideoWriter",
    "BoxesFileWriter",
    "ConfidencePlotWriter",
    "VideoTrackingSummary",
    "track_video",
]

logger = logging.getLogger(__name__)


class AnnotatedVideoWriter:
    """Writes each frame with the tracker's result drawn on it (``SafeVideoWriter``)."""

    what = "annotated video"

    def __init__(self, path, fps: float, overwrite: bool = False):
        self.path = check_output_path(path, overwrite, "output video")
        self.fps = fps
        self.overwrite = overwrite
        self._writer: Optional[SafeVideoWriter] = None
        self._last_frame: Optional[np.ndarray] = None

    def write(self, record: FrameRecord) -> None:
        if record.readable:
            self._last_frame = record.image
        result = record.result
        note = "" if record.readable else "unreadable"
        if isinstance(result, MultiTrackResult):
            targets = [(i, r.box_xywh, r.confidence, r.present) for i, r in result.items()]
            image = draw_targets(self._last_frame, targets, record.index, note=note)
        else:
            image = draw_track_result(
                self._last_frame,
                result.box_xywh,
                record.index,
                result.score,
                note=note,
                present=result.present,
                confidence=result.confidence,
            )
        if self._writer is None:
            height, width = image.shape[:2]
            self._writer = SafeVideoWriter(self.path, self.fps, (width, height), self.overwrite)
        self._writer.write(image)

    def close(self, completed: bool) -> Optional[Path]:
        return self._writer.close(keep=True) if self._writer is not None else None


def _rows_by_target(records: List[FrameRecord]) -> Dict[Optional[Hashable], TrackRows]:
    """``{None: rows}`` of a one-target run; ``{target id: rows}`` of a multi-target one, each
    target from the frame it was added."""
    if not isinstance(records[0].result, MultiTrackResult):
        track = TrackSequenceResult.from_records(records)
        return {None: TrackRows.from_track(track, [r.index for r in records])}
    by_target: Dict[Hashable, List[FrameRecord]] = {}
    for record in records:
        for target_id in record.result.targets:
            by_target.setdefault(target_id, []).append(record)
    return {
        target_id: TrackRows.from_track(
            TrackSequenceResult.from_results(
                [r.result[target_id] for r in kept], [r.seconds for r in kept]
            ),
            [r.index for r in kept],
        )
        for target_id, kept in by_target.items()
    }


class _RowsWriter:
    """Keeps every frame's results (not the frame) and writes a file of them when closed.

    Subclasses set ``what`` (the output, in messages) and ``suffixes`` (allowed extensions)."""

    what: str
    suffixes: tuple

    def __init__(self, path, overwrite: bool = False):
        if Path(path).suffix.lower() not in self.suffixes:
            raise BadInputError(f"{self.what} '{path}': extension must be one of {self.suffixes}")
        self.path = check_output_path(path, overwrite, self.what)
        self.overwrite = overwrite
        self._records: List[FrameRecord] = []

    def write(self, record: FrameRecord) -> None:
        self._records.append(record.without_image())


class BoxesFileWriter(_RowsWriter):
    """The boxes file of the run (``write_boxes_file``)."""

    what, suffixes = "boxes file", BOXES_FILE_FORMATS

    def close(self, completed: bool) -> Optional[List[Path]]:
        """The files written (one, or one per target for ``.txt``), or None."""
        if not self._records:
            return None
        return write_boxes_file(self.path, _rows_by_target(self._records), overwrite=self.overwrite)


class ConfidencePlotWriter(_RowsWriter):
    """The run's presence confidence over its frames as a PNG (``confidence_plot.py``)."""

    what, suffixes = "confidence plot", (".png",)

    def __init__(self, path, presence_threshold: Optional[float] = None, overwrite: bool = False):
        """``presence_threshold``: drawn as a dashed line when given (it may be set after
        construction, once the tracker is built)."""
        super().__init__(path, overwrite)
        self.presence_threshold = presence_threshold

    def close(self, completed: bool) -> Optional[Path]:
        if not self._records:
            return None
        targets = _rows_by_target(self._records)
        return plot_confidence(targets, self.presence_threshold, self.path, self.overwrite)


@dataclass
class VideoTrackingSummary:
    """What ``track_video`` did.

    Attributes:
        result: boxes (N, 4), scores, times, confidences and presence (N,) of every frame read
            (row k = frame k); several targets: ``{target id: TrackSequenceResult}``.
        bad_frames: indices of frames that could not be decoded (their rows repeat a box).
        outputs: files written by the writers, in writer order (None where nothing was).
        completed: False if the run stopped early (the outputs then hold the frames done).
    """

    result: TrackSequenceResult
    bad_frames: List[int] = field(default_factory=list)
    outputs: List[Optional[Path]] = field(default_factory=list)
    completed: bool = True

    @property
    def fps(self) -> float:
        """Tracking speed over frames 1..N-1 (``update`` calls: one per frame for all targets)."""
        first = (
            self.result
            if isinstance(self.result, TrackSequenceResult)
            else next(iter(self.result.values()))
        )
        return first.fps

    @property
    def frames_absent(self) -> Dict[Hashable, int]:
        """Number of frames the target was reported absent: ``{None: n}`` for one target,
        ``{target id: n}`` for several."""
        results = self.result if isinstance(self.result, dict) else {None: self.result}
        return {target_id: int(np.sum(~r.present)) for target_id, r in results.items()}


def track_video(
    tracker,
    source: FrameSource,
    init_box_xywh=None,
    *,
    select_box: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    writers: Sequence = (),
    show_progress: bool = True,
) -> VideoTrackingSummary:
    """Run ``tracker`` over ``source`` (the tracking loop) and feed every frame to ``writers``.

    Args:
        tracker: a ``SiamTracker`` (or anything the loop drives, ``loop.py``).
        source: an open ``FrameSource`` (``siamtrack.io.open_frame_source``); not closed here.
        init_box_xywh: ``[x, y, w, h]`` in the first frame (a ``MultiTargetTracker``: a list of
            boxes, targets 0, 1, ...); if None, ``select_box(frame)`` is asked for one (e.g. an
            interactive ROI selector).
        writers: objects with ``write(FrameRecord)`` and ``close(completed) -> path``
            (``AnnotatedVideoWriter``, ``BoxesFileWriter``); closed whatever happens.
        show_progress: tqdm bar (total = frame count when known).
    """
    frames = iter(source)
    first = next(frames, None)
    if first is None:
        raise BadInputError(f"input '{source.name}' has no frames")
    if first[1] is None:
        raise BadInputError(f"the first frame of '{source.name}' cannot be decoded")
    first_frame = first[1]
    if init_box_xywh is None:
        if select_box is None:
            raise ValueError("no initial box given (init_box_xywh) and no way to select one")
        init_box_xywh = select_box(first_frame)
    # the tracker's init checks the boxes against the first frame (before any writer writes)
    boxes = np.asarray(init_box_xywh, dtype=np.float64).reshape(-1, 4)
    init = boxes[0] if np.ndim(init_box_xywh) == 1 else list(boxes)

    def all_frames():
        yield first_frame
        for _, frame in frames:
            yield frame

    records: List[FrameRecord] = []
    completed = False
    progress = tqdm(
        total=source.num_frames, desc="tracking", unit="frame", disable=not show_progress
    )
    try:
        for record in iterate_tracking(tracker, all_frames(), init):
            records.append(record.without_image())
            for writer in writers:
                writer.write(record)
            progress.update(1)
        completed = True
    except KeyboardInterrupt:
        logger.warning(f"interrupted after {len(records)} frames; writing what was tracked")
    finally:
        progress.close()
        outputs = [writer.close(completed) for writer in writers]
    result = (
        type(records[0].result).collect(records)
        if records
        else TrackSequenceResult(np.zeros((0, 4)), [], [])
    )
    return VideoTrackingSummary(result, list(source.bad_frames), outputs, completed)
