"""``MultiTargetEngine``: the online tracker's per-frame logic for K targets of one video, on
any network backend (numpy + OpenCV; no torch, no detectron2).

The network is stateless and batch-capable (``encode_template`` / ``track`` take B crops), so
K targets cost one batched template call when they are added and one batched search call per
frame, not K of each. The engine holds, per target, its state (centre, size, the mean colour
of the frame it was added in, whether it is present) and one row of the batched template
features. Everything a frame does is here: crops (``utils.crops``), the search strategy
(``search.py``), presence (``presence.py``), re-detection (``redetection.py``).

It is built from parts: a backend (``backends.py``: ``TorchBackend``, ``OnnxRuntimeBackend``,
or the torch-free ``OnnxGraphBackend``), a search strategy and the presence settings.
``MultiTargetTracker`` (``multi_target.py``) is this engine built from a config or a model,
which needs torch; the torch-free tracker (``runtime_record.py``) builds it from a runtime
record and cached graphs. Both track identically: same class, same maths.

Targets have ids (any hashable; ``tools/track_video.py`` numbers them 0, 1, ...) and can be
added and removed between frames. Every result carries a ``confidence`` (the presence model's
probability that the box is on the target, ``presence.py``) and ``present`` (confidence >=
``presence_threshold``). With ``long_term`` a target reported absent for ``redetect_after``
frames in a row is also searched for in the whole frame (``redetection.py``): besides its local
search, ``redetect_crops`` tiles of the frame join the batched call each frame, and the target
jumps to a tile's candidate when that one reaches the threshold and beats the local one. Bad
input (a duplicate id, a box outside the image, an unknown id) raises an error naming the
target before anything changes, so the other targets keep tracking.

Per-target maths (crops, penalties, window, smoothing, clipping) is the search strategy's
(``search.py``; SiamRPN++ / NanoTrack: ``docs/siamrpnpp.md#tracker``), in continuous
coordinates (``docs/conventions.md``).
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Iterable, List, Mapping, Optional, Union

import numpy as np

from ..errors import BadInputError
from ..utils.boxes import check_box_in_image, cxcywh_to_xywh, is_valid_xywh, xywh_to_cxcywh
from ..utils.crops import crop_square, mean_color
from .loop import track_frames
from .presence import PresenceModel, RawScorePresence
from .redetection import next_tiles, tile_centers
from .results import INIT_FRAME_SCORE, MultiTrackResult, TrackResult, TrackSequenceResult
from .search import Candidate, SearchStrategy

__all__ = ["MultiTargetEngine", "Presence", "check_image", "check_engine_settings"]

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
    absent_frames: int = 0  # frames in a row reported absent
    tile_cursor: int = 0  # next re-detection tile

    @property
    def box_xywh(self) -> np.ndarray:
        return cxcywh_to_xywh(np.concatenate([self.center_xy, self.size_wh]))


@dataclass(frozen=True)
class _Crop:
    """One crop of the batched search call: whose, where and why."""

    target_index: int
    center_xy: np.ndarray
    side: float
    local: bool  # the target's local search (else a re-detection tile)


Presence = Union[PresenceModel, RawScorePresence]


def check_engine_settings(presence_threshold: float, redetect_after: int, redetect_crops: int):
    """Raise a BadInputError for a presence threshold outside [0, 1] or re-detection counts
    below 1 (the config keys named)."""
    if not 0.0 <= float(presence_threshold) <= 1.0:
        raise BadInputError(
            f"TRACKER.PRESENCE_THRESHOLD must lie in [0, 1], got {presence_threshold}"
        )
    if int(redetect_after) < 1 or int(redetect_crops) < 1:
        raise BadInputError(
            "TRACKER.REDETECT_AFTER and TRACKER.REDETECT_CROPS must be at least 1, got "
            f"{redetect_after} and {redetect_crops}"
        )


class MultiTargetEngine:
    """Several single-object targets in one video, searched in one batched call per frame
    (``MultiTargetTracker``'s API: ``init``, ``add``, ``remove``, ``set_box``, ``update``,
    ``search_at``, ``track``).

    Args:
        network: the network backend (``backends.py``): ``encode_template``, ``prepare``,
            ``track``, ``concat_features``, ``take_features``, ``template_size``,
            ``search_size``, ``score_shape``, ``device``, ``description``.
        search: the search strategy (``search.py``).
        presence: the presence model (``presence.py``); None: the raw score is the
            confidence.
        presence_threshold: a target is ``present`` when its confidence reaches this
            (``TRACKER.PRESENCE_THRESHOLD``, in [0, 1]).
        long_term: search the whole frame for a target reported absent for
            ``redetect_after`` frames in a row (``TRACKER.LONG_TERM``).
        redetect_after: ``TRACKER.REDETECT_AFTER`` (>= 1).
        redetect_crops: frame tiles searched per frame while a target is lost, besides
            its local search (``TRACKER.REDETECT_CROPS``, >= 1).
    """

    def __init__(
        self,
        network,
        search: SearchStrategy,
        *,
        presence: Optional[Presence] = None,
        presence_threshold: float = 0.5,
        long_term: bool = False,
        redetect_after: int = 3,
        redetect_crops: int = 2,
    ):
        check_engine_settings(presence_threshold, redetect_after, redetect_crops)
        self.network = network
        self.search = search
        self.presence = RawScorePresence() if presence is None else presence
        self.presence.check_score_shape(self.network.score_shape, self.network.description)
        self.presence_threshold = float(presence_threshold)
        self.long_term = bool(long_term)
        self.redetect_after = int(redetect_after)
        self.redetect_crops = int(redetect_crops)
        self.reset()

    # ------------------------------------------------------------------ properties
    @property
    def device(self):
        """The backend's device (a ``torch.device`` where the backend was built with torch, else
        its name, "cpu")."""
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
        # The candidates of the last update per target (local search first, then the
        # re-detection tiles): what the presence model saw, for diagnostics and fitting.
        self.last_candidates: Dict[TargetId, List[Candidate]] = {}

    def init(self, image_bgr: np.ndarray, boxes_xywh) -> MultiTrackResult:
        """Start a video: forget earlier targets, add ``boxes_xywh`` on this frame.

        Args:
            image_bgr: HxWx3 uint8 BGR first frame.
            boxes_xywh: ``{target id: [x, y, w, h]}``, or a sequence of boxes (ids 0, 1, ...).

        Returns:
            the frame-0 result: the given boxes, score and confidence ``INIT_FRAME_SCORE``.
        """
        image = check_image(image_bgr, "init image")
        boxes = self._boxes_by_id(boxes_xywh)
        self._check_new_targets(image, boxes, existing=())
        self.reset()
        self._frame_index = 0
        self._add(image, boxes)
        return MultiTrackResult(
            {i: self._given_box_result(state) for i, state in self._targets.items()}, 0
        )

    def add(self, image_bgr: np.ndarray, target_id: TargetId, box_xywh) -> TrackResult:
        """Add a target on the current frame (the one last given to ``init`` / ``update``);
        it is searched for from the next ``update`` on. Returns its result (score 1.0)."""
        self._require_init()
        image = check_image(image_bgr, f"frame {self._frame_index}")
        boxes = {target_id: _as_box(box_xywh, f"box{self._of(target_id)}")}
        self._check_new_targets(image, boxes, existing=self._targets)
        self._add(image, boxes)
        return self._given_box_result(self._targets[target_id])

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
        next ``update`` searches around it, and the target counts as present there."""
        state = self._state(target_id)
        box = _as_box(box_xywh, f"box{self._of(target_id)}")
        if not is_valid_xywh(box):
            raise ValueError(f"box must be a finite [x, y, w, h] with w, h > 0, got {box.tolist()}")
        box_cxcywh = xywh_to_cxcywh(box)
        state.center_xy, state.size_wh = box_cxcywh[:2].copy(), box_cxcywh[2:].copy()
        state.absent_frames = 0

    # ------------------------------------------------------------------ tracking
    def update(self, image_bgr: np.ndarray) -> MultiTrackResult:
        """Locate every target in the next frame: one batched search call for all of them."""
        self._require_init()
        image = check_image(image_bgr, f"frame {self._frame_index + 1}")
        self._frame_index += 1
        if not self._targets:
            return MultiTrackResult({}, self._frame_index)
        states = list(self._targets.values())
        crops = self._plan_crops(states, image.shape[:2])
        scores, boxes = self._search_crops(image, crops, states)
        results = OrderedDict()
        self.last_candidates = {}
        for index, (target_id, state) in enumerate(self._targets.items()):
            rows = [k for k, c in enumerate(crops) if c.target_index == index]
            candidates = self._candidates(
                state, [crops[k] for k in rows], scores[rows], boxes[rows], image.shape[:2]
            )
            self.last_candidates[target_id] = candidates
            results[target_id] = self._update_target(state, candidates)
        return MultiTrackResult(results, self._frame_index)

    def search_at(
        self, image_bgr: np.ndarray, target_id: TargetId, centers_xy, side: float
    ) -> List[Candidate]:
        """Look for a target in crops of ``side`` image px centred on ``centers_xy`` (M, 2)
        of ``image_bgr``, without the motion prior and without changing any state (one
        batched call). Returns one ``Candidate`` per crop (its ``center_xy``, ``size_wh``,
        raw ``score`` and ``scores`` map; the presence model gives its confidence)."""
        state = self._state(target_id)
        image = check_image(image_bgr, "image")
        index = list(self._targets).index(target_id)
        centers = np.asarray(centers_xy, dtype=np.float64).reshape(-1, 2)
        crops = [_Crop(index, center, float(side), local=False) for center in centers]
        scores, boxes = self._search_crops(image, crops, list(self._targets.values()))
        return [
            self._locate(state, [c], scores[k : k + 1], boxes[k : k + 1], image.shape[:2], False)
            for k, c in enumerate(crops)
        ]

    def track(self, frames: Iterable, init_boxes_xywh) -> Dict[TargetId, TrackSequenceResult]:
        """Track the targets through a sequence (the tracking loop): ``init`` on the first
        frame, ``update`` on the others. Returns one ``TrackSequenceResult`` per target (row 0
        = its initial box); frame times are those of the shared calls."""
        return track_frames(self, frames, init_boxes_xywh)

    # ------------------------------------------------------------------ one frame
    def _searching(self, state: _TargetState) -> bool:
        """The target is lost: re-detection runs for it this frame."""
        return self.long_term and state.absent_frames >= self.redetect_after

    def _plan_crops(self, states: List[_TargetState], image_hw) -> List[_Crop]:
        """The crops of this frame, target by target: the local search and, while the target
        is lost, the next re-detection tiles."""
        crops = []
        for index, state in enumerate(states):
            for side in self.search.local_search_sides(state.size_wh):
                crops.append(_Crop(index, state.center_xy, side, local=True))
            if self._searching(state):
                side = self.search.redetection_side(state.size_wh)
                tiles, state.tile_cursor = next_tiles(
                    tile_centers(image_hw, side), state.tile_cursor, self.redetect_crops
                )
                crops.extend(_Crop(index, center, side, local=False) for center in tiles)
        return crops

    def _search_crops(self, image: np.ndarray, crops: List[_Crop], states: List[_TargetState]):
        """The network's scores (N, A, H, W) and boxes (N, A, H, W, 4) of N crops in one
        batched call, each against its target's template features (the cached batch as it is
        when that is one crop per target, in order)."""
        owners = [c.target_index for c in crops]
        features = self._template_features
        if owners != list(range(len(states))):
            features = self.network.take_features(features, owners)
        images = [
            crop_square(
                image, c.center_xy, c.side, self.search_size, states[c.target_index].pad_color
            )
            for c in crops
        ]
        return self.network.track(features, np.stack(images))

    def _locate(self, state, crops: List[_Crop], scores, boxes, image_hw, motion_prior):
        return self.search.locate(
            scores,
            boxes,
            np.stack([c.center_xy for c in crops]),
            [c.side for c in crops],
            state.size_wh,
            image_hw,
            motion_prior=motion_prior,
        )

    def _candidates(self, state, crops, scores, boxes, image_hw) -> List[Candidate]:
        """The local search's candidate, then one per re-detection tile."""
        local = [k for k, c in enumerate(crops) if c.local]
        candidates = [
            self._locate(state, [crops[k] for k in local], scores[local], boxes[local],
                         image_hw, motion_prior=True)
        ]  # fmt: skip
        candidates += [
            self._locate(state, [crops[k]], scores[k : k + 1], boxes[k : k + 1], image_hw,
                         motion_prior=False)
            for k, crop in enumerate(crops) if not crop.local
        ]  # fmt: skip
        return candidates

    def _update_target(self, state: _TargetState, candidates: List[Candidate]) -> TrackResult:
        """A target's new state and result from its candidates (local first): the local
        search's, unless a re-detection tile's is confident and more so."""
        confidences = [self.presence.confidence(c.scores, c.score) for c in candidates]
        best = int(np.argmax(confidences))
        if confidences[best] < self.presence_threshold:
            best = 0  # keep tracking locally until a tile is confident
        candidate, confidence = candidates[best], confidences[best]
        state.center_xy, state.size_wh = candidate.center_xy, candidate.size_wh
        present = confidence >= self.presence_threshold
        state.absent_frames = 0 if present else state.absent_frames + 1
        return TrackResult(state.box_xywh, candidate.score, self._frame_index, present, confidence)

    # ------------------------------------------------------------------ helpers
    def _given_box_result(self, state: _TargetState) -> TrackResult:
        return TrackResult(
            state.box_xywh, INIT_FRAME_SCORE, self._frame_index, True, INIT_FRAME_SCORE
        )

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
            center_xy, size_wh = box_cxcywh[:2].copy(), box_cxcywh[2:].copy()
            crops.append(
                crop_square(
                    image, center_xy, self.search.template_side(size_wh), self.template_size,
                    pad_color,
                )
            )  # fmt: skip
            self._targets[target_id] = _TargetState(center_xy, size_wh, pad_color)
        features = self.network.encode_template(np.stack(crops))
        if self._template_features is None:
            self._template_features = features
        else:
            self._template_features = self.network.concat_features(
                [self._template_features, features]
            )
        self.network.prepare(self._template_features)  # one-off jit trace: now, not next frame

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

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.network.description}, {self.search!r}, "
            f"{self.presence.description}, presence_threshold={self.presence_threshold}, "
            f"long_term={self.long_term})"
        )
