"""SiamFC's network: the AlexNet embedding (6x6 / 22x22 features, 17x17 map from 127 / 255), the
plain cross-correlation, the decoded cells, the crop sizes it refuses, the contract."""

import pytest
import torch
from detectron2.modeling import META_ARCH_REGISTRY, build_model

from siamtrack import load_config
from siamtrack.checkpoint import CHECKPOINT_FORMAT_REGISTRY
from siamtrack.config import CONFIG_ADDERS
from siamtrack.errors import ConfigError
from siamtrack.families.siamfc import SiamFC, add_siamfc_config, plain_xcorr
from siamtrack.modeling import SIAM_HEAD_REGISTRY, SiameseNetwork, depthwise_xcorr
from siamtrack.tracking.search import SEARCH_STRATEGY_REGISTRY

from .common import BASE, tiny_cfg, tiny_model


def _random(batch, size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (batch, 3, size, size), generator=generator, dtype=torch.uint8)


def test_the_family_registers_its_parts():
    assert "SiamFC" in META_ARCH_REGISTRY and "SiamFCXCorrHead" in SIAM_HEAD_REGISTRY
    assert "ScalePyramidSearch" in [name for name, _ in SEARCH_STRATEGY_REGISTRY]
    assert add_siamfc_config in CONFIG_ADDERS
    assert set(SiamFC.checkpoint_formats) <= set(CHECKPOINT_FORMAT_REGISTRY.names())


def test_full_width_network_shapes():
    """The paper's network: 127 -> 6x6x256, 255 -> 22x22x256, a 17x17 map; 2.3 M parameters."""
    torch.manual_seed(0)
    model = build_model(load_config(str(BASE), ["MODEL.DEVICE", "cpu"])).eval()
    assert isinstance(model, SiameseNetwork)
    assert (model.template_size, model.search_size, model.score_size) == (127, 255, 17)
    assert model.num_anchors == 1
    assert sum(p.numel() for p in model.parameters()) == 2_336_322
    with torch.no_grad():
        (kernel,) = model.encode_template(_random(1, 127))
        search = model.features(model.normalize(_random(2, 255), "s", "search"), "search")[0]
    assert kernel.shape == (1, 256, 6, 6) and search.shape == (2, 256, 22, 22)
    geometry = model.geometry
    assert (geometry.first_center, geometry.stride, geometry.receptive_field) == (63.5, 8, 87)
    # the paper's initialisation: Kaiming-normal (fan-out, ReLU gain), zero biases
    conv2 = model.backbone.conv2.weight
    fan_out = conv2.shape[0] * conv2.shape[2] * conv2.shape[3]
    assert conv2.std().item() == pytest.approx((2.0 / fan_out) ** 0.5, rel=0.05)
    assert not model.backbone.conv5.bias.any() and model.backbone.conv5.norm is None


def test_track_follows_the_contract_and_decodes_cell_centres():
    model = tiny_model()
    templates, searches = _random(2, 127), _random(2, 255, seed=1)
    with torch.no_grad():
        kernels = model.encode_template(templates)
        response, box_regression = model.raw_outputs(kernels, searches)
        output = model.track(kernels, searches)
        by_head = model.head.forward_with_kernels(
            kernels, model.features(model.normalize(searches, "s", "search"), "search")
        )
    assert response.shape == (2, 1, 17, 17) and box_regression.shape == (2, 0, 17, 17)
    assert torch.equal(response, by_head[0])
    assert torch.equal(output.scores, torch.sigmoid(response))
    assert 0.0 < output.scores.min() and output.scores.max() < 1.0
    boxes = output.boxes_cxcywh
    assert boxes.shape == (2, 1, 17, 17, 4)
    # the centre cell on the crop centre, cells 8 px apart, a fixed 63.5 px square
    assert boxes[0, 0, 8, 8].tolist() == [127.5, 127.5, 63.5, 63.5]
    assert boxes[1, 0, 0, 16, :2].tolist() == [127.5 + 64, 127.5 - 64]
    assert bool((boxes[..., 2:] == 63.5).all())


def test_plain_xcorr_is_the_channel_sum_of_the_depthwise_one():
    generator = torch.Generator().manual_seed(3)
    search = torch.randn(3, 8, 12, 12, generator=generator)
    kernels = torch.randn(3, 8, 5, 5, generator=generator)
    for kernel in (kernels, kernels[:1]):  # one kernel per search, one shared
        expected = depthwise_xcorr(search, kernel).sum(1, keepdim=True)
        assert torch.allclose(plain_xcorr(search, kernel), expected, atol=1e-4)
    # a batch of B kernels equals B separate calls
    model = tiny_model()
    with torch.no_grad():
        kernels = model.encode_template(_random(3, 127))
        searches = _random(3, 255, seed=2)
        together = model.track(kernels, searches).scores
        alone = [model.track(tuple(k[i : i + 1] for k in kernels), searches[i : i + 1]).scores
                 for i in range(3)]  # fmt: skip
    assert torch.allclose(together, torch.cat(alone), atol=1e-6)


def test_adjust_scale_is_fixed_unless_configured():
    assert load_config(str(BASE)).MODEL.SIAMFC.ADJUST_SCALE == 1e-3  # the authors' value
    model = build_model(tiny_cfg())
    assert model.head.adjust_scale.item() == pytest.approx(0.016)  # 16x for 1/16 the width
    assert not model.head.adjust_scale.requires_grad and model.head.adjust_bias.requires_grad
    learned = build_model(tiny_cfg("MODEL.SIAMFC.ADJUST_LEARN_SCALE", True))
    assert learned.head.adjust_scale.requires_grad


@pytest.mark.parametrize(
    "template, search, detail",
    [
        (128, 255, "template kernel is -0.5 px off"),
        (127, 256, "centre score cell is -0.5 px off"),
        (127, 247, "centre score cell is +4.0 px off"),  # 16x16 map: no centre cell
        (119, 255, "centre score cell is +4.0 px off"),
    ],
)
def test_off_centre_crop_sizes_are_refused_with_the_sizes_that_work(template, search, detail):
    cfg = tiny_cfg("MODEL.SIAMESE.TEMPLATE_SIZE", template, "MODEL.SIAMESE.SEARCH_SIZE", search)
    with pytest.raises(ConfigError) as error:
        build_model(cfg)
    message = str(error.value)
    assert "\n" not in message and detail in message
    assert "87 + 8k" in message and "multiple of 16" in message and "127 / 255" in message
    # the sizes it names do work
    working = [int(n) for n in message.split("TEMPLATE_SIZE e.g. ")[1].split(";")[0].split(", ")]
    for size in working:
        build_model(tiny_cfg("MODEL.SIAMESE.TEMPLATE_SIZE", size, "MODEL.SIAMESE.SEARCH_SIZE",
                             size + 128))  # fmt: skip


def test_other_centred_sizes_work():
    model = build_model(
        tiny_cfg("MODEL.SIAMESE.TEMPLATE_SIZE", 135, "MODEL.SIAMESE.SEARCH_SIZE", 231)
    )
    assert model.score_size == 13
    with torch.no_grad():
        output = model.track(model.encode_template(_random(1, 135)), _random(1, 231))
    assert output.boxes_cxcywh[0, 0, 6, 6, :2].tolist() == [115.5, 115.5]


def test_too_small_crops_are_refused():
    with pytest.raises(ConfigError, match="receptive field"):
        build_model(tiny_cfg("MODEL.SIAMESE.TEMPLATE_SIZE", 63, "MODEL.SIAMESE.SEARCH_SIZE", 127))
