"""Model-zoo configs and models by name, as ``detectron2.model_zoo.get_config`` / ``get``.

Used as ``siamtrack.model_zoo.get_config(name)`` and ``siamtrack.model_zoo.get(name)``: the
torch-free ``siamtrack.model_zoo`` forwards both names here on first use (PEP 562
``__getattr__``). They live in this top layer because they build on ``siamtrack.config`` and
``siamtrack.checkpoint``, which sit above ``siamtrack.model_zoo`` (the checkpointer imports it
to resolve weights); every import here points down.

``name`` is a model-zoo name (``"nanotrack_v3"``) or a config path relative to the configs
shipped with the package (``"nanotrack/nanotrack_v3.yaml"``), as detectron2 takes
``"COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml"``::

    from siamtrack import SiamTracker, model_zoo

    tracker = SiamTracker(model_zoo.get_config("nanotrack_v3"))
    model = model_zoo.get("nanotrack_v3", device="cpu")
"""

from typing import Optional, Union

import torch
from detectron2.config import CfgNode
from torch import nn

from .checkpoint import build_model_with_weights
from .config import load_config
from .model_zoo import get_config_file, get_weights_name

__all__ = ["get", "get_config"]


def get_config(name: str, trained: bool = True) -> CfgNode:
    """The loaded config (``_BASE_`` merged, not frozen) of a model-zoo model or shipped config.

    Args:
        name: zoo name or config path relative to the configs folder
            (:func:`siamtrack.model_zoo.get_config_file`).
        trained: set ``MODEL.WEIGHTS`` to the zoo name of the trained weights (resolved when the
            model is built: ``$SIAMTRACK_WEIGHTS_DIR``, the cache, else a verified download);
            False sets it to ``""`` (random initialisation).

    Raises:
        UnknownModelError: ``name`` is neither a zoo name nor a config path.
        FileNotFoundError: no such config.
        ValueError: ``trained`` and the config is not one of a zoo model (a base or training
            config).
    """
    config_file = get_config_file(name)
    weights = get_weights_name(name) if trained else ""
    cfg = load_config(config_file)
    cfg.MODEL.WEIGHTS = weights
    return cfg


def get(
    name: str, trained: bool = True, device: Optional[Union[str, torch.device]] = None
) -> nn.Module:
    """The model of ``get_config(name, trained)``, built with its weights loaded.

    Unlike detectron2's ``model_zoo.get`` (training mode), the model is in eval mode, ready for
    ``SiamTracker(model=...)`` or export; call ``.train()`` to fine-tune it.

    Args:
        name: zoo name or config path relative to the configs folder.
        trained: load the zoo's trained weights (see :func:`get_config`); False keeps the
            random initialisation.
        device: where to build the model; default the config's ``MODEL.DEVICE`` ("cpu" on a
            machine without CUDA).

    Raises:
        as :func:`get_config`; OSError (``WeightsUnavailableError``, ``WeightsChecksumError``):
        the weights are neither local nor downloadable; ValueError: they do not fit the model.
    """
    cfg = get_config(name, trained)
    return build_model_with_weights(cfg, cfg.MODEL.DEVICE if device is None else device)
