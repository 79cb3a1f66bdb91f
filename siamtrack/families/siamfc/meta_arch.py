"""``SiamFC``: the fully-convolutional Siamese tracker of Bertinetto et al. (2016) as a
meta-architecture.

Follows the ``SiameseNetwork`` contract (``siamtrack.modeling.contracts``, implemented by
``SiameseNetworkBase``) with A = 1: the AlexNet embedding (``backbone.py``) of both crops goes
into the cross-correlation head (``head.py``); ``decode`` turns the (B, 1, 17, 17) response
into scores ``sigmoid(response)`` and, since SiamFC regresses no boxes, a box per cell made of
the cell centre in search-crop pixels (``geometry.py``) and a fixed square of side
``T / (1 + 2 * CONTEXT_AMOUNT)`` (63.5 px for 127 and 0.5: the size of a square target at the
current scale). The tracker's search strategy (``ScalePyramidSearch``) reads only the centres;
the size changes through the scale pyramid. Training (``losses``): logistic labels within a
radius of the target centre and the balanced logistic loss (``losses.py``).
"""

from typing import List

import torch
from detectron2.config import configurable
from detectron2.modeling import META_ARCH_REGISTRY, Backbone, build_backbone
from torch import nn

from ...modeling.heads import build_siam_head
from ...modeling.siamese import DeviceCopies, SiameseNetworkBase, SiamTrackOutput
from .geometry import cell_centers_xy, response_geometry
from .losses import balanced_logistic_loss, logistic_labels

__all__ = ["SiamFC"]


@META_ARCH_REGISTRY.register()
class SiamFC(SiameseNetworkBase):
    """AlexNet embedding + plain cross-correlation; one score per cell, no box regression."""

    # siamtrack's own checkpoints (no upstream release is converted)
    checkpoint_formats = ("siamtrack",)

    @configurable
    def __init__(
        self,
        *,
        backbone: Backbone,
        head: nn.Module,
        template_size: int,
        search_size: int,
        pixel_mean=(0.0, 0.0, 0.0),
        pixel_std=(1.0, 1.0, 1.0),
        input_format: str = "BGR",
        context_amount: float = 0.5,
        positive_radius: float = 16.0,
    ):
        """
        Args:
            backbone: a backbone with one output, ``feature_grid`` and ``receptive_field``
                (``SiamFCAlexNet``).
            head: ``SiamFCXCorrHead`` (or any head giving (B, 1, H, W) responses).
            template_size, search_size: crop sides T and S (127 / 255); sizes whose score map
                would be off-centre are refused (``geometry.response_geometry``).
            pixel_mean, pixel_std, input_format: as ``SiameseNetwork`` (SiamFC: raw BGR).
            context_amount: ``MODEL.SIAMESE.CONTEXT_AMOUNT``, for the decoded box side.
            positive_radius: radius (search-crop px) of the positive labels (16).
        """
        super().__init__(
            backbone=backbone,
            template_size=template_size,
            search_size=search_size,
            pixel_mean=pixel_mean,
            pixel_std=pixel_std,
            input_format=input_format,
        )
        self.head = head
        (self._feature_name,) = backbone.output_shape()
        self.geometry = response_geometry(backbone, template_size, search_size)
        self._cell_centers = DeviceCopies(cell_centers_xy(self.geometry))
        self.box_side = float(template_size) / (1.0 + 2.0 * float(context_amount))
        self.positive_radius = float(positive_radius)

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        return {
            "backbone": backbone,
            "head": build_siam_head(cfg, backbone.output_shape()),
            **cls.base_args_from_config(cfg),
            "context_amount": cfg.MODEL.SIAMESE.CONTEXT_AMOUNT,
            "positive_radius": cfg.MODEL.SIAMFC.POSITIVE_RADIUS,
        }

    # ------------------------------------------------------------------ properties
    @property
    def score_size(self) -> int:
        """H = W of the score map (17 for 127 / 255)."""
        return self.geometry.size

    @property
    def num_anchors(self) -> int:
        return 1

    @property
    def cell_centers_xy(self) -> torch.Tensor:
        """(H, W, 2) float32 cell centres in search-crop pixels, on ``device``."""
        return self._cell_centers.on(self.device)

    # ------------------------------------------------------------------ family hooks
    def features(self, images: torch.Tensor, kind: str) -> List[torch.Tensor]:
        """The embedding (conv5), as a one-level list."""
        return [self.backbone(images)[self._feature_name]]

    def decode(self, response: torch.Tensor, box_regression: torch.Tensor) -> SiamTrackOutput:
        """Scores (B, 1, H, W) = sigmoid(response) and boxes (B, 1, H, W, 4): cell centre and
        the fixed side ``box_side`` (``box_regression`` is empty: SiamFC has none)."""
        size = tuple(response.shape[2:])
        if size != (self.score_size, self.score_size):
            raise RuntimeError(f"score map {size} does not match the cell grid {self.score_size}")
        scores = torch.sigmoid(response.float())
        centers = self.cell_centers_xy.to(scores.device)
        centers = centers.unsqueeze(0).unsqueeze(0).expand(scores.shape[0], 1, -1, -1, -1)
        sides = torch.full_like(centers, self.box_side)
        return SiamTrackOutput(scores, torch.cat([centers, sides], dim=-1))

    # ------------------------------------------------------------------ training
    def losses(self, template_images, search_images, boxes_xyxy, is_negative):
        """``{"loss_cls"}``: the balanced logistic loss of the response (``losses.py``)."""
        response, _ = self.head_outputs(template_images, search_images)
        labels = self.labels(boxes_xyxy, is_negative)
        return {"loss_cls": balanced_logistic_loss(response, labels)}

    @torch.no_grad()
    def labels(self, boxes_xyxy: torch.Tensor, is_negative: torch.Tensor) -> torch.Tensor:
        """Labels (B, 1, H, W) in {0, 1} of a batch (``losses.logistic_labels``)."""
        return logistic_labels(
            self.cell_centers_xy, boxes_xyxy.to(self.device), is_negative, self.positive_radius
        )
