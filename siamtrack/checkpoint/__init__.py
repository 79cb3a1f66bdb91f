"""Checkpoints: ``SiamCheckpointer`` (siamtrack, pysot and ImageNet weights) and converters."""

from .conversion import (
    InvalidCheckpointError,
    detect_state_dict_format,
    pysot_to_siamtrack_state_dict,
    read_checkpoint,
    resnet_to_siamtrack_state_dict,
    siamtrack_to_pysot_state_dict,
)
from .convert import convert_checkpoint_file
from .siam_checkpointer import SiamCheckpointer

__all__ = [
    "InvalidCheckpointError",
    "SiamCheckpointer",
    "convert_checkpoint_file",
    "detect_state_dict_format",
    "pysot_to_siamtrack_state_dict",
    "read_checkpoint",
    "resnet_to_siamtrack_state_dict",
    "siamtrack_to_pysot_state_dict",
]
