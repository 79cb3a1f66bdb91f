"""Checkpoints: ``SiamCheckpointer`` (siamtrack checkpoints and every registered weight-file
format) and the format registry.

``formats.py`` reads weight files, tells their format apart and converts their keys through
``CHECKPOINT_FORMAT_REGISTRY`` (the model families register their formats: pysot's SiamRPN++
files, NanoTrack's releases, ImageNet ResNets); ``convert_file.py`` turns such a file into a
siamtrack checkpoint file.
"""

from .convert_file import convert_checkpoint_file
from .formats import (
    CHECKPOINT_FORMAT_REGISTRY,
    CheckpointFormat,
    InvalidCheckpointError,
    checkpoint_format,
    convert_state_dict,
    detect_state_dict_format,
    read_checkpoint,
    register_checkpoint_format,
)
from .model_loading import build_model_with_weights
from .siam_checkpointer import SiamCheckpointer

__all__ = [
    "CHECKPOINT_FORMAT_REGISTRY",
    "CheckpointFormat",
    "InvalidCheckpointError",
    "SiamCheckpointer",
    "build_model_with_weights",
    "checkpoint_format",
    "convert_checkpoint_file",
    "convert_state_dict",
    "detect_state_dict_format",
    "read_checkpoint",
    "register_checkpoint_format",
]
