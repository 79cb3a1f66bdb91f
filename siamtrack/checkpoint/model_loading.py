"""A config's model on a device with its weights loaded: what trackers and exports start from."""

import logging
from typing import Optional, Union

import torch
from detectron2.config import CfgNode
from detectron2.modeling import build_model
from torch import nn

from ..errors import BadInputError
from .siam_checkpointer import SiamCheckpointer

__all__ = ["build_model_with_weights"]

logger = logging.getLogger(__name__)


def build_model_with_weights(
    cfg: CfgNode,
    device: Optional[Union[str, torch.device]] = "cpu",
    *,
    weights: Optional[str] = None,
    require_weights: bool = False,
) -> nn.Module:
    """Build ``cfg.MODEL`` on ``device`` in eval mode and load its weights.

    Args:
        cfg: a siamtrack config; not modified.
        device: where to build the model.
        weights: a checkpoint file (any format siamtrack reads) or a model zoo name; default
            ``cfg.MODEL.WEIGHTS``. Read with ``cfg.MODEL.TRUST_WEIGHTS``.
        require_weights: an empty ``weights`` is an error (exports), not a warning (trackers
            tracking with random weights, e.g. in tests).

    Raises:
        ValueError: ``weights`` is empty and required, or the file does not fit the model
            (``InvalidCheckpointError``); OSError: the file is missing or cannot be fetched.
    """
    weights = cfg.MODEL.WEIGHTS if weights is None else weights
    if not weights and require_weights:
        raise BadInputError(
            "no weights: give a checkpoint file or a model zoo name (MODEL.WEIGHTS)"
        )
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = str(device)
    model = build_model(cfg).eval()
    if weights:
        SiamCheckpointer(model, trust_weights=cfg.MODEL.TRUST_WEIGHTS).load(weights)
    else:
        logger.warning("MODEL.WEIGHTS is empty: the model keeps its random initialisation")
    return model
