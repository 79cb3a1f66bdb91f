"""Training set-up for tools/train_net.py (detectron2's ``setup(args)`` pattern)."""

import argparse
import os

from detectron2.config import CfgNode
from detectron2.engine import default_argument_parser, default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..config import load_config


def check_output_dir(output_dir: str, resume: bool) -> None:
    """Refuse to start a fresh run over an existing run's checkpoints (they would be replaced)."""
    last = os.path.join(output_dir, "last_checkpoint")
    if not resume and os.path.isfile(last):
        with open(last) as f:
            name = f.read().strip()
        raise FileExistsError(
            f"OUTPUT_DIR {output_dir} already holds a training run (last checkpoint: {name}): "
            "resume it (--resume) or set OUTPUT_DIR to a new folder"
        )


def training_argument_parser() -> argparse.ArgumentParser:
    """detectron2's ``default_argument_parser`` (``--config-file``, ``--resume``,
    ``--eval-only``, ``--num-gpus``, ..., trailing ``KEY VALUE`` overrides) plus
    ``--trust-weights``."""
    parser = default_argument_parser()
    parser.add_argument(
        "--trust-weights",
        action="store_true",
        help="load MODEL.WEIGHTS / resumed checkpoints with full unpickling (trusted files only)",
    )
    return parser


def setup_training(args) -> CfgNode:
    """Frozen config for ``tools/train_net.py`` arguments, after detectron2's ``default_setup``
    (output dir, logging, config dump, seeding)."""
    cfg = load_config(args.config_file, args.opts)
    if getattr(args, "trust_weights", False):
        cfg.MODEL.TRUST_WEIGHTS = True
    if not args.eval_only:
        check_output_dir(cfg.OUTPUT_DIR, args.resume)
    cfg.freeze()
    default_setup(cfg, args)
    setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="siamtrack")
    return cfg
