"""What every network backend relies on: the model contract check, the model's device,
feature batches (requested devices: ``siamtrack.utils.devices``)."""

from typing import Any

import torch
from torch import nn

from .graph_backend import same_container  # feature batches (torch-free, shared)

__all__ = ["check_network_contract", "model_device", "same_container"]


def model_device(model: nn.Module) -> torch.device:
    device = getattr(model, "device", None)
    if device is not None:
        return torch.device(device)
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device
    return torch.device("cpu")


def check_network_contract(model: Any) -> None:
    for name in ("encode_template", "track", "template_size", "search_size", "score_size",
                 "num_anchors"):  # fmt: skip
        if not hasattr(model, name):
            raise TypeError(
                f"{type(model).__name__} has no '{name}': trackers need a model with "
                "encode_template(), track(), template_size, search_size, score_size and "
                "num_anchors (SiameseNetwork)"
            )
