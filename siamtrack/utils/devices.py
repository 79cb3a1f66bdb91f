"""Devices: the best one of this machine, and a requested one checked (``MODEL.DEVICE``,
``--device``, ``device=``).

``"auto"`` (or an empty value) means the best device: CUDA when it is available, else the CPU.
siamtrack's config sets ``MODEL.DEVICE`` to the best device (detectron2's default is "cuda"),
so CPU machines run without being told. A request for CUDA on a machine without it is an error
(``BadInputError``), not a silent fallback.
"""

from typing import Optional, Union

import torch

from ..errors import BadInputError

__all__ = ["AUTO_DEVICE", "best_device", "resolve_device"]

AUTO_DEVICE = "auto"


def best_device() -> str:
    """ "cuda" when a GPU is usable, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device: Optional[Union[str, torch.device]]) -> torch.device:
    """The ``torch.device`` to run on.

    Args:
        device: None, "" or "auto" (the best device, ``best_device``), or a torch device
            ("cpu", "cuda", "cuda:1", ...).

    Raises:
        BadInputError: not a torch device, or CUDA requested where it is not available.
    """
    if device is None or str(device) in ("", AUTO_DEVICE):
        return torch.device(best_device())
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise BadInputError(
            f"device '{device}' is not a valid torch device ('auto', 'cpu', 'cuda', ...)"
        ) from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise BadInputError(
            f"device '{device}' was requested but CUDA is not available "
            f"(torch {torch.__version__}); use device 'cpu' or 'auto'"
        )
    return resolved
