"""Config set-up shared by the command-line tools (detectron2's ``setup(args)`` pattern)."""

import logging
import os
from typing import List, Optional

import torch
from detectron2.config import CfgNode, get_cfg
from detectron2.engine import default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..config import add_siamtrack_config

logger = logging.getLogger(__name__)


def load_config(config_file: str, opts: Optional[List[str]] = None) -> CfgNode:
    """``get_cfg()`` + ``add_siamtrack_config`` + the yaml (with ``_BASE_``) + ``KEY VALUE`` opts.

    ``MODEL.DEVICE`` "cuda" falls back to "cpu" (with a warning) on machines without CUDA.
    """
    if not config_file:
        raise ValueError("--config-file is required (e.g. configs/siamrpn_R_50_l234_dwxcorr.yaml)")
    if not os.path.isfile(config_file):
        raise FileNotFoundError(f"config file {config_file} does not exist")
    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_file(config_file)
    opts = list(opts or [])
    if len(opts) % 2:
        raise ValueError(f"config overrides must be KEY VALUE pairs, got an odd list: {opts}")
    cfg.merge_from_list(opts)
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        logger.warning(f"MODEL.DEVICE is {cfg.MODEL.DEVICE} but CUDA is not available: using cpu")
        cfg.MODEL.DEVICE = "cpu"
    return cfg


def check_output_dir(output_dir: str, resume: bool) -> None:
    """Refuse to start a fresh run over an existing run's checkpoints (they would be replaced)."""
    last = os.path.join(output_dir, "last_checkpoint")
    if not resume and os.path.isfile(last):
        with open(last) as f:
            name = f.read().strip()
        raise FileExistsError(
            f"OUTPUT_DIR {output_dir} already holds a training run (last checkpoint: {name}). "
            "Pass --resume to continue it, or set OUTPUT_DIR to a new folder."
        )


def setup_training(args) -> CfgNode:
    """Frozen config for ``tools/train_net.py`` arguments, after detectron2's ``default_setup``
    (output dir, logging, config dump, seeding)."""
    cfg = load_config(args.config_file, args.opts)
    if not args.eval_only:
        check_output_dir(cfg.OUTPUT_DIR, args.resume)
    cfg.freeze()
    default_setup(cfg, args)
    setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="siamtrack")
    return cfg
