"""``SiameseNetworkBase``: the shared implementation of the ``SiameseNetwork`` contract.

The contract itself (``contracts.SiameseNetwork``) says what a meta-architecture offers::

    template_features = model.encode_template(template_images)   # (B, 3, T, T) BGR 0-255
    output = model.track(template_features, search_images)       # (B, 3, S, S) BGR 0-255
    output.scores         # (B, A, H, W) foreground probability
    output.boxes_cxcywh   # (B, A, H, W, 4) boxes in search-crop pixels; crop centre = (S/2, S/2)

This base implements it for a network made of feature extraction and a ``SiameseHead``
(``self.head``): input checks, normalisation, ``encode_template`` (``head.template_kernels``
of the template features), ``raw_outputs`` (``head.forward_with_kernels`` on the search
features), ``track = decode(*raw_outputs(...))`` and ``forward``. In train mode
``model(batched_inputs)`` with the pair mapper's dicts returns the weighted losses; in eval
mode one ``{"scores": (A, H, W), "boxes_cxcywh": (A, H, W, 4)}`` per input.

A family's meta-architecture (``siamtrack/families/<name>/meta_arch.py``) subclasses it and
provides ``features`` (images -> the feature levels its head reads), ``decode``, ``losses``,
``score_size``, ``num_anchors`` and ``checkpoint_formats``.
"""

from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

from .contracts import SiamTrackOutput, TemplateFeatures

__all__ = [
    "DeviceCopies",
    "SiameseNetworkBase",
    "SiamTrackOutput",
    "TemplateBranch",
    "TemplateFeatures",
    "TrackStep",
]


class DeviceCopies:
    """A constant tensor kept on the CPU plus one cached copy per device it is asked on.

    Not a module buffer, so it stays float32 (exact half-pixel grid coordinates) whatever
    dtype the model is cast to, and it is not part of the state dict.
    """

    def __init__(self, tensor: torch.Tensor):
        self._copies: Dict[torch.device, torch.Tensor] = {tensor.device: tensor}
        self._source = tensor

    def on(self, device: torch.device) -> torch.Tensor:
        if device not in self._copies:
            self._copies[device] = self._source.to(device)
        return self._copies[device]


