"""The anchor grid sits on the network's true receptive-field centres, for both layouts.

Argument: give every conv a kernel symmetric under horizontal and vertical flips. Such a
network commutes with flipping its input exactly when every layer samples a grid that is
symmetric about the crop centre, i.e. when cell i and cell n-1-i are mirror images, i.e.
when the middle of the grid is the crop centre. Together with the stride (8) this pins
cell (r, c) to ``S/2 + 8 * (c - (W-1)/2)``, which is where the anchors are.
"""

import pytest
import torch
from torch import nn

from .helpers import TINY_CONFIGS, build, random_images, randomize_batchnorm


def symmetric_model(layout, *opts):
    model = randomize_batchnorm(build(TINY_CONFIGS[layout], *opts).eval())
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                w = module.weight
                w.copy_((w + w.flip(-1) + w.flip(-2) + w.flip(-1, -2)) / 4)
    return model


def symmetric_image(batch, size, seed):
    image = random_images(batch, size, seed).float()
    return (image + image.flip(-1) + image.flip(-2) + image.flip(-1, -2)) / 4


def is_flip_equivariant(fn, x, dim):
    reference = fn(x).flip(dim)
    return bool((fn(x.flip(dim)) - reference).abs().max() <= 1e-4 * reference.abs().max())


@pytest.mark.parametrize("layout", ["pysot", "standard"])
def test_score_map_is_flip_equivariant(layout):
    model = symmetric_model(layout)
    template = random_images(1, model.template_size, 0).float()
    search = random_images(1, model.search_size, 1).float()
    with torch.no_grad():
        for dim in (-1, -2):
            flipped = model.track(model.encode_template(template.flip(dim)), search.flip(dim))
            reference = model.track(model.encode_template(template), search).scores.flip(dim)
            torch.testing.assert_close(flipped.scores, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layout", ["pysot", "standard"])
def test_middle_cell_receptive_field_centre_is_its_anchor_centre(layout):
    model = symmetric_model(layout)
    features = model.encode_template(symmetric_image(1, model.template_size, 2))
    search = symmetric_image(1, model.search_size, 3).requires_grad_(True)
    middle = model.score_size // 2
    cls_logits, _ = model.raw_outputs(features, search)
    cls_logits[0, model.num_anchors + 2, middle, middle].backward()  # foreground, square anchor
    weight = search.grad[0].abs().sum(0)  # (S, S) gradient magnitude
    coords = torch.arange(model.search_size, dtype=torch.float32) + 0.5  # pixel centres
    centroid_x = float((weight.sum(0) * coords).sum() / weight.sum())
    centroid_y = float((weight.sum(1) * coords).sum() / weight.sum())
    anchor_x, anchor_y = model.anchors_cxcywh[2, middle, middle, :2].tolist()
    # max-pool ties send gradients to one of two mirror pixels: allow 0.25 px (catches the
    # 0.5 px of an integer-centre convention and any whole-pixel offset)
    assert abs(centroid_x - anchor_x) < 0.25 and abs(centroid_y - anchor_y) < 0.25
    assert anchor_x == anchor_y == model.search_size / 2.0


@pytest.mark.parametrize("layout, sizes", [("pysot", range(55, 72)), ("standard", range(57, 74))])
def test_feature_grid_predicts_size_and_symmetry(layout, sizes):
    backbone = symmetric_model(layout).backbone
    outcomes = []
    for size in sizes:
        x = random_images(1, size, size).float()
        with torch.no_grad():
            output = backbone(x)["res4"]
        cells, first_center, stride = backbone.feature_grid(size)
        assert output.shape[-1] == cells and stride == 8
        centred = abs(first_center + stride * (cells - 1) - (size - first_center)) < 1e-6
        with torch.no_grad():
            equivariant = is_flip_equivariant(lambda t: backbone(t)["res4"], x, -1)
        assert equivariant == centred, (layout, size)
        outcomes.append(centred)
    assert any(outcomes) and not all(outcomes)  # the check has power both ways
