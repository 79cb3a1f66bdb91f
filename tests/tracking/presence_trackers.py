"""Model-free trackers that make presence decisions, for the output writers' tests.

They move the initial box 1 px right per frame and report the target absent on chosen frames
(keeping the box, as ``TrackResult`` does), with confidence 0.2 there and 0.9 elsewhere.
"""

from types import SimpleNamespace

import numpy as np

from siamtrack.tracking.results import MultiTrackResult, TrackResult

ABSENT_CONFIDENCE = 0.2
PRESENT_CONFIDENCE = 0.9


def _result(box_xywh, frame_index, absent_frames):
    if frame_index == 0:
        return TrackResult(box_xywh, 1.0, 0)
    present = frame_index not in absent_frames
    box = np.asarray(box_xywh, dtype=np.float64) + [frame_index, 0, 0, 0]
    confidence = PRESENT_CONFIDENCE if present else ABSENT_CONFIDENCE
    return TrackResult(box, 0.5, frame_index, present=present, confidence=confidence)


class PresenceTracker:
    """One target, reported absent on ``absent_frames``."""

    network = SimpleNamespace(description="a presence stub")

    def __init__(self, cfg=None, device=None, absent_frames=(2, 3)):
        self.absent_frames = set(absent_frames)

    def init(self, image_bgr, box_xywh):
        self.box, self.frame_index = np.asarray(box_xywh, dtype=np.float64), 0
        return _result(self.box, 0, self.absent_frames)

    def update(self, image_bgr):
        self.frame_index += 1
        return _result(self.box, self.frame_index, self.absent_frames)


class MultiPresenceTracker:
    """Targets 0, 1, ...; target k is reported absent on ``absent_frames[k]``."""

    network = SimpleNamespace(description="a multi-target presence stub")

    def __init__(self, cfg=None, device=None, absent_frames=((2,), (1, 2, 3))):
        self.absent_frames = [set(frames) for frames in absent_frames]

    def _results(self):
        return MultiTrackResult(
            {
                k: _result(box, self.frame_index, self.absent_frames[k])
                for k, box in enumerate(self.boxes)
            },
            self.frame_index,
        )

    def init(self, image_bgr, boxes_xywh):
        self.boxes, self.frame_index = [np.asarray(b, np.float64) for b in boxes_xywh], 0
        return self._results()

    def update(self, image_bgr):
        self.frame_index += 1
        return self._results()