class SiameseNetworkBase(nn.Module):
    """Base of the Siamese meta-architectures: input checks, normalisation, the contract.

    Subclasses set ``self.head`` (a ``SiameseHead``) and implement ``features``, ``decode``,
    ``losses``, ``score_size`` and ``num_anchors``.
    """

    # Checkpoint formats (``siamtrack.checkpoint.formats``) this family's weights may come in.
    checkpoint_formats: Tuple[str, ...] = ("siamtrack",)

    def __init__(
        self,
        *,
        backbone: nn.Module,
        template_size: int,
        search_size: int,
        pixel_mean: Sequence[float],
        pixel_std: Sequence[float],
        input_format: str = "BGR",
    ):
        """
        Args:
            backbone: a detectron2 ``Backbone``.
            template_size, search_size: crop sides T and S the network is built for.
            pixel_mean, pixel_std: per-channel normalisation, in ``input_format`` order
                (pysot and NanoTrack: 0 and 1 on raw BGR 0-255).
            input_format: "BGR" (inputs used as given) or "RGB" (inputs, always BGR, are
                flipped to RGB before normalisation; for torchvision ImageNet weights).
        """
        super().__init__()
        self.backbone = backbone
        self._template_size = int(template_size)
        self._search_size = int(search_size)
        if input_format not in ("BGR", "RGB"):
            raise ValueError(f"input_format must be 'BGR' or 'RGB', got {input_format!r}")
        self.input_format = input_format
        if len(pixel_mean) != 3 or len(pixel_std) != 3:
            raise ValueError(f"pixel_mean/pixel_std need 3 values, got {pixel_mean}, {pixel_std}")
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(1, 3, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(1, 3, 1, 1), False)

    @staticmethod
    def base_args_from_config(cfg) -> Dict:
        """This base's constructor arguments (all but ``backbone``) from a config, for the
        families' ``from_config``."""
        return {
            "template_size": cfg.MODEL.SIAMESE.TEMPLATE_SIZE,
            "search_size": cfg.MODEL.SIAMESE.SEARCH_SIZE,
            "pixel_mean": list(cfg.MODEL.PIXEL_MEAN),
            "pixel_std": list(cfg.MODEL.PIXEL_STD),
            "input_format": cfg.INPUT.FORMAT,
        }

    # ------------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    @property
    def template_size(self) -> int:
        """T: side of the template crop in pixels."""
        return self._template_size

    @property
    def search_size(self) -> int:
        """S: side of the search crop in pixels."""
        return self._search_size

    @property
    def score_size(self) -> int:
        """H = W of the score map."""
        raise NotImplementedError

    @property
    def num_anchors(self) -> int:
        """A: anchors per score-map cell (1 for anchor-free models)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ inference API
    def encode_template(self, template_images: torch.Tensor) -> TemplateFeatures:
        """Run the template branch once per target.

        Args:
            template_images: (B, 3, T, T) uint8 or float, BGR 0-255, any device.

        Returns:
            flat tuple of (B, ...) tensors: the head's template-side outputs (cached kernels).
        """
        images = self.normalize(template_images, "template_images", "template")
        return tuple(self.head.template_kernels(self.features(images, "template")))

    def track(
        self, template_features: TemplateFeatures, search_images: torch.Tensor
    ) -> SiamTrackOutput:
        """One tracking step: search branch + correlation with the cached template features +
        decoding.

        Args:
            template_features: from ``encode_template``; batch 1 (shared) or B.
            search_images: (B, 3, S, S) uint8 or float, BGR 0-255, any device.

        Returns:
            SiamTrackOutput with scores (B, A, H, W) and boxes_cxcywh (B, A, H, W, 4).
        """
        return self.decode(*self.raw_outputs(template_features, search_images))

    def raw_outputs(
        self, template_features: TemplateFeatures, search_images: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The head's outputs before decoding: (cls logits, box regression), (B, C, H, W)."""
        images = self.normalize(search_images, "search_images", "search")
        self._check_template_batch(template_features, images.shape[0])
        return self.head.forward_with_kernels(template_features, self.features(images, "search"))

    def decode(self, cls_logits: torch.Tensor, box_regression: torch.Tensor) -> SiamTrackOutput:
        """Scores and absolute boxes from the raw outputs (see ``raw_outputs``)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ training / eval
    def forward(self, batched_inputs: List[Dict]):
        """Training losses (train mode) or per-input predictions (eval mode).

        Args:
            batched_inputs: list of dicts with "template" (3, T, T) and "search" (3, S, S)
                uint8 BGR tensors; for training also "search_box_xyxy" (4,) float target box
                in search-crop coordinates and "is_negative" (bool). Other keys are ignored.

        Returns:
            train: the family's weighted loss dict (``losses``);
            eval: list of {"scores": (A, H, W), "boxes_cxcywh": (A, H, W, 4)}.
        """
        if not batched_inputs:
            raise ValueError(f"{type(self).__name__}.forward got an empty batch")
        templates = self._stack(batched_inputs, "template")
        searches = self._stack(batched_inputs, "search")
        if not self.training:
            output = self.track(self.encode_template(templates), searches)
            return [
                {"scores": s, "boxes_cxcywh": b} for s, b in zip(output.scores, output.boxes_cxcywh)
            ]
        boxes = self._stack(batched_inputs, "search_box_xyxy").to(self.device, torch.float32)
        if not torch.isfinite(boxes).all():
            raise ValueError(f"search_box_xyxy must be finite, got {boxes.tolist()}")
        is_negative = torch.tensor([bool(x["is_negative"]) for x in batched_inputs])
        templates = self.normalize(templates, 'inputs["template"]', "template")
        searches = self.normalize(searches, 'inputs["search"]', "search")
        return self.losses(templates, searches, boxes, is_negative)

    def losses(
        self,
        template_images: torch.Tensor,
        search_images: torch.Tensor,
        boxes_xyxy: torch.Tensor,
        is_negative: torch.Tensor,
    ) -> Dict[str, torch.Tensor]:
        """Weighted training losses of normalised template/search batches."""
        raise NotImplementedError

    def head_outputs(self, template_images: torch.Tensor, search_images: torch.Tensor):
        """The head's raw outputs of a normalised training batch, for ``losses``: each branch
        through ``features`` in a call of its own, so BatchNorm keeps statistics per branch
        (as pysot, NanoTrack and SiamFC train)."""
        return self.head(
            self.features(template_images, "template"), self.features(search_images, "search")
        )

    # ------------------------------------------------------------------ family hooks
    def features(self, images: torch.Tensor, kind: str) -> List[torch.Tensor]:
        """The feature levels the head reads, one (B, C, h, w) tensor per level, of
        normalised ``kind`` ("template" / "search") images."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _check_template_batch(self, template_features: TemplateFeatures, batch: int) -> None:
        template_batch = template_features[0].shape[0]
        if template_batch not in (1, batch):
            raise ValueError(
                f"template_features has batch {template_batch}; expected 1 or the search "
                f"batch {batch}"
            )

    @staticmethod
    def _stack(batched_inputs: List[Dict], key: str) -> torch.Tensor:
        try:
            return torch.stack([torch.as_tensor(x[key]) for x in batched_inputs])
        except KeyError:
            raise KeyError(
                f"every input dict needs {key!r} (got keys {sorted(batched_inputs[0])}); "
                "training inputs hold 'template', 'search', 'search_box_xyxy', 'is_negative'"
            ) from None
        except RuntimeError as error:
            raise ValueError(f"inputs' {key!r} tensors differ in shape: {error}") from None

    def normalize(self, images: torch.Tensor, name: str, kind: str) -> torch.Tensor:
        """Check (B, 3, size, size) BGR images of ``kind`` "template"/"search" and normalise
        them on the model's device and dtype."""
        size = self._template_size if kind == "template" else self._search_size
        expected = f"(B, 3, {size}, {size}) BGR NCHW tensor ({kind} size of this model: {size})"
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"{name} must be a {expected}, got {type(images).__name__}")
        if images.dim() != 4 or images.shape[1] != 3 or tuple(images.shape[2:]) != (size, size):
            raise ValueError(f"{name} must be a {expected}, got shape {tuple(images.shape)}")
        images = images.to(device=self.device, dtype=self.pixel_mean.dtype, non_blocking=True)
        if self.input_format == "RGB":
            images = images.flip(1)
        return (images - self.pixel_mean) / self.pixel_std


