"""Result types of the online trackers and the per-sequence loop that fills them (no torch).

Boxes are top-left ``xywh`` in continuous image coordinates (see ``siamtrack/utils/boxes.py``),
in the same convention as the initial box the tracker was given.
"""

import os
import time
from dataclasses import dataclass
from typing import Dict, Iterable, List, Union

import numpy as np

from ..utils.video import read_image_bgr

__all__ = ["TrackResult", "TrackSequenceResult", "INIT_FRAME_SCORE", "track_frames"]

# Score reported for frame 0 of a sequence: the initial box is given, not predicted.
INIT_FRAME_SCORE = 1.0


@dataclass(frozen=True)
class TrackResult:
    """The tracker's answer for one frame.

    Attributes:
        box_xywh: float64 array (4,), ``[x, y, w, h]`` of the target in the frame (read-only).
        score: the raw (not penalised, not thresholded) foreground probability of the selected
            anchor, in [0, 1]. Deciding whether the target is lost is the caller's call.
        frame_index: 0 for the frame given to ``init``, then 1, 2, ... per ``update`` call.
    """

    box_xywh: np.ndarray
    score: float
    frame_index: int

    def __post_init__(self):
        box = np.array(self.box_xywh, dtype=np.float64).reshape(-1)
        if box.shape != (4,):
            raise ValueError(f"box_xywh must hold 4 numbers, got shape {box.shape}")
        box.setflags(write=False)
        object.__setattr__(self, "box_xywh", box)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "frame_index", int(self.frame_index))

    def as_pysot_dict(self) -> Dict[str, Union[List[float], float]]:
        """The dict pysot's ``tracker.track(img)`` returns: ``{'bbox': [x, y, w, h], 'best_score'}``."""
        return {"bbox": self.box_xywh.tolist(), "best_score": self.score}


@dataclass(frozen=True)
class TrackSequenceResult:
    """Boxes, scores and times of a whole sequence (frame 0 = the initial box, as in got10k).

    Attributes:
        boxes_xywh: float64 array (N, 4), one ``[x, y, w, h]`` per frame.
        scores: float64 array (N,), raw score per frame; frame 0 holds ``INIT_FRAME_SCORE``
            (1.0) and frames that could not be read hold NaN.
        times: float64 array (N,), seconds spent in ``init`` (frame 0) / ``update`` per frame.
    """

    boxes_xywh: np.ndarray
    scores: np.ndarray
    times: np.ndarray

    def __post_init__(self):
        boxes = np.array(self.boxes_xywh, dtype=np.float64).reshape(-1, 4)
        scores = np.array(self.scores, dtype=np.float64).reshape(-1)
        times = np.array(self.times, dtype=np.float64).reshape(-1)
        if not len(boxes) == len(scores) == len(times):
            raise ValueError(
                f"{len(boxes)} boxes, {len(scores)} scores and {len(times)} times differ"
            )
        for name, array in (("boxes_xywh", boxes), ("scores", scores), ("times", times)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.boxes_xywh)

    @property
    def fps(self) -> float:
        """Frames per second over the tracked frames (frame 0's ``init`` excluded)."""
        total = float(np.sum(self.times[1:]))
        return (len(self.times) - 1) / total if total > 0 else float("nan")


def track_frames(tracker, frames: Iterable, init_box_xywh) -> TrackSequenceResult:
    """Run a tracker with ``init(image, box)`` / ``update(image) -> TrackResult`` over frames.

    Args:
        tracker: e.g. ``SiamTracker`` or an OpenCV baseline.
        frames: BGR uint8 images and/or image file paths, in order.
        init_box_xywh: ``[x, y, w, h]`` of the target in the first frame.

    Returns:
        TrackSequenceResult; row 0 is ``init_box_xywh`` (score ``INIT_FRAME_SCORE``), row k
        frame k; times are the seconds spent in ``init`` / ``update``.
    """
    boxes, scores, times = [], [], []
    for index, frame in enumerate(frames):
        image = read_image_bgr(frame) if isinstance(frame, (str, os.PathLike)) else frame
        start = time.perf_counter()
        if index == 0:
            tracker.init(image, init_box_xywh)
            box, score = np.asarray(init_box_xywh, dtype=np.float64), INIT_FRAME_SCORE
        else:
            result = tracker.update(image)
            box, score = result.box_xywh, result.score
        times.append(time.perf_counter() - start)
        boxes.append(box)
        scores.append(score)
    if not boxes:
        raise ValueError("track() got no frames")
    return TrackSequenceResult(np.stack(boxes), np.asarray(scores), np.asarray(times))
