"""``MultiTargetTracker``: K targets of one video, one batched network call per frame.

The network is stateless and batch-capable (``encode_template`` / ``track`` take B crops), so
K targets cost one batched template call when they are added and one batched search call per
frame, not K of each. The tracker holds, per target, its state (centre, size, the mean colour
of the frame it was added in, the count of low-score frames) and one row of the batched
template features. ``SiamTracker`` (``tracker.py``) is this tracker with one target.

Targets have ids (any hashable; ``tools/track_video.py`` numbers them 0, 1, ...), can be added
and removed between frames, and report a ``lost`` flag: the score stayed below ``lost_score``
for ``lost_frames`` frames in a row (they keep being searched for; the flag clears when the
score recovers). Bad input (a duplicate id, a box outside the image, an unknown id) raises an
error naming the target before anything changes, so the other targets keep tracking.

Per-target maths (crops, penalties, window, smoothing, clipping) is the single-target
tracker's (``docs/siamrpnpp.md#tracker``), in continuous coordinates
(``docs/conventions.md``).
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Iterable, Mapping, Optional, Union

import numpy as np
import torch
from detectron2.config import CfgNode, configurable
from torch import nn

from ..checkpoint import build_model_with_weights
from ..data.crops import crop_square, mean_color, siamese_crop_sides
from ..utils.boxes import check_box_in_image, cxcywh_to_xywh, is_valid_xywh, xywh_to_cxcywh
from .backends import build_backend
from .loop import track_frames
from .network_contract import available_device, resolve_device
from .options import InferenceOptions
from .postprocess import hann_window, select_best, update_target
from .results import INIT_FRAME_SCORE, MultiTrackResult, TrackResult, TrackSequenceResult

__all__ = ["MultiTargetTracker", "check_image"]

logger = logging.getLogger(__name__)

TargetId = Hashable


def check_image(image: Any, name: str = "image") -> np.ndarray:
    """Return ``image`` if it is an HxWx3 uint8 BGR array, else raise a ValueError naming it."""
    if not isinstance(image, np.ndarray):
        raise ValueError(
            f"{name} must be a numpy HxWx3 uint8 BGR array, got {type(image).__name__}"
        )
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} must be an HxWx3 BGR image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8 (0-255 BGR), got {image.dtype}")
    return image


def _as_box(box_xywh, name: str) -> np.ndarray:
    box = np.asarray(box_xywh, dtype=np.float64).reshape(-1)
    if box.shape != (4,):
        raise ValueError(f"{name} must be [x, y, w, h], got {np.asarray(box_xywh).tolist()}")
    return box


@dataclass
class _TargetState:
    center_xy: np.ndarray
    size_wh: np.ndarray
    pad_color: tuple
    low_score_frames: int = 0

    @property
    def box_xywh(self) -> np.ndarray:
        return cxcywh_to_xywh(np.concatenate([self.center_xy, self.size_wh]))


class MultiTargetTracker:
    """Several single-object targets in one video, searched in one batched call per frame.

    Build it like ``SiamTracker``: from a config (``MultiTargetTracker(cfg)``) or from a model
    (``MultiTargetTracker(model=model, penalty_k=..., ...)``).

    Example::

        tracker = MultiTargetTracker(cfg)
        tracker.init(first_frame_bgr, {"car": [x, y, w, h], "dog": [x2, y2, w2, h2]})
        for frame in frames:
            result = tracker.update(frame)          # MultiTrackResult
            for target_id, target in result.items():
                target.box_xywh, target.score, target.lost
        tracker.add(frame, "bike", [x3, y3, w3, h3])   # between frames
        tracker.remove("dog")
    """

    @configurable
    def __init__(
        self,
        model: Optional[nn.Module] = None,
        *,
        context_amount: float = 0.5,
        penalty_k: float = 0.04,
        window_influence: float = 0.44,
        lr: float = 0.4,
        min_size: float = 10.0,
        lost_score: float = 0.3,
        lost_frames: int = 5,
        device: Optional[Union[str, torch.device]] = None,
        inference: InferenceOptions = InferenceOptions(),
        own_model: bool = False,
    ):
        """
        Args:
            model: a ``SiameseNetwork`` (``SiameseRPN``, ``SiameseBAN``) or any model with
                ``encode_template``, ``track``, ``template_size``, ``search_size``. It is
                never modified. May be None with ``inference.onnx_dir`` (exported graphs).
            context_amount: ``MODEL.SIAMESE.CONTEXT_AMOUNT``, context around the target crop.
            penalty_k: scale/aspect-ratio change penalty strength (``TRACKER.PENALTY_K``).
            window_influence: weight of the cosine window (``TRACKER.WINDOW_INFLUENCE``).
            lr: size smoothing rate (``TRACKER.LR``).
            min_size: smallest box side reported, px (``TRACKER.MIN_SIZE``).
            lost_score, lost_frames: a target is ``lost`` after ``lost_frames`` frames in a row
                with a score below ``lost_score`` (``TRACKER.LOST_SCORE``, ``LOST_FRAMES``).
            device: "cpu", "cuda", "cuda:1", ...; ``None`` keeps the model's device.
            inference: how the network runs (backend and speed-ups, ``InferenceOptions``;
                ``InferenceOptions.eager()`` runs the model exactly as given).
            own_model: the tracker may change ``model`` in place (fold its BatchNorm, move
                it) instead of working on a copy: for a model nothing else uses. Trackers
                built from a config without a model own the model they build.
        """
        for name, value in (("lr", lr), ("window_influence", window_influence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if not penalty_k >= 0 or not context_amount >= 0 or not min_size >= 0:
            raise ValueError("penalty_k, context_amount and min_size must be non-negative")
        if int(lost_frames) < 1:
            raise ValueError(f"lost_frames must be at least 1, got {lost_frames}")
        self.network = build_backend(model, inference, device, own_model=own_model)
        self.context_amount = float(context_amount)
        self.penalty_k = float(penalty_k)
        self.window_influence = float(window_influence)
        self.lr = float(lr)
        self.min_size = float(min_size)
        self.lost_score = float(lost_score)
        self.lost_frames = int(lost_frames)
        self._windows: Dict[tuple, np.ndarray] = {}
        self.reset()

    @classmethod
    def from_config(
        cls,
        cfg: CfgNode,
        model: Optional[nn.Module] = None,
        device: Optional[Union[str, torch.device]] = None,
    ):
        device = resolve_device(available_device(cfg.MODEL.DEVICE) if device is None else device)
        inference = InferenceOptions.from_config(cfg.TRACKER)
        own_model = model is None
        if own_model and not inference.onnx_dir:  # exported graphs need no model
            model = build_model_with_weights(cfg, device)
        return {
            "model": model,
            "context_amount": cfg.MODEL.SIAMESE.CONTEXT_AMOUNT,
            "penalty_k": cfg.TRACKER.PENALTY_K,
            "window_influence": cfg.TRACKER.WINDOW_INFLUENCE,
            "lr": cfg.TRACKER.LR,
            "min_size": cfg.TRACKER.MIN_SIZE,
            "lost_score": cfg.TRACKER.LOST_SCORE,
            "lost_frames": cfg.TRACKER.LOST_FRAMES,
            "device": device,
            "inference": inference,
            "own_model": own_model,
        }

    # ------------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return self.network.device

    @property
    def template_size(self) -> int:
        return self.network.template_size

    @property
    def search_size(self) -> int:
        return self.network.search_size

    @property
    def target_ids(self) -> list:
        """Ids of the tracked targets, in the order they were added."""
        return list(self._targets)

    @property
    def frame_index(self) -> int:
        """0 at ``init``, then 1, 2, ... per ``update``; -1 before ``init``."""
        return self._frame_index

    def box_xywh(self, target_id: TargetId) -> np.ndarray:
        """Current ``[x, y, w, h]`` of a target (a copy)."""
        return self._state(target_id).box_xywh

    # ------------------------------------------------------------------ targets
    def reset(self) -> None:
        """Forget every target (``init`` must be called again)."""
        self._targets: "OrderedDict[TargetId, _TargetState]" = OrderedDict()
        self._template_features = None
        self._frame_index = -1

    def init(self, image_bgr: np.ndarray, boxes_xywh) -> MultiTrackResult:
        """Start a video: forget earlier targets, add ``boxes_xywh`` on this frame.

        Args:
            image_bgr: HxWx3 uint8 BGR first frame.
            boxes_xywh: ``{target id: [x, y, w, h]}``, or a sequence of boxes (ids 0, 1, ...).

        Returns:
            the frame-0 result: the given boxes with score ``INIT_FRAME_SCORE``.
        """
        image = check_image(image_bgr, "init image")
        boxes = self._boxes_by_id(boxes_xywh)
        self._check_new_targets(image, boxes, existing=())
        self.reset()
        self._frame_index = 0
        self._add(image, boxes)
        return self._result({i: INIT_FRAME_SCORE for i in boxes})

    def add(self, image_bgr: np.ndarray, target_id: TargetId, box_xywh) -> TrackResult:
        """Add a target on the current frame (the one last given to ``init`` / ``update``);
        it is searched for from the next ``update`` on. Returns its result (score 1.0)."""
        self._require_init()
        image = check_image(image_bgr, f"frame {self._frame_index}")
        boxes = {target_id: _as_box(box_xywh, f"box{self._of(target_id)}")}
        self._check_new_targets(image, boxes, existing=self._targets)
        self._add(image, boxes)
        return TrackResult(boxes[target_id], INIT_FRAME_SCORE, self._frame_index)

    def remove(self, target_id: TargetId) -> None:
        """Stop tracking ``target_id`` (``KeyError`` naming it if it is not tracked)."""
        self._state(target_id)
        keep = [k for k, i in enumerate(self._targets) if i != target_id]
        del self._targets[target_id]
        self._template_features = (
            self.network.take_features(self._template_features, keep) if keep else None
        )

    def set_box(self, target_id: TargetId, box_xywh) -> None:
        """Move a target's box (e.g. a user's correction) without touching its template; the
        next ``update`` searches around it."""
        state = self._state(target_id)
        box = _as_box(box_xywh, f"box{self._of(target_id)}")
        if not is_valid_xywh(box):
            raise ValueError(f"box must be a finite [x, y, w, h] with w, h > 0, got {box.tolist()}")
        box_cxcywh = xywh_to_cxcywh(box)
        state.center_xy, state.size_wh = box_cxcywh[:2].copy(), box_cxcywh[2:].copy()

    # ------------------------------------------------------------------ tracking
    def update(self, image_bgr: np.ndarray) -> MultiTrackResult:
        """Locate every target in the next frame: one batched search call for all of them."""
        self._require_init()
        image = check_image(image_bgr, f"frame {self._frame_index + 1}")
        self._frame_index += 1
        if not self._targets:
            return self._result({})
        states = list(self._targets.values())
        crops, scales = [], []
        for state in states:
            _, search_side = siamese_crop_sides(
                state.size_wh[0], state.size_wh[1], self.context_amount,
                self.template_size, self.search_size,
            )  # fmt: skip
            scales.append(self.search_size / search_side)  # crop px per image px
            crops.append(
                crop_square(image, state.center_xy, search_side, self.search_size, state.pad_color)
            )
        all_scores, all_boxes = self.network.track(self._template_features, np.stack(crops))
        scores = {}
        for target_id, state, target_scores, boxes, scale in zip(
            self._targets, states, all_scores, all_boxes, scales
        ):
            selection = select_best(
                target_scores,
                boxes,
                state.size_wh * scale,
                self._window(target_scores.shape[1:]),
                self.penalty_k,
                self.window_influence,
            )
            state.center_xy, state.size_wh = update_target(
                state.center_xy,
                state.size_wh,
                selection,
                crop_center=self.search_size / 2.0,
                crop_scale=scale,
                lr=self.lr,
                image_hw=image.shape[:2],
                min_size=self.min_size,
            )
            low = selection.score < self.lost_score
            state.low_score_frames = state.low_score_frames + 1 if low else 0
            scores[target_id] = selection.score
        return self._result(scores)

    def track(self, frames: Iterable, init_boxes_xywh) -> Dict[TargetId, TrackSequenceResult]:
        """Track the targets through a sequence (the tracking loop): ``init`` on the first
        frame, ``update`` on the others. Returns one ``TrackSequenceResult`` per target (row 0
        = its initial box); frame times are those of the shared calls."""
        return track_frames(self, frames, init_boxes_xywh)

    # ------------------------------------------------------------------ helpers
    def _boxes_by_id(self, boxes_xywh) -> "OrderedDict[TargetId, np.ndarray]":
        items = boxes_xywh.items() if isinstance(boxes_xywh, Mapping) else enumerate(boxes_xywh)
        boxes = OrderedDict()
        for target_id, box in items:
            if target_id in boxes:
                raise ValueError(f"target id {target_id!r} is given twice")
            boxes[target_id] = _as_box(box, f"init box{self._of(target_id)}")
        if not boxes:
            raise ValueError("init needs at least one box")
        return boxes

    def _check_new_targets(self, image, boxes: Mapping, existing) -> None:
        for target_id, box in boxes.items():
            if target_id in existing:
                raise ValueError(f"target id {target_id!r} is already tracked")
            check_box_in_image(box, image.shape, name=f"init box{self._of(target_id)}")

    def _add(self, image: np.ndarray, boxes: Mapping) -> None:
        """Template features of the new targets in one batched call, appended in order."""
        pad_color = mean_color(image)
        crops = []
        for target_id, box in boxes.items():
            box_cxcywh = xywh_to_cxcywh(box)
            template_side, _ = siamese_crop_sides(
                box[2], box[3], self.context_amount, self.template_size, self.search_size
            )
            crops.append(
                crop_square(image, box_cxcywh[:2], template_side, self.template_size, pad_color)
            )
            self._targets[target_id] = _TargetState(
                box_cxcywh[:2].copy(), box_cxcywh[2:].copy(), pad_color
            )
        features = self.network.encode_template(np.stack(crops))
        if self._template_features is None:
            self._template_features = features
        else:
            self._template_features = self.network.concat_features(
                [self._template_features, features]
            )
        self.network.prepare(self._template_features)  # one-off jit trace: now, not next frame

    def _result(self, scores: Mapping) -> MultiTrackResult:
        targets = OrderedDict()
        for target_id, state in self._targets.items():
            score = scores.get(target_id, INIT_FRAME_SCORE)
            lost = state.low_score_frames >= self.lost_frames
            targets[target_id] = TrackResult(state.box_xywh, score, self._frame_index, lost)
        return MultiTrackResult(targets, self._frame_index)

    @staticmethod
    def _of(target_id: TargetId) -> str:
        """How messages name a target (``SiamTracker`` tracks one and names none)."""
        return f" of target {target_id!r}"

    def _state(self, target_id: TargetId) -> _TargetState:
        self._require_init()
        try:
            return self._targets[target_id]
        except (KeyError, TypeError):
            raise KeyError(
                f"target {target_id!r} is not tracked (tracked: {list(self._targets)})"
            ) from None

    def _require_init(self) -> None:
        if self._frame_index < 0:
            raise RuntimeError(
                f"{type(self).__name__}.init(image, boxes) must be called before update()"
            )

    def _window(self, score_hw) -> np.ndarray:
        key = tuple(int(v) for v in score_hw)
        if key not in self._windows:
            self._windows[key] = hann_window(*key)
        return self._windows[key]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.network.description}, penalty_k={self.penalty_k}, "
            f"window_influence={self.window_influence}, lr={self.lr}, "
            f"template_size={self.template_size}, search_size={self.search_size})"
        )
