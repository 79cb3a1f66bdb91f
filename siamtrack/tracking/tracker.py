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

The single-target API itself is ``SingleTargetTracker``'s (``single_target.py``, torch-free);
this class adds the construction from a config or a model.
"""

from typing import Optional, Union

import torch
from detectron2.config import CfgNode, configurable
from torch import nn

from .multi_target import MultiTargetTracker
from .single_target import OneTargetMessages, SingleTargetTracker

__all__ = ["SiamTracker"]


class _OneTarget(OneTargetMessages, MultiTargetTracker):
    """``MultiTargetTracker`` for one target (messages name no target)."""


class SiamTracker(SingleTargetTracker):
    """Single-object tracker (SiamRPN++, NanoTrack).

    Build it from a config (``SiamTracker(cfg)``: builds the model, loads ``cfg.MODEL.WEIGHTS``
    (a checkpoint file or a model zoo name) and reads ``cfg.TRACKER.*``) or from a model
    (``SiamTracker(model=model, penalty_k=0.05, ...)``). Several trackers with different
    settings can share a process, and trackers built from the same model share its weights.

    Example::

        tracker = SiamTracker(cfg)
        tracker.init(first_frame_bgr, [x, y, w, h])
        for frame in frames:
            result = tracker.update(frame)   # TrackResult(box_xywh, score, ..., present, confidence)
    """

    @configurable
    def __init__(self, model: Optional[nn.Module] = None, **settings):
        """Arguments as ``MultiTargetTracker``'s: ``model`` and the keyword-only
        ``context_amount``, ``penalty_k``, ``window_influence``, ``lr``, ``min_size``,
        ``search``, ``presence``, ``presence_threshold``, ``long_term``, ``redetect_after``,
        ``redetect_crops``, ``device``, ``inference``, ``own_model``."""
        super().__init__(_OneTarget(model, **settings))

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
    def device(self) -> torch.device:
        return self._tracker.device
