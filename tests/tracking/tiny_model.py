"""Tiny real SiameseRPN models (random weights) for tracker / CLI tests, from the configs under
``configs/siamrpn/quick_schedules/`` (pysot layout: 63/127 crops; standard layout: 65/129 crops)."""

from pathlib import Path

import torch
from detectron2.config import get_cfg

from siamtrack import add_siamtrack_config

from ..conftest import CONFIGS_DIR

TINY_PYSOT = CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_pysot_instant_test.yaml"
TINY_STANDARD = (
    CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"
)


def tiny_cfg(*extra_opts, config_file: Path = TINY_PYSOT):
    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_file(str(config_file))
    cfg.merge_from_list(["MODEL.DEVICE", "cpu"] + list(extra_opts))
    return cfg


def write_tiny_config(folder=None) -> Path:
    """The tiny pysot-layout config file (for the CLI tools)."""
    return TINY_PYSOT


def build_tiny_model(seed: int = 0, config_file: Path = TINY_PYSOT):
    from detectron2.modeling import build_model

    torch.manual_seed(seed)
    return build_model(tiny_cfg(config_file=config_file)).eval()
