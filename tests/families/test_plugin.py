"""Model families as plug-ins: each registered family follows the shared contracts, and a new
family (a SiamFC-like toy defined here) tracks, saves, loads and exports through the shared
code with nothing registered but its own parts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from detectron2.config import CfgNode as CN
from detectron2.config import configurable, get_cfg
from detectron2.layers import ShapeSpec
from detectron2.modeling import META_ARCH_REGISTRY, build_model
from torch import nn

from siamtrack import SiamTracker, add_siamtrack_config
from siamtrack.checkpoint import CHECKPOINT_FORMAT_REGISTRY, SiamCheckpointer
from siamtrack.cli import export_layouts as manifest_layouts
from siamtrack.config import CONFIG_ADDERS, register_config_adder
from siamtrack.export import check_export, export_graphs, export_layouts
from siamtrack.families import nanotrack, siamrpn
from siamtrack.modeling import (
    SIAM_HEAD_REGISTRY,
    DeviceCopies,
    SiameseNetwork,
    SiameseNetworkBase,
    SiamTrackOutput,
    depthwise_xcorr,
)

from ..conftest import CONFIGS_DIR
from ..modeling.helpers import build, load_cfg, random_images

FAMILY_CONFIGS = {
    "siamrpn": CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_pysot_instant_test.yaml",
    "nanotrack": CONFIGS_DIR / "nanotrack" / "nanotrack_v3.yaml",
}


@pytest.mark.parametrize("family", sorted(FAMILY_CONFIGS))
def test_registered_families_follow_the_contracts(family):
    cfg = load_cfg(FAMILY_CONFIGS[family])
    assert cfg.MODEL.META_ARCHITECTURE in META_ARCH_REGISTRY
    assert cfg.MODEL.SIAMESE.HEAD_NAME in SIAM_HEAD_REGISTRY
    model = build(FAMILY_CONFIGS[family]).eval()
    assert isinstance(model, SiameseNetwork)
    assert set(model.checkpoint_formats) <= set(CHECKPOINT_FORMAT_REGISTRY.names())
    templates = random_images(2, model.template_size)
    searches = random_images(2, model.search_size, seed=1)
    with torch.no_grad():
        kernels = model.encode_template(templates)
        assert isinstance(kernels, tuple) and all(k.shape[0] == 2 for k in kernels)
        raw = model.raw_outputs(kernels, searches)
        output = model.track(kernels, searches)
        # one head contract: flat kernels in, (cls logits, box regression) out
        images = model.normalize(searches, "search", "search")
        by_head = model.head.forward_with_kernels(kernels, model.features(images, "search"))
    assert all(torch.equal(a, b) for a, b in zip(raw, by_head))
    decoded = model.decode(*raw)
    assert torch.equal(output.scores, decoded.scores)
    size, anchors = model.score_size, model.num_anchors
    assert output.scores.shape == (2, anchors, size, size)
    assert output.boxes_cxcywh.shape == (2, anchors, size, size, 4)


def test_the_registries_hold_both_families():
    adders = {adder.__name__ for adder in CONFIG_ADDERS}
    assert {"add_siamrpn_config", "add_nanotrack_config"} <= adders
    assert (
        siamrpn.add_siamrpn_config in CONFIG_ADDERS
        and nanotrack.add_nanotrack_config in CONFIG_ADDERS
    )
    cfg = add_siamtrack_config(get_cfg())
    assert cfg.MODEL.SIAM_RPN.ANCHOR_STRIDE == 8 and cfg.MODEL.NANOTRACK.POINT_STRIDE == 16
    assert {"MultiLevelDepthwiseRPNHead", "NanoTrackV1Head", "NanoTrackV3Head"} <= {
        name for name, _ in SIAM_HEAD_REGISTRY
    }
    formats = CHECKPOINT_FORMAT_REGISTRY.names()
    assert formats[0] == "siamtrack" and {"pysot", "resnet", "nanotrack"} <= set(formats)
    # the tools read the layouts torch-free from the families' manifests: the same list
    assert export_layouts() == tuple(manifest_layouts()) == ("siamtrack", "opencv-nano")


# ---------------------------------------------------------------------- a third family
class ToyXCorrHead(nn.Module):
    """SiamFC's head: one plain cross-correlation of the features, a learned score scale."""

    @configurable
    def __init__(self, *, channels: int):
        super().__init__()
        self.channels = channels
        self.scale = nn.Conv2d(1, 1, 1)

    @classmethod
    def from_config(cls, cfg, input_shape):
        (shape,) = input_shape.values()
        return {"channels": shape.channels}

    def template_kernels(self, template_features):
        return (template_features[0],)

    def forward_with_kernels(self, kernels, search_features):
        score = self.scale(depthwise_xcorr(search_features[0], kernels[0]).sum(1, keepdim=True))
        cls_logits = torch.cat([-score, score], dim=1)  # (B, 2, H, W)
        box_regression = torch.zeros_like(cls_logits).repeat(1, 2, 1, 1)  # no regression
        return cls_logits, box_regression

    def forward(self, template_features, search_features):
        return self.forward_with_kernels(self.template_kernels(template_features), search_features)


