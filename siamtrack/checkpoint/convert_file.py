"""Convert a weight file of a registered format (e.g. pysot's ``model.pth``) to a siamtrack
checkpoint file."""

import os
from typing import Any, Dict, Optional, Sequence

import torch
from torch import nn

from ..io.files import OutputExistsError, atomic_output
from .formats import SIAMTRACK_FORMAT, InvalidCheckpointError, read_checkpoint
from .siam_checkpointer import SiamCheckpointer

__all__ = ["convert_checkpoint_file"]


def convert_checkpoint_file(
    input_path: str,
    output_path: str,
    *,
    model: Optional[nn.Module] = None,
    overwrite: bool = False,
    trust: bool = False,
    formats: Optional[Sequence[str]] = None,
) -> Dict[str, Any]:
    """Read ``input_path`` (a file of a registered checkpoint format other than siamtrack's
    own), convert its keys and write ``{"model": state_dict, "__author__": ..., "source": input_path}`` to
    ``output_path``, which ``SiamCheckpointer`` (and plain ``DetectionCheckpointer``) load.

    Args:
        input_path: the file to convert.
        output_path: where to write; an existing file is kept unless ``overwrite``.
        model: if given (e.g. built from the matching config), the converted weights are
            loaded into it first, so shape or coverage problems stop the conversion.
        overwrite: replace an existing ``output_path``.
        trust: read ``input_path`` with full unpickling (``safe_load.py``).
        formats: the formats accepted (default: every registered one but siamtrack's).

    Returns:
        {"format": detected input format, "num_tensors": int, "output": output_path}.

    Raises:
        OutputExistsError: ``output_path`` exists and ``overwrite`` is False.
        InvalidCheckpointError: unreadable input, unmapped keys, or weights that do not fit.
    """
    if os.path.exists(output_path) and not overwrite:
        raise OutputExistsError(output_path, "converted checkpoint")
    fmt, state_dict, _ = read_checkpoint(input_path, trust=trust)
    if fmt == SIAMTRACK_FORMAT or (formats is not None and fmt not in formats):
        accepted = " or ".join(formats) if formats is not None else "another tracker's"
        raise InvalidCheckpointError(f"{input_path} is a '{fmt}' checkpoint, not a {accepted} one")
    if model is not None:
        SiamCheckpointer(model).load_weights(state_dict, fmt=fmt, source=input_path)
    data = {"model": state_dict, "__author__": f"siamtrack (from {fmt})", "source": input_path}
    with atomic_output(output_path, suffix=".tmp") as temp_path:
        torch.save(data, temp_path)
    return {"format": fmt, "num_tensors": len(state_dict), "output": output_path}
