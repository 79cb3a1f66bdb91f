"""``SiamTracker``: the online SiamRPN++ tracker (spec §11) around a stateless model.

The model stays stateless (STYLE §7); the tracker holds the target state (centre, size),
the first frame's mean colour (crop padding) and the cached template features.

Coordinates are continuous (``siamtrack/utils/boxes.py``): a box ``[x, y, w, h]`` has its centre
at ``(x + w/2, y + h/2)``. Crops come from ``siamtrack.data.crops.crop_square``, the function
training uses, which maps the target centre exactly to the crop centre ``S/2``; hence with a
model whose best anchor predicts zero offset and the current size, ``update`` on an unchanged
frame returns the initial box exactly (pysot shifts it by 0.5 px, spec §11.1/§11.3).

After every step the box centre is clipped to the image and the size to
``[min(MIN_SIZE, image side), image side]`` (spec §11.3 step 7), so a box may still extend past
the border but never leaves the image. Speed: ``SiamTracker(cfg)`` folds BatchNorm and
freezes the per-frame step with ``torch.jit`` (``TRACKER.FOLD_BATCHNORM``, ``TRACKER.JIT_FREEZE``;
same outputs up to float rounding); bf16/fp16 autocast and ``torch.compile`` are opt-in.
"""

import logging
import os
from typing import Any, Iterable, Optional, Union

import numpy as np
import torch
from detectron2.config import CfgNode, configurable
from torch import nn

from ..data.crops import crop_square, mean_color, siamese_crop_sides
from ..utils.boxes import check_box_in_image, cxcywh_to_xywh, xywh_to_cxcywh
from .inference import build_backend, resolve_device
from .options import InferenceOptions
from .postprocess import hann_window, select_best, update_target
from .results import TrackResult, TrackSequenceResult, track_frames

__all__ = ["SiamTracker"]

logger = logging.getLogger(__name__)

ImageOrPath = Union[np.ndarray, str, os.PathLike]


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