class TemplateBranch(nn.Module):
    """``model.encode_template`` as a module (tracing, ONNX export, FLOP counting).

    ``forward(template_images (B, 3, T, T))`` -> the flat tuple of template features.
    """

    def __init__(self, model: SiameseNetworkBase):
        super().__init__()
        self.model = model

    def forward(self, template_images: torch.Tensor) -> TemplateFeatures:
        return tuple(self.model.encode_template(template_images))

    def train(self, mode: bool = True):  # always evaluation mode (tracing and freezing need it)
        return super().train(False)


class TrackStep(nn.Module):
    """``model.track`` as a module over flat tensors (tracing, ONNX export, FLOP counting).

    ``forward(search_images (B, 3, S, S), *template_features)`` -> ``(scores (B, A, H, W),
    boxes_cxcywh (B, A, H, W, 4))``; with ``raw=True`` the head's outputs before decoding.
    """

    def __init__(self, model: SiameseNetworkBase, raw: bool = False):
        super().__init__()
        self.model = model
        self.raw = raw

    def forward(self, search_images: torch.Tensor, *template_features: torch.Tensor):
        if self.raw:
            return tuple(self.model.raw_outputs(template_features, search_images))
        output = self.model.track(template_features, search_images)
        return output.scores, output.boxes_cxcywh

    def train(self, mode: bool = True):  # always evaluation mode (tracing and freezing need it)
        return super().train(False)
