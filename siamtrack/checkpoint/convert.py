"""Convert a pysot (or torchvision-named ResNet) weight file to a siamtrack checkpoint file."""

import os
from typing import Any, Dict, Optional

import torch
from torch import nn

from ..io.files import OutputExistsError, atomic_output
from .conversion import InvalidCheckpointError, read_checkpoint
from .siam_checkpointer import SiamCheckpointer

__all__ = ["convert_checkpoint_file"]


def convert_checkpoint_file(
    input_path: str,
    output_path: str,
    *,
    model: Optional[nn.Module] = None,
    overwrite: bool = False,
    trust: bool = False,
) -> Dict[str, Any]:
    """Read ``input_path`` (pysot ``model.pth`` or a torchvision-named ResNet), rename its keys
    and write ``{"model": state_dict, "__author__": ..., "source": input_path}`` to
    ``output_path``, which ``SiamCheckpointer`` (and plain ``DetectionCheckpointer``) load.

    Args:
        input_path: the file to convert.
        output_path: where to write; an existing file is kept unless ``overwrite``.
        model: if given (e.g. built from the matching config), the converted weights are
            loaded into it first, so shape or coverage problems stop the conversion.
        overwrite: replace an existing ``output_path``.
        trust: read ``input_path`` with full unpickling (``safe_load.py``).

    Returns:
        {"format": detected input format, "num_tensors": int, "output": output_path}.

    Raises:
        OutputExistsError: ``output_path`` exists and ``overwrite`` is False.
        InvalidCheckpointError: unreadable input, unmapped keys, or weights that do not fit.
    """
    if os.path.exists(output_path) and not overwrite:
        raise OutputExistsError(output_path, "converted checkpoint")
    fmt, state_dict, _ = read_checkpoint(input_path, trust=trust)
    if fmt not in ("pysot", "resnet"):
        raise InvalidCheckpointError(
            f"{input_path} is a '{fmt}' checkpoint, not a pysot or torchvision-named ResNet one"
        )
    if model is not None:
        SiamCheckpointer(model).load_weights(state_dict, fmt=fmt, source=input_path)
    data = {"model": state_dict, "__author__": f"siamtrack (from {fmt})", "source": input_path}
    with atomic_output(output_path, suffix=".tmp") as temp_path:
        torch.save(data, temp_path)
    return {"format": fmt, "num_tensors": len(state_dict), "output": output_path}
