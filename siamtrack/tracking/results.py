"""Result types of the online trackers (no torch).

Boxes are top-left ``xywh`` in continuous image coordinates (``docs/conventions.md#boxes``),
in the same convention as the initial box the tracker was given.
"""

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Dict, Hashable, List, Mapping, Optional, Union

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
            anchor, in [0, 1], as the network gives it.
        frame_index: 0 for the frame given to ``init``, then 1, 2, ... per ``update`` call.
        present: the tracker reports the target in this frame (``confidence`` reached the
            tracker's presence threshold). When False, ``box_xywh`` is where the target was
            last seen (or the tracker's best guess) and result files write no box.
        confidence: probability in [0, 1] that ``box_xywh`` is on the target (the presence
            model, ``docs/longterm.md``); 1.0 for the given initial box.
    """

    box_xywh: np.ndarray
    score: float
    frame_index: int
    present: bool = True
    confidence: float = 1.0

    def __post_init__(self):
        box = np.array(self.box_xywh, dtype=np.float64).reshape(-1)
        if box.shape != (4,):
            raise ValueError(f"box_xywh must hold 4 numbers, got shape {box.shape}")
        box.setflags(write=False)
        object.__setattr__(self, "box_xywh", box)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "frame_index", int(self.frame_index))
        object.__setattr__(self, "present", bool(self.present))
        object.__setattr__(self, "confidence", float(self.confidence))

    def as_pysot_dict(self) -> Dict[str, Union[List[float], float]]:
        """The dict pysot's ``tracker.track(img)`` returns: ``{'bbox': [x, y, w, h], 'best_score'}``."""
        return {"bbox": self.box_xywh.tolist(), "best_score": self.score}

    def unreadable(self, frame_index: int) -> "TrackResult":
        """This box again for frame ``frame_index``, which could not be read (NaN score and
        confidence; the presence decision is kept)."""
        return replace(self, score=float("nan"), confidence=float("nan"), frame_index=frame_index)

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
            sequences[target_id] = TrackSequenceResult.from_results(
                [r.result[target_id] for r in rows], [r.seconds for r in rows]
            )
        return sequences


@dataclass(frozen=True)
class TrackSequenceResult:
    """Boxes, scores and times of a whole sequence (frame 0 = the initial box, as in got10k).

    Attributes:
        boxes_xywh: float64 array (N, 4), one ``[x, y, w, h]`` per frame (the tracker's box,
            also on frames it reports the target absent; ``reported_boxes_xywh`` has NaN rows
            there, as result files are written).
        scores: float64 array (N,), raw score per frame; frame 0 holds ``INIT_FRAME_SCORE``
            (1.0) and frames that could not be read hold NaN.
        times: float64 array (N,), seconds spent in ``init`` (frame 0) / ``update`` per frame.
        confidences: float64 array (N,), presence confidence per frame (``TrackResult``);
            default all 1.0 (a tracker that reports none).
        present: bool array (N,), the tracker reports the target; default all True.
    """

    boxes_xywh: np.ndarray
    scores: np.ndarray
    times: np.ndarray
    confidences: Optional[np.ndarray] = None
    present: Optional[np.ndarray] = None

    def __post_init__(self):
        boxes = np.array(self.boxes_xywh, dtype=np.float64).reshape(-1, 4)
        n = len(boxes)
        scores = np.array(self.scores, dtype=np.float64).reshape(-1)
        times = np.array(self.times, dtype=np.float64).reshape(-1)
        confidences = np.ones(n) if self.confidences is None else self.confidences
        confidences = np.array(confidences, dtype=np.float64).reshape(-1)
        present = np.ones(n, bool) if self.present is None else self.present
        present = np.array(present, dtype=bool).reshape(-1)
        if not n == len(scores) == len(times) == len(confidences) == len(present):
            raise ValueError(
                f"{n} boxes, {len(scores)} scores, {len(times)} times, {len(confidences)} "
                f"confidences and {len(present)} presence flags differ"
            )
        for name, array in (
            ("boxes_xywh", boxes),
            ("scores", scores),
            ("times", times),
            ("confidences", confidences),
            ("present", present),
        ):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def reported_boxes_xywh(self) -> np.ndarray:
        """``boxes_xywh`` with ``nan`` rows on frames reported absent (the VOT-LT / UAV123
        convention result files follow)."""
        boxes = self.boxes_xywh.copy()
        boxes[~self.present] = np.nan
        return boxes

    def __len__(self) -> int:
        return len(self.boxes_xywh)

    @property
    def fps(self) -> float:
        """Tracker updates per second (``updates_per_second``)."""
        return updates_per_second(self.times)

    @classmethod
    def from_records(cls, records) -> "TrackSequenceResult":
        """From the ``FrameRecord`` list of a single-target run (``loop.py``)."""
        return cls.from_results([r.result for r in records], [r.seconds for r in records])

    @classmethod
    def from_results(cls, results, seconds) -> "TrackSequenceResult":
        """From one ``TrackResult`` and the seconds spent per frame."""
        return cls(
            np.stack([r.box_xywh for r in results]),
            np.asarray([r.score for r in results], dtype=np.float64),
            np.asarray(seconds, dtype=np.float64),
            np.asarray([r.confidence for r in results], dtype=np.float64),
            np.asarray([r.present for r in results], dtype=bool),
        )
