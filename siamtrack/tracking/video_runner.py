"""Track one target through a video / image list / camera and write the outputs.

This is the library side of ``tools/track_video.py``. Outputs:

- an annotated video (box, frame index, score), written through ``SafeVideoWriter``;
- a boxes file (``.txt`` OTB lines, ``.csv`` or ``.json`` with frame index and score), one row
  per frame including frame 0 (the initial box, score 1.0).

Corrupt frames are skipped with a warning and keep their row: the box of the previous frame is
repeated with a NaN score (the video repeats the previous frame, labelled "unreadable"). If the
run stops early (error or Ctrl-C), both outputs are closed properly and hold the frames done so
far; existing files are never replaced unless ``overwrite``.
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np
from tqdm import tqdm

from ..evaluation.result_io import BOXES_FILE_FORMATS, write_boxes_file
from ..utils.boxes import check_box_in_image
from ..utils.video import FrameSource, SafeVideoWriter, check_output_path
from ..utils.visualization import draw_track_result
from .results import INIT_FRAME_SCORE, TrackSequenceResult

__all__ = ["track_video", "VideoTrackingSummary"]

logger = logging.getLogger(__name__)


@dataclass
class VideoTrackingSummary:
    """What ``track_video`` did.

    Attributes:
        result: boxes (N, 4), scores (N,) and times (N,) of every frame read (row k = frame k).
        bad_frames: indices of frames that could not be decoded (their rows repeat a box).
        output_video / boxes_file: files written (None if not requested).
        completed: False if the run stopped early (the outputs then hold the frames done).
    """

    result: TrackSequenceResult
    bad_frames: List[int] = field(default_factory=list)
    output_video: Optional[Path] = None
    boxes_file: Optional[Path] = None
    completed: bool = True

    @property
    def fps(self) -> float:
        """Tracking speed over frames 1..N-1 (``update`` calls only)."""
        return self.result.fps


def track_video(
    tracker,
    source: FrameSource,
    init_box_xywh=None,
    *,
    select_box: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    output_video=None,
    boxes_file=None,
    overwrite: bool = False,
    show_progress: bool = True,
) -> VideoTrackingSummary:
    """Run ``tracker`` (``init`` / ``update``) over ``source`` and write the outputs.

    Args:
        tracker: a ``SiamTracker`` (or anything with its ``init`` / ``update``).
        source: an open ``FrameSource`` (``open_frame_source``); not closed here.
        init_box_xywh: ``[x, y, w, h]`` in the first frame; if None, ``select_box(frame)`` is
            asked for it (e.g. an interactive ROI selector).
        output_video: annotated video path (.mp4/.avi/.mkv) or None.
        boxes_file: boxes table path (.txt/.csv/.json) or None.
        overwrite: replace existing output files.
        show_progress: tqdm bar (total = frame count when known).
    """
    if output_video is not None:
        check_output_path(output_video, overwrite, "output video")
    if boxes_file is not None:
        if Path(boxes_file).suffix.lower() not in BOXES_FILE_FORMATS:
            raise ValueError(
                f"boxes file '{boxes_file}': extension must be one of {BOXES_FILE_FORMATS}"
            )
        check_output_path(boxes_file, overwrite, "boxes file")
    frames = iter(source)
    first = next(frames, None)
    if first is None:
        raise ValueError(f"input '{source.name}' has no frames")
    if first[1] is None:
        raise ValueError(f"the first frame of '{source.name}' cannot be decoded")
    first_frame = first[1]
    if init_box_xywh is None:
        if select_box is None:
            raise ValueError("no initial box given (init_box_xywh) and no way to select one")
        init_box_xywh = select_box(first_frame)
    init_box = np.asarray(init_box_xywh, dtype=np.float64).reshape(-1)
    height, width = first_frame.shape[:2]
    check_box_in_image(
        init_box, first_frame.shape, name=f"init box for '{source.name}' ({width}x{height})"
    )

    boxes, scores, times = [], [], []
    writer = None
    completed = False
    progress = tqdm(
        total=source.num_frames, desc="tracking", unit="frame", disable=not show_progress
    )
    try:
        start = time.perf_counter()
        tracker.init(first_frame, init_box)
        times.append(time.perf_counter() - start)
        boxes.append(init_box)
        scores.append(INIT_FRAME_SCORE)
        if output_video is not None:
            writer = SafeVideoWriter(output_video, source.fps, (width, height), overwrite=overwrite)
            writer.write(draw_track_result(first_frame, init_box, 0, INIT_FRAME_SCORE))
        progress.update(1)
        last_frame = first_frame
        for index, frame in frames:
            if frame is None:  # corrupt frame: keep the row, repeat the previous box
                boxes.append(boxes[-1])
                scores.append(float("nan"))
                times.append(0.0)
                annotated = draw_track_result(last_frame, boxes[-1], index, note="unreadable")
            else:
                start = time.perf_counter()
                result = tracker.update(frame)
                times.append(time.perf_counter() - start)
                boxes.append(result.box_xywh)
                scores.append(result.score)
                annotated = draw_track_result(frame, result.box_xywh, index, result.score)
                last_frame = frame
            if writer is not None:
                writer.write(annotated)
            progress.update(1)
        completed = True
    except KeyboardInterrupt:
        logger.warning(f"interrupted after {len(boxes)} frames; writing what was tracked")
    finally:
        progress.close()
        video_path = writer.close(keep=True) if writer is not None else None
        result = TrackSequenceResult(np.stack(boxes) if boxes else np.zeros((0, 4)), scores, times)
        boxes_path = None
        if boxes_file is not None and len(result):
            boxes_path = write_boxes_file(
                boxes_file, result.boxes_xywh, result.scores, overwrite=overwrite
            )
    return VideoTrackingSummary(
        result=result,
        bad_frames=list(source.bad_frames),
        output_video=video_path,
        boxes_file=boxes_path,
        completed=completed,
    )
