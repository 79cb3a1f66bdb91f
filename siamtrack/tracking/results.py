"""Result types of the online trackers (no torch).

Boxes are top-left ``xywh`` in continuous image coordinates (``docs/conventions.md#boxes``),
in the same convention as the initial box the tracker was given.
"""

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Dict, Hashable, List, Mapping, Union

import numpy as np

from ..utils.timing import updates_per_second

__all__ = ["TrackResult", "MultiTrackResult", "TrackSequenceResult", "INIT_FRAME_SCORE"]

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
        lost: the score has stayed below the tracker's ``lost_score`` for ``lost_frames``
            frames in a row (the target is still searched for).
    """

    box_xywh: np.ndarray
    score: float
    frame_index: int
    lost: bool = False

    def __post_init__(self):
        box = np.array(self.box_xywh, dtype=np.float64).reshape(-1)
        if box.shape != (4,):
            raise ValueError(f"box_xywh must hold 4 numbers, got shape {box.shape}")
        box.setflags(write=False)
        object.__setattr__(self, "box_xywh", box)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "frame_index", int(self.frame_index))
        object.__setattr__(self, "lost", bool(self.lost))

    def as_pysot_dict(self) -> Dict[str, Union[List[float], float]]:
        """The dict pysot's ``tracker.track(img)`` returns: ``{'bbox': [x, y, w, h], 'best_score'}``."""
        return {"bbox": self.box_xywh.tolist(), "best_score": self.score}

    def unreadable(self, frame_index: int) -> "TrackResult":
        """This box again for frame ``frame_index``, which could not be read (NaN score)."""
        return replace(self, score=float("nan"), frame_index=frame_index)

    @staticmethod
    def collect(records) -> "TrackSequenceResult":
        """The ``TrackSequenceResult`` of a run's ``FrameRecord`` list (``loop.py``)."""
        return TrackSequenceResult.from_records(records)


@dataclass(frozen=True)
class MultiTrackResult:
    """The answer of a multi-target tracker for one frame.

    Attributes:
        targets: ``{target id: TrackResult}`` of every tracked target, in the order they were
            added.
        frame_index: as ``TrackResult.frame_index``.
    """

    targets: Mapping[Hashable, TrackResult]
    frame_index: int

    def __post_init__(self):
        object.__setattr__(self, "targets", OrderedDict(self.targets))
        object.__setattr__(self, "frame_index", int(self.frame_index))

    def items(self):
        return self.targets.items()

    def __getitem__(self, target_id) -> TrackResult:
        return self.targets[target_id]

    def __len__(self) -> int:
        return len(self.targets)

    def unreadable(self, frame_index: int) -> "MultiTrackResult":
        """These boxes again for frame ``frame_index``, which could not be read (NaN scores)."""
        targets = {i: r.unreadable(frame_index) for i, r in self.targets.items()}
        return MultiTrackResult(targets, frame_index)

    @staticmethod
    def collect(records) -> Dict[Hashable, "TrackSequenceResult"]:
        """One ``TrackSequenceResult`` per target of the first record, over the frames the
        target was tracked in (its rows from the frame it was added)."""
        sequences = {}
        for target_id in records[0].result.targets:
            rows = [r for r in records if target_id in r.result.targets]
            sequences[target_id] = TrackSequenceResult(
                np.stack([r.result[target_id].box_xywh for r in rows]),
                np.asarray([r.result[target_id].score for r in rows], dtype=np.float64),
                np.asarray([r.seconds for r in rows], dtype=np.float64),
            )
        return sequences


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
        """Tracker updates per second (``updates_per_second``)."""
        return updates_per_second(self.times)

    @classmethod
    def from_records(cls, records) -> "TrackSequenceResult":
        """From the ``FrameRecord`` list of a single-target run (``loop.py``)."""
        return cls(
            np.stack([r.result.box_xywh for r in records]),
            np.asarray([r.result.score for r in records], dtype=np.float64),
            np.asarray([r.seconds for r in records], dtype=np.float64),
        )
