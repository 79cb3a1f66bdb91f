"""What the SiamFC tests share: the configs, a tiny model with realistic BatchNorm statistics."""

import torch
from detectron2.modeling import build_model

from siamtrack import load_config

from ...conftest import CONFIGS_DIR

SIAMFC_CONFIGS = CONFIGS_DIR / "siamfc"
BASE = SIAMFC_CONFIGS / "Base-SiamFC.yaml"
TINY = SIAMFC_CONFIGS / "quick_schedules" / "siamfc_alexnet_tiny_instant_test.yaml"
QUICK = SIAMFC_CONFIGS / "quick_schedules" / "siamfc_alexnet_sample_coco_train_cpu.yaml"
RECIPE = SIAMFC_CONFIGS / "siamfc_alexnet_50e_bs8_vid_got10k.yaml"


def tiny_cfg(*opts):
    """The tiny (1/16 width) SiamFC config on the CPU, eager torch backend by default."""
    return load_config(str(TINY), ["MODEL.DEVICE", "cpu", *map(str, opts)])


def tiny_model(*opts, seed=0):
    """A tiny SiamFC in eval mode whose BatchNorm statistics come from random crops (so its
    scores are not saturated as with the initial mean 0 / variance 1)."""
    torch.manual_seed(seed)
    model = build_model(tiny_cfg(*opts))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            for size in (model.template_size, model.search_size):
                images = torch.randint(0, 256, (4, 3, size, size), generator=generator)
                model.backbone(model.normalize(images.float(), "images", _kind(model, size)))
    return model.eval()


def _kind(model, size):
    return "template" if size == model.template_size else "search"