class SiamTracker:
    """SiamRPN++ single-object tracker.

    Build it from a config (``SiamTracker(cfg)``: builds the model, loads ``cfg.MODEL.WEIGHTS``
    (siamtrack or pysot checkpoints) and reads ``cfg.TRACKER.*``) or from a model
    (``SiamTracker(model=model, penalty_k=0.05, ...)``). Several trackers with different
    settings can share a process, and trackers built from the same model share its weights.

    Example::

        tracker = SiamTracker(cfg)
        tracker.init(first_frame_bgr, [x, y, w, h])
        for frame in frames:
            result = tracker.update(frame)   # TrackResult(box_xywh, score, frame_index)
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
        device: Optional[Union[str, torch.device]] = None,
        inference: InferenceOptions = InferenceOptions(),
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
            device: "cpu", "cuda", "cuda:1", ...; ``None`` keeps the model's device.
            inference: how the network runs (backend and speed-ups, ``InferenceOptions``;
                ``InferenceOptions.eager()`` runs the model exactly as given).
        """
        for name, value in (("lr", lr), ("window_influence", window_influence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if not penalty_k >= 0 or not context_amount >= 0 or not min_size >= 0:
            raise ValueError("penalty_k, context_amount and min_size must be non-negative")
        self.network = build_backend(model, inference, device)
        self.context_amount = float(context_amount)
        self.penalty_k = float(penalty_k)
        self.window_influence = float(window_influence)
        self.lr = float(lr)
        self.min_size = float(min_size)
        self._windows = {}
        self.reset()

    @classmethod
    def from_config(
        cls,
        cfg: CfgNode,
        model: Optional[nn.Module] = None,
        device: Optional[Union[str, torch.device]] = None,
    ):
        if device is None:
            requested = cfg.MODEL.DEVICE
            if str(requested).startswith("cuda") and not torch.cuda.is_available():
                logger.warning(f"MODEL.DEVICE is '{requested}' but CUDA is unavailable: using cpu")
                requested = "cpu"
            device = requested
        device = resolve_device(device)
        inference = InferenceOptions.from_config(cfg.TRACKER)
        if model is None and not inference.onnx_dir:  # exported graphs need no model
            model = _build_model_with_weights(cfg, device)
        return {
            "model": model,
            "context_amount": cfg.MODEL.SIAMESE.CONTEXT_AMOUNT,
            "penalty_k": cfg.TRACKER.PENALTY_K,
            "window_influence": cfg.TRACKER.WINDOW_INFLUENCE,
            "lr": cfg.TRACKER.LR,
            "min_size": cfg.TRACKER.MIN_SIZE,
            "device": device,
            "inference": inference,
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
    def is_initialized(self) -> bool:
        return self._template_features is not None

    @property
    def box_xywh(self) -> np.ndarray:
        """Current target box ``[x, y, w, h]`` (a copy)."""
        self._require_init()
        return cxcywh_to_xywh(np.concatenate([self._center_xy, self._size_wh]))

    # ------------------------------------------------------------------ tracking
    def reset(self) -> None:
        """Forget the target (``init`` must be called again)."""
        self._template_features = None
        self._center_xy = None
        self._size_wh = None
        self._pad_color = None
        self._frame_index = -1

    def init(self, image_bgr: np.ndarray, box_xywh) -> None:
        """Start tracking the target ``box_xywh`` = ``[x, y, w, h]`` in ``image_bgr`` (HxWx3 uint8).

        The box must have positive size and overlap the image. Template features are computed
        here once and reused for every later frame.
        """
        image = check_image(image_bgr, "init image")
        box = np.asarray(box_xywh, dtype=np.float64).reshape(-1)
        if box.shape != (4,):
            raise ValueError(f"init box must be [x, y, w, h], got {np.asarray(box_xywh).tolist()}")
        check_box_in_image(box, image.shape, name="init box")
        box_cxcywh = xywh_to_cxcywh(box)
        pad_color = mean_color(image)
        template_side, _ = siamese_crop_sides(
            box[2], box[3], self.context_amount, self.template_size, self.search_size
        )
        template_crop = crop_square(
            image, box_cxcywh[:2], template_side, self.template_size, pad_color
        )
        self._template_features = self.network.encode_template(template_crop[None])
        self.network.prepare(self._template_features)  # one-off jit trace: in init, not frame 1
        self._center_xy = box_cxcywh[:2].copy()
        self._size_wh = box_cxcywh[2:].copy()
        self._pad_color = pad_color
        self._frame_index = 0

    def set_box(self, box_xywh) -> None:
        """Move the tracked box to ``box_xywh`` (e.g. a user's correction) without touching the
        template; the next ``update`` searches around it."""
        self._require_init()
        box = np.asarray(box_xywh, dtype=np.float64).reshape(-1)
        if box.shape != (4,) or not (np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0):
            raise ValueError(f"box must be a finite [x, y, w, h] with w, h > 0, got {box.tolist()}")
        box_cxcywh = xywh_to_cxcywh(box)
        self._center_xy, self._size_wh = box_cxcywh[:2].copy(), box_cxcywh[2:].copy()

    def update(self, image_bgr: np.ndarray) -> TrackResult:
        """Locate the target in the next frame (HxWx3 uint8 BGR).

        Returns:
            TrackResult with ``box_xywh`` (4,) in image pixels, the raw ``score`` of the chosen
            anchor and the ``frame_index`` (1 for the first call after ``init``).
        """
        self._require_init()
        image = check_image(image_bgr, f"frame {self._frame_index + 1}")
        width, height = self._size_wh
        _, search_side = siamese_crop_sides(
            width, height, self.context_amount, self.template_size, self.search_size
        )
        crop_scale = self.search_size / search_side  # crop px per image px
        search_crop = crop_square(
            image, self._center_xy, search_side, self.search_size, self._pad_color
        )
        scores, boxes_cxcywh = self.network.track(self._template_features, search_crop[None])
        scores, boxes_cxcywh = scores[0], boxes_cxcywh[0]
        selection = select_best(
            scores,
            boxes_cxcywh,
            self._size_wh * crop_scale,
            self._window(scores.shape[1:]),
            self.penalty_k,
            self.window_influence,
        )
        self._center_xy, self._size_wh = update_target(
            self._center_xy,
            self._size_wh,
            selection,
            crop_center=self.search_size / 2.0,
            crop_scale=crop_scale,
            lr=self.lr,
            image_hw=image.shape[:2],
            min_size=self.min_size,
        )
        self._frame_index += 1
        return TrackResult(self.box_xywh, selection.score, self._frame_index)

    def track(self, frames: Iterable[ImageOrPath], init_box_xywh) -> TrackSequenceResult:
        """Track through a sequence: ``init`` on the first frame, ``update`` on the others.

        Args:
            frames: BGR uint8 images and/or image file paths, in order.
            init_box_xywh: ``[x, y, w, h]`` of the target in the first frame.

        Returns:
            TrackSequenceResult; row 0 is ``init_box_xywh`` (score 1.0), row k frame k.
        """
        return track_frames(self, frames, init_box_xywh)

    # ------------------------------------------------------------------ helpers
    def _require_init(self) -> None:
        if self._template_features is None:
            raise RuntimeError("SiamTracker.init(image, box_xywh) must be called before update()")

    def _window(self, score_hw) -> np.ndarray:
        key = tuple(int(v) for v in score_hw)
        if key not in self._windows:
            self._windows[key] = hann_window(*key)
        return self._windows[key]

    def __repr__(self) -> str:
        return (
            f"SiamTracker({self.network.description}, "
            f"penalty_k={self.penalty_k}, window_influence={self.window_influence}, "
            f"lr={self.lr}, template_size={self.template_size}, search_size={self.search_size})"
        )


def _build_model_with_weights(cfg: CfgNode, device: torch.device) -> nn.Module:
    """Build ``cfg.MODEL`` on ``device`` and load ``cfg.MODEL.WEIGHTS`` (eval mode)."""
    from detectron2.modeling import build_model

    from .. import modeling  # noqa: F401  (registers SiameseRPN)

    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = str(device)
    model = build_model(cfg)
    model.eval()
    weights = cfg.MODEL.WEIGHTS
    if weights:
        from ..checkpoint import SiamCheckpointer  # any checkpoint format, or a zoo name

        SiamCheckpointer(model, trust_weights=cfg.MODEL.TRUST_WEIGHTS).load(weights)
    else:
        logger.warning("MODEL.WEIGHTS is empty: tracking with randomly initialised weights")
    return model
