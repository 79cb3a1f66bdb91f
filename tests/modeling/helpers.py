"""Tiny SiameseRPN builders shared by the modeling and checkpoint tests."""

import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model

from siamtrack import add_siamtrack_config

from ..conftest import CONFIGS_DIR

TINY_PYSOT = CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_pysot_instant_test.yaml"
TINY_STANDARD = (
    CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"
)
TINY_CONFIGS = {"pysot": TINY_PYSOT, "standard": TINY_STANDARD}


def load_cfg(config_file, *opts):
    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_file(str(config_file))
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", *opts])
    return cfg


def build(config_file, *opts, seed=0, train=False):
    torch.manual_seed(seed)
    model = build_model(load_cfg(config_file, *opts))
    return model.train(train)


def random_images(batch, size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (batch, 3, size, size), generator=generator, dtype=torch.uint8)


def randomize_batchnorm(model, seed=0):
    """Give every BatchNorm non-trivial statistics and affine weights (in place)."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            n = module.num_features
            with torch.no_grad():
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
    return model


def make_pair(model, *, box_xyxy=None, negative=False, seed=0):
    """A mapper-style input dict with random crops and a target box in search coordinates."""
    size = model.search_size
    if box_xyxy is None:
        half = size / 2.0
        box_xyxy = [half - 40.0, half - 20.0, half + 40.0, half + 20.0]  # ~ the 88x40 anchor
    return {
        "template": random_images(1, model.template_size, seed)[0],
        "search": random_images(1, size, seed + 1)[0],
        "search_box_xyxy": torch.tensor(box_xyxy, dtype=torch.float32),
        "is_negative": negative,
        "dataset_name": "unit-test",
    }
