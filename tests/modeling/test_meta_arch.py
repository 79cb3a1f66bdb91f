"""SiameseRPN contract: shapes per config, inference API, training forward, bad input."""

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from siamtrack.families.siamrpn import SiameseRPN
from siamtrack.modeling import SiamTrackOutput

from ..conftest import CONFIGS_DIR
from .helpers import TINY_CONFIGS, build, load_cfg, make_pair, random_images

# expected (A, H, W) score map of the model configs (others, e.g. training schedules that
# inherit them, are run too and checked for consistency)
EXPECTED_SCORE_MAPS = {
    "siamrpn/quick_schedules/siamrpn_tiny_pysot_instant_test.yaml": (5, 11, 11),
    "siamrpn/quick_schedules/siamrpn_tiny_standard_instant_test.yaml": (5, 13, 13),
    "siamrpn/siamrpn_R_18_narrow_l23_dwxcorr_cpu.yaml": (5, 27, 27),
    "siamrpn/siamrpn_R_50_l234_dwxcorr.yaml": (5, 25, 25),
    "siamrpn/siamrpn_R_50_std_l234_dwxcorr.yaml": (5, 27, 27),
    "siamrpn/siamrpn_alex_upxcorr.yaml": (5, 21, 21),
    "siamrpn/siamrpn_alex_dwxcorr.yaml": (5, 21, 21),
    "siamrpn/quick_schedules/siamrpn_alex_upxcorr_tiny_instant_test.yaml": (5, 17, 17),
}
# full-width R-50s are shrunk to 1/8 width here (geometry does not depend on width); the real
# widths are run in test_full_pysot_model_parameters_and_shapes
SHRINK_R50 = [
    "MODEL.RESNETS.WIDTH_PER_GROUP", 8, "MODEL.RESNETS.RES2_OUT_CHANNELS", 32,
    "MODEL.RESNETS.STEM_OUT_CHANNELS", 16,
    "MODEL.SIAM_NECK.OUT_CHANNELS", 16, "MODEL.SIAM_RPN.HIDDEN_CHANNELS", 16,
]  # fmt: skip
# SiamRPN++ configs (NanoTrack's are checked in test_nanotrack.py)
ALL_CONFIGS = sorted(
    str(p.relative_to(CONFIGS_DIR))
    for p in (CONFIGS_DIR / "siamrpn").rglob("*.yaml")
    if p.name != "Base-SiamRPN.yaml"
)


def test_model_configs_exist():
    assert set(EXPECTED_SCORE_MAPS) <= set(ALL_CONFIGS)


@pytest.mark.parametrize("name", ALL_CONFIGS)
def test_output_shapes_per_config(name):
    cfg = load_cfg(CONFIGS_DIR / name)
    alexnet = cfg.MODEL.BACKBONE.NAME == "build_alexnet_backbone"
    opts = (
        SHRINK_R50
        if not alexnet and cfg.MODEL.RESNETS.DEPTH >= 50 and cfg.MODEL.RESNETS.WIDTH_PER_GROUP > 8
        else []
    )
    model = build(CONFIGS_DIR / name, *opts).eval()
    assert isinstance(model, SiameseRPN)
    num_anchors, height, width = EXPECTED_SCORE_MAPS.get(
        name, (model.num_anchors, model.score_size, model.score_size)
    )
    assert (model.num_anchors, model.score_size) == (num_anchors, height)
    stages = ["conv1", "conv2", "conv3"] if alexnet else ["stem", "res2", "res3"]
    assert [n for n, _ in model.backbone.named_children()][:3] == stages
    with torch.no_grad():
        features = model.encode_template(random_images(1, model.template_size))
        output = model.track(features, random_images(2, model.search_size, seed=1))
    assert isinstance(features, tuple) and isinstance(output, SiamTrackOutput)
    assert all(isinstance(f, torch.Tensor) and f.shape[0] == 1 for f in features)
    assert output.scores.shape == (2, num_anchors, height, width)
    assert output.boxes_cxcywh.shape == (2, num_anchors, height, width, 4)
    assert ((output.scores >= 0) & (output.scores <= 1)).all()


