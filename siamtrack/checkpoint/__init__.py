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
from .model_loading import build_model_with_weights
from .siam_checkpointer import SiamCheckpointer

__all__ = [
    "InvalidCheckpointError",
    "SiamCheckpointer",
    "build_model_with_weights",
    "convert_checkpoint_file",
    "detect_state_dict_format",
    "pysot_to_siamtrack_state_dict",
    "read_checkpoint",
    "resnet_to_siamtrack_state_dict",
    "siamtrack_to_pysot_state_dict",
]