class ToySiamFC(SiameseNetworkBase):
    """A tiny SiamFC: stride-8 conv features, plain xcorr, a box of fixed size per cell."""

    @configurable
    def __init__(self, *, backbone, head, box_side: float, stride: int, **base):
        super().__init__(backbone=backbone, **base)
        self.head = head
        self.stride = stride
        self.box_side = box_side
        with torch.no_grad():
            template = self.backbone(torch.zeros(1, 3, self.template_size, self.template_size))
            search = self.backbone(torch.zeros(1, 3, self.search_size, self.search_size))
        self._score_size = search.shape[-1] - template.shape[-1] + 1
        offsets = (torch.arange(self._score_size) - (self._score_size - 1) / 2) * stride
        grid_y, grid_x = torch.meshgrid(offsets, offsets, indexing="ij")
        centres = torch.stack([grid_x, grid_y], -1) + self.search_size / 2
        self._centres = DeviceCopies(centres.float())

    @classmethod
    def from_config(cls, cfg):
        channels = 4
        backbone = nn.Sequential(
            nn.Conv2d(3, channels, 5, stride=4), nn.ReLU(), nn.Conv2d(channels, channels, 3, 2)
        )
        head_shape = {"features": ShapeSpec(channels=channels, stride=8)}
        return {
            "backbone": backbone,
            "head": SIAM_HEAD_REGISTRY.get(cfg.MODEL.SIAMESE.HEAD_NAME)(cfg, head_shape),
            "box_side": cfg.MODEL.TOY_SIAMFC.BOX_SIDE,
            "stride": 8,
            **cls.base_args_from_config(cfg),
        }

    @property
    def score_size(self) -> int:
        return self._score_size

    @property
    def num_anchors(self) -> int:
        return 1

    def features(self, images, kind):
        return [self.backbone(images)]

    def decode(self, cls_logits, box_regression):
        scores = F.softmax(cls_logits.float(), dim=1)[:, 1:2]
        centres = self._centres.on(scores.device).expand(scores.shape[0], 1, -1, -1, -1)
        sides = torch.full_like(centres, self.box_side)
        return SiamTrackOutput(scores, torch.cat([centres, sides], dim=-1))

    def losses(self, template_images, search_images, boxes_xyxy, is_negative):
        cls_logits, _ = self.head_outputs(template_images, search_images)
        return {"loss_cls": cls_logits.float().pow(2).mean()}


def add_toy_siamfc_config(cfg):
    cfg.MODEL.TOY_SIAMFC = CN()
    cfg.MODEL.TOY_SIAMFC.BOX_SIDE = 40.0


@pytest.fixture
def toy_family():
    """Registers the toy family's parts for one test (as importing a family package would),
    and removes them afterwards."""
    META_ARCH_REGISTRY.register(ToySiamFC)
    SIAM_HEAD_REGISTRY.register(ToyXCorrHead)
    register_config_adder(add_toy_siamfc_config)
    try:
        yield
    finally:
        META_ARCH_REGISTRY._obj_map.pop("ToySiamFC")
        SIAM_HEAD_REGISTRY._obj_map.pop("ToyXCorrHead")
        CONFIG_ADDERS.remove(add_toy_siamfc_config)


def _toy_config():
    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_list(
        [
            "MODEL.META_ARCHITECTURE", "ToySiamFC", "MODEL.SIAMESE.HEAD_NAME", "ToyXCorrHead",
            "MODEL.SIAMESE.TEMPLATE_SIZE", 63, "MODEL.SIAMESE.SEARCH_SIZE", 127,
            "MODEL.PIXEL_MEAN", [0.0, 0.0, 0.0], "MODEL.PIXEL_STD", [1.0, 1.0, 1.0],
            "MODEL.DEVICE", "cpu", "MODEL.TOY_SIAMFC.BOX_SIDE", 32.0, "TRACKER.BACKEND", "torch",
        ]
    )  # fmt: skip
    return cfg


def test_a_new_family_tracks_saves_and_exports_through_the_shared_code(toy_family, tmp_path):
    cfg = _toy_config()
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    assert isinstance(model, SiameseNetwork) and model.score_size == 9

    frame = np.full((240, 320, 3), 90, np.uint8)
    frame[100:140, 150:190] = 220
    tracker = SiamTracker(cfg, model=model)
    tracker.init(frame, [150, 100, 40, 40])
    result = tracker.update(frame)
    assert np.isfinite(result.box_xywh).all() and 0.0 <= result.score <= 1.0

    SiamCheckpointer(model, save_dir=str(tmp_path)).save("model_final")
    torch.manual_seed(1)
    copy = build_model(cfg).eval()
    SiamCheckpointer(copy).load(str(tmp_path / "model_final.pth"))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in copy.state_dict().items())

    graphs = export_graphs(model, "siamtrack")
    assert graphs.metadata["meta_architecture"] == "ToySiamFC"
    for difference in check_export(model, graphs, batch_sizes=(1, 2)):
        assert difference.max_rel < 1e-4, str(difference)
