"""``SingleTargetTracker``: the single-target API (``init(image, box)``,
``update(image) -> TrackResult``, ``track(frames, box)``) over a ``MultiTargetEngine`` holding
one target (numpy + OpenCV; no torch).

``SiamTracker`` (``tracker.py``) is this class built from a config or a model (torch); the
torch-free tracker (``runtime_record.py``) builds it from a runtime record. Both wrap the same
engine class, so they track identically.
"""

import os
from typing import Iterable, Union

import numpy as np

from .engine import MultiTargetEngine
from .loop import track_frames
from .results import TrackResult, TrackSequenceResult

__all__ = ["OneTargetMessages", "OneTargetEngine", "SingleTargetTracker"]

ImageOrPath = Union[np.ndarray, str, os.PathLike]


class OneTargetMessages:
    """Mixin for an engine that tracks one target: messages name no target."""

    @staticmethod
    def _of(target_id) -> str:
        return ""  # the one target needs no name in messages


class OneTargetEngine(OneTargetMessages, MultiTargetEngine):
    """A ``MultiTargetEngine`` for one target (what ``SingleTargetTracker`` wraps)."""


class SingleTargetTracker:
    """The single-object tracker's API over an engine with one target.

    Args:
        engine: a ``MultiTargetEngine`` (``OneTargetEngine``: messages name no target); this
            tracker owns it.

    Example::

        tracker.init(first_frame_bgr, [x, y, w, h])
        for frame in frames:
            result = tracker.update(frame)   # TrackResult(box_xywh, score, ..., present, confidence)
    """

    _TARGET = 0

    def __init__(self, engine: MultiTargetEngine):
        self._tracker = engine

    @property
    def engine(self) -> MultiTargetEngine:
        """The engine that tracks the one target (``MultiTargetTracker``'s API)."""
        return self._tracker

    # ------------------------------------------------------------------ properties
    @property
    def network(self):
        """The network backend (``backends.py``)."""
        return self._tracker.network

    @property
    def device(self):
        return self._tracker.device

    @property
    def template_size(self) -> int:
        return self._tracker.template_size

    @property
    def search_size(self) -> int:
        return self._tracker.search_size

    @property
    def context_amount(self) -> float:
        return self._tracker.search.context_amount

    @property
    def penalty_k(self) -> float:
        return self._tracker.search.penalty_k

    @property
    def window_influence(self) -> float:
        return self._tracker.search.window_influence

    @property
    def lr(self) -> float:
        return self._tracker.search.lr

    @property
    def min_size(self) -> float:
        return self._tracker.search.min_size

    @property
    def presence_threshold(self) -> float:
        """``present`` is ``confidence >= presence_threshold``."""
        return self._tracker.presence_threshold

    @property
    def is_initialized(self) -> bool:
        return bool(self._tracker.target_ids)

    @property
    def last_candidates(self) -> list:
        """The candidates of the last ``update`` (``search.Candidate``: the local search's
        first, then one per re-detection tile)."""
        return self._tracker.last_candidates.get(self._TARGET, [])

    @property
    def box_xywh(self) -> np.ndarray:
        """Current target box ``[x, y, w, h]`` (a copy)."""
        return self._tracker.box_xywh(self._TARGET)

    # ------------------------------------------------------------------ tracking
    def reset(self) -> None:
        """Forget the target (``init`` must be called again)."""
        self._tracker.reset()

    def init(self, image_bgr: np.ndarray, box_xywh) -> TrackResult:
        """Start tracking the target ``box_xywh`` = ``[x, y, w, h]`` in ``image_bgr`` (HxWx3 uint8).

        The box must have positive size and overlap the image. Template features are computed
        here once and reused for every later frame.

        Returns:
            the frame-0 result: the given box with score ``INIT_FRAME_SCORE``.
        """
        return self._tracker.init(image_bgr, {self._TARGET: box_xywh})[self._TARGET]

    def set_box(self, box_xywh) -> None:
        """Move the tracked box to ``box_xywh`` (e.g. a user's correction) without touching the
        template; the next ``update`` searches around it."""
        self._tracker.set_box(self._TARGET, box_xywh)

    def update(self, image_bgr: np.ndarray) -> TrackResult:
        """Locate the target in the next frame (HxWx3 uint8 BGR).

        Returns:
            TrackResult with ``box_xywh`` (4,) in image pixels, the raw ``score`` of the chosen
            anchor, the ``frame_index`` (1 for the first call after ``init``), ``present``
            and ``confidence``.
        """
        if not self.is_initialized:
            raise RuntimeError(
                f"{type(self).__name__}.init(image, box_xywh) must be called before update()"
            )
        return self._tracker.update(image_bgr)[self._TARGET]

    def track(self, frames: Iterable[ImageOrPath], init_box_xywh) -> TrackSequenceResult:
        """Track through a sequence (the tracking loop, ``loop.py``): ``init`` on the first
        frame, ``update`` on the others.

        Args:
            frames: BGR uint8 images and/or image file paths, in order.
            init_box_xywh: ``[x, y, w, h]`` of the target in the first frame.

        Returns:
            TrackSequenceResult; row 0 is ``init_box_xywh`` (score 1.0), row k frame k.
        """
        return track_frames(self, frames, init_box_xywh)

    def __repr__(self) -> str:
        return repr(self._tracker).replace(type(self._tracker).__name__, type(self).__name__, 1)
