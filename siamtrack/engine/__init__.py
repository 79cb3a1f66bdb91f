"""Training: ``SiamTrainer`` (detectron2 DefaultTrainer + SiamRPN++ recipe) and launching."""

from .launch import launch
from .setup import check_no_previous_run, setup_training
from .trainer import SiamTrainer

__all__ = [
    "SiamTrainer",
    "check_no_previous_run",
    "launch",
    "setup_training",
]