def test_full_pysot_model_parameters_and_shapes():
    torch.manual_seed(0)
    cfg = load_cfg(
        CONFIGS_DIR / "siamrpn" / "siamrpn_R_50_l234_dwxcorr.yaml", "MODEL.BACKBONE.FREEZE_AT", 0
    )
    model = build_model(cfg).eval()
    assert sum(p.numel() for p in model.parameters()) == 53_950_624
    assert len(model.state_dict()) == 458
    with torch.no_grad():
        features = model.encode_template(random_images(1, 127))
        output = model.track(features, random_images(1, 255))
    assert [tuple(k.shape) for k in features[:3]] == [(1, 256, 5, 5)] * 3  # cls kernels
    assert output.scores.shape == (1, 5, 25, 25)


@pytest.fixture(scope="module")
def tiny():
    return build(TINY_CONFIGS["pysot"]).eval()


def test_track_uses_cached_kernels_and_accepts_uint8_or_float(tiny):
    template = random_images(1, tiny.template_size)
    search = random_images(2, tiny.search_size, seed=3)
    with torch.no_grad():
        features = tiny.encode_template(template)
        shared = tiny.track(features, search)
        # per-sample kernels (batch 2) give the same result as one shared kernel
        paired = tiny.track(tiny.encode_template(template.expand(2, -1, -1, -1)), search.float())
        separate = tiny(
            [{"template": template[0], "search": search[i]} for i in range(2)]
        )  # eval forward
    # random weights give large activations: compare with a relative tolerance
    torch.testing.assert_close(shared.scores, paired.scores, rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(shared.boxes_cxcywh, paired.boxes_cxcywh, rtol=1e-3, atol=1e-2)
    assert set(separate[1]) == {"scores", "boxes_cxcywh"}
    torch.testing.assert_close(separate[1]["scores"], shared.scores[1], rtol=1e-3, atol=1e-4)
    levels = len(tiny.head.in_features)
    assert len(features) == 2 * levels  # cls kernels of every level, then loc kernels
    assert all(f.shape[0] == 1 for f in features)


def test_boxes_are_anchors_when_deltas_are_zero(tiny):
    model = build(TINY_CONFIGS["standard"]).eval()
    for branch in (model.head.levels[name].loc for name in model.head.in_features):
        torch.nn.init.zeros_(branch.predictor.weight)
        torch.nn.init.zeros_(branch.predictor.bias)
    with torch.no_grad():
        output = model.track(
            model.encode_template(random_images(1, model.template_size)),
            random_images(1, model.search_size),
        )
    torch.testing.assert_close(output.boxes_cxcywh[0], model.anchors_cxcywh)
    centre = model.anchors_cxcywh[:, model.score_size // 2, model.score_size // 2, :2]
    assert centre.unique().tolist() == [model.search_size / 2.0]


@pytest.mark.parametrize(
    "shape, message",
    [
        ((1, 3, 64, 64), r"\(B, 3, 63, 63\).*got shape \(1, 3, 64, 64\)"),
        ((1, 4, 63, 63), r"\(B, 3, 63, 63\) BGR NCHW"),
        ((1, 63, 63, 3), r"template size of this model: 63"),
        ((3, 63, 63), r"got shape \(3, 63, 63\)"),
    ],
)
def test_wrong_template_shape_is_explained(tiny, shape, message):
    with pytest.raises(ValueError, match=message):
        tiny.encode_template(torch.zeros(shape, dtype=torch.uint8))


def test_wrong_search_shape_and_batch_are_explained(tiny):
    features = tiny.encode_template(random_images(2, tiny.template_size))
    with pytest.raises(ValueError, match=r"search size of this model: 127"):
        tiny.track(features, torch.zeros(2, 3, 255, 255))
    with pytest.raises(ValueError, match="batch 2; expected 1 or the search batch 3"):
        tiny.track(features, random_images(3, tiny.search_size))
    with pytest.raises(TypeError, match="must be a"):
        tiny.track(features, [[0]])


def test_training_forward_returns_weighted_losses_and_ignores_extra_keys():
    model = build(TINY_CONFIGS["pysot"], "MODEL.SIAM_RPN.LOC_LOSS_WEIGHT", 0.0, train=True)
    pairs = [make_pair(model, seed=0), make_pair(model, negative=True, seed=2)]
    with EventStorage():
        losses = model(pairs)
    assert set(losses) == {"loss_cls", "loss_loc"}
    assert losses["loss_cls"].item() > 0 and losses["loss_loc"].item() == 0.0
    with pytest.raises(KeyError, match="search_box_xyxy"):
        model([{k: v for k, v in pairs[0].items() if k != "search_box_xyxy"}])
    with pytest.raises(ValueError, match="finite"):
        model([make_pair(model, box_xyxy=[0.0, 0.0, float("nan"), 5.0])])


@pytest.mark.parametrize("layout", ["pysot", "standard"])
def test_gradients_reach_every_trainable_parameter(layout):
    model = build(TINY_CONFIGS[layout], train=True)
    pairs = [make_pair(model, seed=0), make_pair(model, negative=True, seed=4)]
    losses = model(pairs)
    sum(losses.values()).backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert len(trainable) == len(list(model.parameters()))
    missing = [n for n, p in trainable.items() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_loss_falls_when_overfitting_fixed_pairs():
    model = build(TINY_CONFIGS["standard"], seed=1, train=True)
    pairs = [
        make_pair(model, box_xyxy=[40.0, 50.0, 90.0, 80.0], seed=10),
        make_pair(model, box_xyxy=[50.0, 30.0, 80.0, 100.0], seed=12),
        make_pair(model, negative=True, seed=14),
    ]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = []
    for _ in range(30):
        torch.manual_seed(0)  # same sampled anchors every step
        loss = sum(model(pairs).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    assert min(history[-5:]) < 0.5 * history[0]


def test_explicit_construction_without_config():
    from detectron2.layers import ShapeSpec

    from siamtrack.families.siamrpn import (
        MultiLevelDepthwiseRPNHead,
        SiamNeck,
        build_siam_resnet_backbone,
    )

    cfg = load_cfg(TINY_CONFIGS["standard"])
    backbone = build_siam_resnet_backbone(cfg, ShapeSpec(channels=3))
    neck = SiamNeck(backbone.output_shape(), ["res4", "res5"], out_channels=8, template_crop_size=5)
    head = MultiLevelDepthwiseRPNHead(
        in_features=["res4", "res5"], in_channels=8, hidden_channels=8, num_anchors=5
    )
    model = SiameseRPN(
        backbone=backbone,
        neck=neck,
        head=head,
        template_size=65,
        search_size=129,
        pixel_mean=[0.0, 0.0, 0.0],
        pixel_std=[1.0, 1.0, 1.0],
    ).eval()
    with torch.no_grad():
        output = model.track(model.encode_template(random_images(1, 65)), random_images(1, 129))
    assert output.scores.shape == (1, 5, 13, 13)
    assert model.device == torch.device("cpu") and model.template_size == 65


def test_anchors_stay_float32_when_the_model_is_cast(tiny):
    model = build(TINY_CONFIGS["pysot"]).eval().to(torch.float64)
    assert model.anchors_cxcywh.dtype == torch.float32
    with torch.no_grad():
        output = model.track(
            model.encode_template(random_images(1, model.template_size)),
            random_images(1, model.search_size),
        )
    assert output.scores.dtype == output.boxes_cxcywh.dtype == torch.float32
