"""The dilated ResNet: stages, sizes, layouts, ImageNet (torchvision) weights."""

import pytest
import torch
import torchvision
from detectron2.layers import ShapeSpec

from siamtrack.families.siamrpn import build_siam_resnet_backbone, resnet_to_siamtrack_state_dict

from .helpers import TINY_CONFIGS, load_cfg


def _backbone(layout, *opts):
    cfg = load_cfg(TINY_CONFIGS[layout], *opts)
    return build_siam_resnet_backbone(cfg, ShapeSpec(channels=3)).eval()


@pytest.mark.parametrize(
    "layout, size, cells", [("pysot", 63, 7), ("pysot", 127, 15), ("standard", 65, 9)]
)
def test_stride_8_outputs_and_stage_names(layout, size, cells):
    backbone = _backbone(layout)
    assert [name for name, _ in backbone.named_children()][:5] == [
        "stem", "res2", "res3", "res4", "res5"
    ][: len(list(backbone.named_children()))]  # fmt: skip
    with torch.no_grad():
        outputs = backbone(torch.zeros(1, 3, size, size))
    for name, spec in backbone.output_shape().items():
        assert spec.stride == 8
        assert outputs[name].shape == (1, spec.channels, cells, cells)


def test_pysot_layout_uses_3x3_shortcuts_and_unpadded_stem():
    backbone = _backbone("pysot")
    assert backbone.stem.conv1.padding == (0, 0)
    assert backbone.res2[0].shortcut.kernel_size == (1, 1)
    assert backbone.res3[0].shortcut.kernel_size == (3, 3)
    assert backbone.res3[0].conv2.padding == (0, 0) and backbone.res3[0].conv2.stride == (2, 2)
    assert backbone.res4[0].conv2.dilation == (1, 1) and backbone.res4[1].conv2.dilation == (2, 2)
    assert backbone.res5[0].shortcut.dilation == (2, 2) and backbone.res5[1].conv2.dilation == (
        4,
        4,
    )


def test_freeze_at_freezes_stem_and_res2():
    backbone = _backbone("pysot", "MODEL.BACKBONE.FREEZE_AT", 2)
    assert not any(p.requires_grad for p in backbone.stem.parameters())
    assert not any(p.requires_grad for p in backbone.res2.parameters())
    assert all(p.requires_grad for p in backbone.res3.parameters())


@pytest.mark.parametrize("depth, factory", [(18, torchvision.models.resnet18)])
def test_standard_layout_loads_torchvision_resnet(depth, factory):
    torch.manual_seed(0)
    reference = factory(weights=None).eval()
    backbone = _backbone(
        "standard",
        "MODEL.RESNETS.DEPTH", depth,
        "MODEL.RESNETS.STEM_OUT_CHANNELS", 64,
        "MODEL.RESNETS.RES2_OUT_CHANNELS", 64,
        "MODEL.SIAM_RESNET.RES4_DILATION", 1,
        "MODEL.SIAM_RESNET.RES5_DILATION", 1,
    )  # fmt: skip
    converted = resnet_to_siamtrack_state_dict(reference.state_dict())
    backbone_state = {k[len("backbone.") :]: v for k, v in converted.items()}
    missing, unexpected = backbone.load_state_dict(backbone_state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    # without dilation our res3 equals torchvision's layer2 exactly (same weights, same ops)
    x = torch.rand(1, 3, 65, 65) * 2 - 1
    with torch.no_grad():
        expected = reference.layer2(reference.layer1(reference.maxpool(
            reference.relu(reference.bn1(reference.conv1(x))))))  # fmt: skip
        actual = backbone(x)["res4"]
        res3 = backbone.res3(backbone.res2(backbone.stem(x)))
    torch.testing.assert_close(res3, expected, rtol=1e-4, atol=1e-5)
    assert actual.shape[-1] == expected.shape[-1]
