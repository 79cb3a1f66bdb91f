"""``SiamTracker``: the online single-object tracker around a stateless ``SiameseNetwork``.

``SiamTracker`` is ``MultiTargetTracker`` (``multi_target.py``) with one target: the same
state, crops and per-frame maths (``docs/siamrpnpp.md#tracker``), with the single-target API
that pysot, got10k and OpenCV users know (``init(image, box)``, ``update(image) -> result``).

Coordinates are continuous (``docs/conventions.md#boxes``): a box ``[x, y, w, h]`` has its
centre at ``(x + w/2, y + h/2)``. Crops come from ``siamtrack.data.crops.crop_square``, the
function training uses, which maps the target centre exactly to the crop centre ``S/2``; hence
with a model whose best anchor predicts zero offset and the current size, ``update`` on an
unchanged frame returns the initial box exactly (pysot shifts it by 0.5 px).

After every step the box centre is clipped to the image and the size to
``[min(MIN_SIZE, image side), image side]``, so a box may still extend past the border but
never leaves the image. How the network runs (PyTorch with BatchNorm folded and a frozen jit
step, or siamtrack's ONNX graphs in onnxruntime) is ``InferenceOptions``.
"""

import os
from typing import Iterable, Optional, Union

import numpy as np
import torch
from detectron2.config import CfgNode, configurable
from torch import nn

from .loop import track_frames
from .multi_target import MultiTargetTracker
from .results import TrackResult, TrackSequenceResult

__all__ = ["SiamTracker"]

ImageOrPath = Union[np.ndarray, str, os.PathLike]


class _OneTarget(MultiTargetTracker):
    @staticmethod
    def _of(target_id) -> str:
        return ""  # the one target needs no name in messages


class SiamTracker:
    """Single-object tracker (SiamRPN++, NanoTrack).

    Build it from a config (``SiamTracker(cfg)``: builds the model, loads ``cfg.MODEL.WEIGHTS``
    (a checkpoint file or a model zoo name) and reads ``cfg.TRACKER.*``) or from a model
    (``SiamTracker(model=model, penalty_k=0.05, ...)``). Several trackers with different
    settings can share a process, and trackers built from the same model share its weights.

    Example::

        tracker = SiamTracker(cfg)
        tracker.init(first_frame_bgr, [x, y, w, h])
        for frame in frames:
            result = tracker.update(frame)   # TrackResult(box_xywh, score, frame_index, lost)
    """

    _TARGET = 0

    @configurable
    def __init__(self, model: Optional[nn.Module] = None, **settings):
        """Arguments as ``MultiTargetTracker``'s: ``model`` and the keyword-only
        ``context_amount``, ``penalty_k``, ``window_influence``, ``lr``, ``min_size``,
        ``lost_score``, ``lost_frames``, ``device``, ``inference``, ``own_model``."""
        self._tracker = _OneTarget(model, **settings)

    @classmethod
    def from_config(
        cls,
        cfg: CfgNode,
        model: Optional[nn.Module] = None,
        device: Optional[Union[str, torch.device]] = None,
    ):
        return MultiTargetTracker.from_config(cfg, model=model, device=device)

    # ------------------------------------------------------------------ properties
    @property
    def network(self):
        """The network backend (``backends.py``)."""
        return self._tracker.network

    @property
    def device(self) -> torch.device:
        return self._tracker.device

    @property
    def template_size(self) -> int:
        return self._tracker.template_size

    @property
    def search_size(self) -> int:
        return self._tracker.search_size

    @property
    def context_amount(self) -> float:
        return self._tracker.context_amount

    @property
    def penalty_k(self) -> float:
        return self._tracker.penalty_k

    @property
    def window_influence(self) -> float:
        return self._tracker.window_influence

    @property
    def lr(self) -> float:
        return self._tracker.lr

    @property
    def min_size(self) -> float:
        return self._tracker.min_size

    @property
    def is_initialized(self) -> bool:
        return bool(self._tracker.target_ids)

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
            anchor, the ``frame_index`` (1 for the first call after ``init``) and ``lost``.
        """
        if not self.is_initialized:
            raise RuntimeError("SiamTracker.init(image, box_xywh) must be called before update()")
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
        return repr(self._tracker).replace("_OneTarget", "SiamTracker", 1)
