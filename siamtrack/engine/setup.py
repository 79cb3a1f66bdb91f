"""Training set-up for tools/train_net.py (detectron2's ``setup(args)`` pattern; its arguments:
``siamtrack.cli.training_argument_parser``)."""

import os

from detectron2.config import CfgNode
from detectron2.engine import default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..config import load_config

__all__ = ["check_no_previous_run", "setup_training"]


def check_no_previous_run(output_dir: str, resume: bool) -> None:
    """Refuse to start a fresh run (``resume`` False) in a folder that holds a training run
    (a ``last_checkpoint`` tag): its checkpoints would be replaced.

    Raises:
        FileExistsError: naming the folder and its last checkpoint.
    """
    last = os.path.join(output_dir, "last_checkpoint")
    if not resume and os.path.isfile(last):
        with open(last) as f:
            name = f.read().strip()
        raise FileExistsError(
            f"OUTPUT_DIR {output_dir} already holds a training run (last checkpoint: {name}): "
            "resume it (--resume) or set OUTPUT_DIR to a new folder"
        )


def setup_training(args) -> CfgNode:
    """Frozen config for ``tools/train_net.py`` arguments, after detectron2's ``default_setup``
    (output dir, logging, config dump, seeding)."""
    cfg = load_config(args.config_file, args.opts)
    if getattr(args, "trust_weights", False):
        cfg.MODEL.TRUST_WEIGHTS = True
    if not args.eval_only:
        check_no_previous_run(cfg.OUTPUT_DIR, args.resume)
    cfg.freeze()
    default_setup(cfg, args)
    setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="siamtrack")
    return cfg
