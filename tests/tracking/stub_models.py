"""Tiny models that follow the ``SiameseNetwork`` inference contract
(``siamtrack/modeling/contracts.py``), for tracker tests.

``encode_template(images (B,3,T,T)) -> features``; ``track(features, search (B,3,S,S)) ->
output`` with ``scores`` (B, A, H, W) and ``boxes_cxcywh`` (B, A, H, W, 4) in absolute
search-crop pixels, the crop centre at S/2 and the anchor grid centred on it.
"""

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class StubTemplateFeatures(NamedTuple):
    kernel: torch.Tensor  # (B, 1, k, k)


class StubTrackOutput(NamedTuple):
    scores: torch.Tensor
    boxes_cxcywh: torch.Tensor


class _StubBase(nn.Module):
    def __init__(self, template_size: int, search_size: int, score_size: int, stride: int):
        super().__init__()
        self.template_size = template_size
        self.search_size = search_size
        self.score_size = score_size
        self.stride = stride
        self.register_buffer("pixel_mean", torch.zeros(3, 1, 1), persistent=False)
        self.template_calls = 0
        self.track_calls = 0

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    def _grid_xy(self):
        offsets = torch.arange(self.score_size, dtype=torch.float64) - (self.score_size - 1) / 2
        centres = self.search_size / 2 + offsets * self.stride
        return centres[None, :].expand(self.score_size, -1), centres[:, None].expand(
            -1, self.score_size
        )


class CentreStubModel(_StubBase):
    """Scores peak at the centre cell of anchor ``A // 2``, whose box is centred on the crop
    centre (plus ``centre_offset_xy``) with size ``centre_box_wh``; the other anchors have
    size 1.5x and 0.5x and low scores."""

    def __init__(
        self,
        centre_box_wh=(64.0, 64.0),
        centre_offset_xy=(0.0, 0.0),
        *,
        template_size=127,
        search_size=255,
        score_size=5,
        stride=8,
        num_anchors=3,
        centre_score=0.9
    ):
        super().__init__(template_size, search_size, score_size, stride)
        self.centre_box_wh = tuple(float(v) for v in centre_box_wh)
        self.centre_offset_xy = tuple(float(v) for v in centre_offset_xy)
        self.num_anchors = num_anchors
        self.centre_score = centre_score

    def encode_template(self, images):
        self.template_calls += 1
        assert images.shape[-2:] == (self.template_size, self.template_size)
        return StubTemplateFeatures(images.to(self.device).float().mean().reshape(1, 1, 1, 1))

    def track(self, features, search):
        self.track_calls += 1
        assert search.shape[-2:] == (self.search_size, self.search_size)
        batch, n, a0 = search.shape[0], self.score_size, self.num_anchors // 2
        gx, gy = self._grid_xy()
        boxes = torch.zeros(batch, self.num_anchors, n, n, 4, dtype=torch.float64)
        for a in range(self.num_anchors):
            factor = 1.0 + 0.5 * (a - a0)
            boxes[:, a, :, :, 0] = gx
            boxes[:, a, :, :, 1] = gy
            boxes[:, a, :, :, 2] = self.centre_box_wh[0] * factor
            boxes[:, a, :, :, 3] = self.centre_box_wh[1] * factor
        boxes[:, a0, n // 2, n // 2, 0] += self.centre_offset_xy[0]
        boxes[:, a0, n // 2, n // 2, 1] += self.centre_offset_xy[1]
        scores = torch.full((batch, self.num_anchors, n, n), 0.1, dtype=torch.float64)
        scores[:, a0, n // 2, n // 2] = self.centre_score
        return StubTrackOutput(scores.float().to(self.device), boxes.to(self.device))


class ContentStubModel(_StubBase):
    """Content-dependent and deterministic: a tiny random conv embeds both crops, the score map
    is their cross-correlation (sigmoid), boxes are anchors nudged by a second random conv."""

    def __init__(
        self,
        *,
        template_size=63,
        search_size=127,
        stride=8,
        anchor_wh: Sequence = ((32, 32), (24, 40)),
        seed=0
    ):
        score_size = (search_size - template_size) // stride + 1
        super().__init__(template_size, search_size, score_size, stride)
        generator = torch.Generator().manual_seed(seed)
        self.embed = nn.Conv2d(3, 4, kernel_size=stride, stride=stride)
        self.offsets = nn.Conv2d(4, 4 * len(anchor_wh), kernel_size=1)
        self.norm = nn.BatchNorm2d(4)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.05)
        self.register_buffer("anchor_wh", torch.tensor(anchor_wh, dtype=torch.float32))

    @property
    def num_anchors(self):
        return len(self.anchor_wh)

    def _features(self, images):
        return self.norm(self.embed(images.to(self.device).float() / 255.0 - 0.5))

    def encode_template(self, images):
        self.template_calls += 1
        return StubTemplateFeatures(self._features(images))

    def track(self, features, search):
        self.track_calls += 1
        x = self._features(search)
        kernel = features.kernel
        response = F.conv2d(x, kernel) / kernel.numel() ** 0.5  # (B, B_t, H, W), B_t == 1
        h, w = response.shape[-2:]
        assert h == self.score_size
        deltas = torch.tanh(self.offsets(x)[:, :, :h, :w]).view(
            x.shape[0], self.num_anchors, 4, h, w
        )
        gx, gy = (g.to(self.device).float() for g in self._grid_xy())
        aw = self.anchor_wh[:, 0].view(1, -1, 1, 1)
        ah = self.anchor_wh[:, 1].view(1, -1, 1, 1)
        boxes = torch.stack(
            [
                gx + deltas[:, :, 0] * aw,
                gy + deltas[:, :, 1] * ah,
                aw * torch.exp(deltas[:, :, 2]),
                ah * torch.exp(deltas[:, :, 3]),
            ],
            dim=-1,
        )
        scores = torch.sigmoid(response[:, :1] * 4 + torch.zeros_like(deltas[:, :, 0]))
        return StubTrackOutput(scores, boxes)
