"""Training: ``SiamTrainer`` (detectron2 DefaultTrainer + SiamRPN++ recipe) and launching."""

from .launch import launch
from .setup import check_output_dir, setup_training, training_argument_parser
from .trainer import SiamTrainer

__all__ = [
    "SiamTrainer",
    "launch",
    "setup_training",
    "training_argument_parser",
    "check_output_dir",
]
