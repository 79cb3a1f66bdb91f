"""What every network backend relies on: the model contract check, devices, feature batches."""

import logging
from typing import Any, Optional, Sequence, Union

import torch
from torch import nn

__all__ = [
    "available_device",
    "check_network_contract",
    "model_device",
    "resolve_device",
    "same_container",
]

logger = logging.getLogger(__name__)


def resolve_device(device: Optional[Union[str, torch.device]]) -> torch.device:
    """``None`` -> "cuda" when a GPU is usable, else "cpu"; a CUDA request without a GPU fails."""
    if device is None or str(device) == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device '{device}' is not a valid torch device ('cpu', 'cuda', ...)"
        ) from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device '{device}' was requested but CUDA is not available "
            f"(torch {torch.__version__}); use device 'cpu'"
        )
    return resolved


def model_device(model: nn.Module) -> torch.device:
    device = getattr(model, "device", None)
    if device is not None:
        return torch.device(device)
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device
    return torch.device("cpu")


def check_network_contract(model: Any) -> None:
    for name in ("encode_template", "track", "template_size", "search_size"):
        if not hasattr(model, name):
            raise TypeError(
                f"{type(model).__name__} has no '{name}': trackers need a model with "
                "encode_template(), track(), template_size and search_size (SiameseNetwork)"
            )


def same_container(like: Sequence[Any], items: Sequence[Any]):
    """``items`` in the tuple type of ``like`` (a plain tuple or a NamedTuple)."""
    make = getattr(type(like), "_make", None)
    return make(items) if make is not None else tuple(items)


def available_device(requested: str) -> str:
    """``MODEL.DEVICE`` as it can run here: "cuda..." falls back to "cpu" (with a warning) on
    machines without CUDA, so a config written for a GPU machine still runs."""
    if str(requested).startswith("cuda") and not torch.cuda.is_available():
        logger.warning(f"MODEL.DEVICE is '{requested}' but CUDA is not available: using cpu")
        return "cpu"
    return str(requested)
