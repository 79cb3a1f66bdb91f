"""Training: ``SiamTrainer`` (detectron2 DefaultTrainer + SiamRPN++ recipe) and launching."""

from .launch import launch
from .setup import check_output_dir, load_config, setup_training
from .trainer import SiamTrainer

__all__ = ["SiamTrainer", "launch", "load_config", "setup_training", "check_output_dir"]
