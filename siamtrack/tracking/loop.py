"""The one per-frame tracking loop (``SiamTracker.track``, ``track_video``, the evaluation runner
and the benchmarks all drive it).

A tracker here is anything with ``init(image_bgr, init) -> result`` and
``update(image_bgr) -> result`` whose results have ``box_xywh``, ``score`` and
``unreadable(frame_index)`` (``TrackResult``; several targets: ``MultiTrackResult``).

**Unreadable frames** (``docs/conventions.md#tracker-state-and-frames``): a frame that is None
(a frame source could not decode it) or an image path that cannot be read is not given to
``update``; its record repeats the previous result with NaN scores (``result.unreadable``),
takes 0 s and is logged, so record ``k`` always belongs to frame ``k``. The first frame must be
readable: it holds the initial box.
"""

import logging
import os
import time
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator, Optional

import numpy as np

from ..errors import BadInputError
from ..io.images import UnreadableImageError, read_image_bgr

__all__ = ["FrameRecord", "iterate_tracking", "track_frames"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameRecord:
    """One frame of a tracking run.

    Attributes:
        index: frame number (0 = the ``init`` frame).
        image: the BGR frame; None when it could not be read, or in a record kept after the
            frame was used (``without_image``).
        result: the tracker's result for this frame (``init``'s for frame 0).
        seconds: time spent in ``init`` / ``update`` (0 for unreadable frames).
        readable: False for a frame that could not be read.
    """

    index: int
    image: Optional[np.ndarray]
    result: Any
    seconds: float
    readable: bool = True

    def without_image(self) -> "FrameRecord":
        """The record without its frame: what a run keeps of every frame once it is drawn or
        written (the decoded frames of a long video would not fit in memory)."""
        return replace(self, image=None)


def _load(frame, index: int) -> Optional[np.ndarray]:
    if frame is None or not isinstance(frame, (str, os.PathLike)):
        return frame
    try:
        return read_image_bgr(frame)
    except UnreadableImageError as error:
        if index == 0:
            raise
        logger.warning(f"frame {index} skipped ({error}); its row repeats the last box")
        return None


def iterate_tracking(tracker, frames: Iterable, init) -> Iterator[FrameRecord]:
    """Track through ``frames``, yielding one ``FrameRecord`` per frame as it is done.

    Args:
        tracker: see the module docstring.
        frames: BGR uint8 images, image file paths and/or None (unreadable), in order.
        init: what ``tracker.init`` takes besides the image (``[x, y, w, h]``).
    """
    previous = None
    for index, frame in enumerate(frames):
        image = _load(frame, index)
        if index == 0 and image is None:
            raise BadInputError("the first frame cannot be read: it must hold the initial box")
        if image is None:
            previous = previous.unreadable(index)
            yield FrameRecord(index, None, previous, 0.0, readable=False)
            continue
        start = time.perf_counter()
        previous = tracker.init(image, init) if index == 0 else tracker.update(image)
        yield FrameRecord(index, image, previous, time.perf_counter() - start)


def track_frames(tracker, frames: Iterable, init):
    """Run ``iterate_tracking`` to the end and collect boxes, scores and times.

    Returns:
        ``TrackSequenceResult`` (one target; several: ``{target id: TrackSequenceResult}``,
        ``MultiTrackResult.collect``); row 0 is the initial box (score ``INIT_FRAME_SCORE``),
        row k frame k.
    """
    records = [record.without_image() for record in iterate_tracking(tracker, frames, init)]
    if not records:
        raise BadInputError("track() got no frames")
    return type(records[0].result).collect(records)
