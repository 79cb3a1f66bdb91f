"""``MultiTargetTracker``: K targets of one video, one batched network call per frame, built
from a config or a model.

The per-frame logic (state, crops, the batched call, search, presence, re-detection) is
``MultiTargetEngine``'s (``engine.py``, torch-free); this class builds one from what needs
torch: a ``cfg`` (``MultiTargetTracker(cfg)``: the model, its weights, ``cfg.TRACKER.*``) or a
model (``MultiTargetTracker(model=model, penalty_k=..., ...)``), through the backends
(``backends.py``). ``SiamTracker`` (``tracker.py``) is this tracker with one target.

Targets have ids (any hashable; ``tools/track_video.py`` numbers them 0, 1, ...) and can be
added and removed between frames; every result carries a ``confidence`` and ``present``, and
with ``long_term`` lost targets are searched for in the whole frame (``engine.py``).
"""

import logging
from typing import Optional, Union

import torch
from detectron2.config import CfgNode, configurable
from torch import nn

from ..checkpoint import build_model_with_weights
from ..inference_options import InferenceOptions
from ..utils.devices import resolve_device
from .backends import build_backend
from .engine import MultiTargetEngine, Presence, check_engine_settings, check_image
from .presence import load_presence_model
from .search import PenaltyWindowSearch, SearchStrategy, build_search_strategy

__all__ = ["MultiTargetTracker", "check_image"]

logger = logging.getLogger(__name__)


class MultiTargetTracker(MultiTargetEngine):
    """Several single-object targets in one video, searched in one batched call per frame.

    Build it like ``SiamTracker``: from a config (``MultiTargetTracker(cfg)``) or from a model
    (``MultiTargetTracker(model=model, penalty_k=..., ...)``).

    Example::

        tracker = MultiTargetTracker(cfg)
        tracker.init(first_frame_bgr, {"car": [x, y, w, h], "dog": [x2, y2, w2, h2]})
        for frame in frames:
            result = tracker.update(frame)          # MultiTrackResult
            for target_id, target in result.items():
                target.box_xywh, target.present, target.confidence
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
        search: Optional[SearchStrategy] = None,
        presence: Optional[Presence] = None,
        presence_threshold: float = 0.5,
        long_term: bool = False,
        redetect_after: int = 3,
        redetect_crops: int = 2,
        device: Optional[Union[str, torch.device]] = None,
        inference: InferenceOptions = InferenceOptions(),
        own_model: bool = False,
    ):
        """
        Args:
            model: a ``SiameseNetwork`` or any model with ``encode_template``, ``track``,
                ``template_size``, ``search_size``. It is never modified. May be None with
                ``inference.onnx_dir`` (exported graphs).
            context_amount, penalty_k, window_influence, lr, min_size: settings of the
                default search strategy (``search.PenaltyWindowSearch``: SiamRPN++ /
                NanoTrack), used when ``search`` is None.
            search: the family's search strategy (``search.py``), e.g. from
                ``build_search_strategy(cfg, ...)``.
            presence, presence_threshold, long_term, redetect_after, redetect_crops: as
                ``MultiTargetEngine`` (``engine.py``).
            device: "cpu", "cuda", "cuda:1", ...; ``None`` keeps the model's device.
            inference: how the network runs (backend and speed-ups, ``InferenceOptions``;
                ``InferenceOptions.eager()`` runs the model exactly as given).
            own_model: the tracker may change ``model`` in place (fold its BatchNorm, move
                it) instead of working on a copy: for a model nothing else uses. Trackers
                built from a config without a model own the model they build.
        """
        check_engine_settings(presence_threshold, redetect_after, redetect_crops)
        network = build_backend(model, inference, device, own_model=own_model)
        if search is None:
            search = PenaltyWindowSearch(
                template_size=network.template_size,
                search_size=network.search_size,
                context_amount=context_amount,
                penalty_k=penalty_k,
                window_influence=window_influence,
                lr=lr,
                min_size=min_size,
            )
        super().__init__(
            network,
            search,
            presence=presence,
            presence_threshold=presence_threshold,
            long_term=long_term,
            redetect_after=redetect_after,
            redetect_crops=redetect_crops,
        )

    @classmethod
    def from_config(
        cls,
        cfg: CfgNode,
        model: Optional[nn.Module] = None,
        device: Optional[Union[str, torch.device]] = None,
    ):
        device = resolve_device(cfg.MODEL.DEVICE if device is None else device)
        inference = InferenceOptions.from_config(cfg.TRACKER)
        own_model = model is None
        if own_model and not inference.onnx_dir:  # exported graphs need no model
            model = build_model_with_weights(cfg, device)
        presence_file = cfg.TRACKER.PRESENCE_MODEL
        return {
            "model": model,
            "search": build_search_strategy(
                cfg, cfg.MODEL.SIAMESE.TEMPLATE_SIZE, cfg.MODEL.SIAMESE.SEARCH_SIZE
            ),
            "presence": load_presence_model(presence_file) if presence_file else None,
            "presence_threshold": cfg.TRACKER.PRESENCE_THRESHOLD,
            "long_term": cfg.TRACKER.LONG_TERM,
            "redetect_after": cfg.TRACKER.REDETECT_AFTER,
            "redetect_crops": cfg.TRACKER.REDETECT_CROPS,
            "device": device,
            "inference": inference,
            "own_model": own_model,
        }

    # ------------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return self.network.device
