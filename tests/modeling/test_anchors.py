"""Anchor shapes, grid order and centring, box decoding, grid geometry checks."""

import pytest
import torch
from detectron2.modeling.box_regression import Box2BoxTransform

from siamtrack.families.siamrpn import anchor_grid_cxcywh, anchor_shapes_wh, decode_boxes_cxcywh
from siamtrack.families.siamrpn.anchors import cxcywh_to_xyxy

from .helpers import TINY_PYSOT, TINY_STANDARD, build, load_cfg


def test_anchor_shapes_use_pysot_quantisation():
    shapes = anchor_shapes_wh(8, [0.33, 0.5, 1.0, 2.0, 3.0], [8.0])
    expected = [(104, 32), (88, 40), (64, 64), (40, 80), (32, 96)]
    assert shapes.tolist() == [[float(w), float(h)] for w, h in expected]


def test_anchor_grid_order_and_centres():
    shapes = anchor_shapes_wh(8, [0.5, 2.0], [8.0])
    grid = anchor_grid_cxcywh(shapes, 25, 31.5, 8)
    assert grid.shape == (2, 25, 25, 4)
    # element [a, row, col] -> cx depends on col, cy on row, size on a
    assert grid[1, 3, 7].tolist() == [31.5 + 8 * 7, 31.5 + 8 * 3, 40.0, 80.0]
    # pysot's flattened order a*H*W + row*W + col
    flat = grid.reshape(-1, 4)
    assert torch.equal(flat[1 * 625 + 3 * 25 + 7], grid[1, 3, 7])
    assert grid[:, 12, 12, :2].unique().tolist() == [127.5]  # centre cell on 255 / 2


@pytest.mark.parametrize("config", [TINY_PYSOT, TINY_STANDARD], ids=["pysot", "standard"])
def test_model_anchor_grid_is_centred_on_the_crop(config):
    model = build(config)
    anchors = model.anchors_cxcywh
    centres = anchors[0, :, :, :2].reshape(-1, 2)
    assert torch.allclose(centres.mean(0), torch.full((2,), model.search_size / 2.0))
    assert torch.allclose(anchors[0, 0, 1, 0] - anchors[0, 0, 0, 0], torch.tensor(8.0))


def test_full_pysot_geometry_is_25x25_centred():
    cfg = load_cfg(TINY_PYSOT, "MODEL.SIAMESE.TEMPLATE_SIZE", 127, "MODEL.SIAMESE.SEARCH_SIZE", 255,
                   "MODEL.SIAM_NECK.TEMPLATE_CROP_SIZE", 7)  # fmt: skip
    from detectron2.modeling import build_model

    model = build_model(cfg)
    geometry = model.geometry
    assert (geometry.template_feature_size, geometry.search_feature_size) == (15, 31)
    assert (geometry.size, geometry.kernel_size, geometry.first_center) == (25, 5, 31.5)
    assert model.anchors_cxcywh[2, 12, 12].tolist() == [127.5, 127.5, 64.0, 64.0]


@pytest.mark.parametrize(
    "config, size_key, size, message",
    [
        (TINY_PYSOT, "SEARCH_SIZE", 128, "SEARCH_SIZE=128 .* off the crop centre"),
        (TINY_STANDARD, "SEARCH_SIZE", 127, "SEARCH_SIZE=127 .* 8n \\+ 1"),
        (TINY_STANDARD, "TEMPLATE_SIZE", 73, "TEMPLATE_SIZE=73"),
    ],
)
def test_off_centre_crop_sizes_are_refused(config, size_key, size, message):
    with pytest.raises(ValueError, match=message):
        build(config, f"MODEL.SIAMESE.{size_key}", size)


def test_decode_inverts_box2box_encoding():
    anchors = torch.tensor([[100.0, 80.0, 64.0, 32.0], [20.0, 30.0, 40.0, 80.0]])
    targets = torch.tensor([[110.0, 70.0, 50.0, 60.0], [25.0, 40.0, 10.0, 120.0]])
    deltas = Box2BoxTransform((1.0, 1.0, 1.0, 1.0)).get_deltas(
        cxcywh_to_xyxy(anchors), cxcywh_to_xyxy(targets)
    )
    torch.testing.assert_close(decode_boxes_cxcywh(deltas, anchors, 4.135), targets)


def test_decode_extreme_deltas_stay_finite():
    anchors = torch.tensor([[127.5, 127.5, 64.0, 64.0]]).expand(6, 4)
    deltas = torch.tensor(
        [
            [1e30, -1e30, 1e30, -1e30],
            [float("inf"), float("-inf"), float("inf"), float("-inf")],
            [float("nan")] * 4,
            [0.0, 0.0, 1e4, 1e4],
            [0.0, 0.0, -1e4, -1e4],
            [3.4e38, 3.4e38, 88.0, 89.0],
        ]
    )
    boxes = decode_boxes_cxcywh(deltas, anchors, scale_clamp=4.135)
    assert torch.isfinite(boxes).all()
    assert (boxes[:, 2:] > 0).all()
    assert boxes[:, 2:].max() <= 64.0 * 62.6
    assert boxes[2].tolist() == [127.5, 127.5, 64.0, 64.0]  # NaN deltas decode to the anchor
