"""The contracts between siamtrack's shared code and what plugs into it, as ``Protocol``s.

Shared code (tracker, backends, training, checkpoints, export, tools) knows a model family only
through these contracts and the registries named below; it never tests a family's name or
type. A family (``siamtrack/families/<name>/``, ``docs/architecture.md``) implements them.

- ``SiameseNetwork``: the meta-architecture (stateless network): ``encode_template`` once per
  target, ``track`` per frame, ``raw_outputs`` / ``decode`` (what ``track`` is made of),
  ``losses`` (training), crop and score-map sizes, ``checkpoint_formats``. Registered in
  detectron2's ``META_ARCH_REGISTRY``; ``siamtrack.modeling.SiameseNetworkBase`` implements
  the input checks, normalisation and ``forward`` on top of four hooks.
- ``SiameseHead``: the template/search correlation head, registered in ``SIAM_HEAD_REGISTRY``
  (``siamtrack.modeling.heads``, one builder signature ``head(cfg, input_shape)``).
- ``TrackerBackend``: runs a network on numpy crops for the trackers (PyTorch, onnxruntime;
  ``siamtrack.tracking.backends``).
- ``Tracker``: the stateful online tracker (``SiamTracker``, ``MultiTargetTracker``).
- ``ResultWriter``: what the video runner hands every tracked frame to
  (``siamtrack.tracking.video_runner``: ``AnnotatedVideoWriter``, ``BoxesFileWriter``).
- ``PairSource``: a training dataset index that draws template/search frames
  (``siamtrack.data.pair_sources``).

Registries a family adds to: ``META_ARCH_REGISTRY`` and ``BACKBONE_REGISTRY`` (detectron2),
``SIAM_HEAD_REGISTRY`` (here), ``SEARCH_STRATEGY_REGISTRY`` (``siamtrack.tracking.search``),
``CHECKPOINT_FORMAT_REGISTRY`` (``siamtrack.checkpoint.formats``), ``EXPORT_LAYOUT_REGISTRY``
(``siamtrack.export.layouts``) and the config adders (``siamtrack.config.
register_config_adder``).

Conventions: images are BGR, crops are square (template side T, search side S), boxes are
``cxcywh`` in continuous search-crop pixels with the crop centre at (S/2, S/2); a score map
holds A anchors (1 for anchor-free families) per cell of an H x W grid.
"""

from typing import (
    Any,
    Dict,
    NamedTuple,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    runtime_checkable,
)

import numpy as np
import torch

__all__ = [
    "PairSource",
    "ResultWriter",
    "SiamTrackOutput",
    "SiameseHead",
    "SiameseNetwork",
    "TemplateFeatures",
    "Tracker",
    "TrackerBackend",
]

# A flat tuple of (B, ...) tensors computed once per target by ``encode_template``: the head's
# template-side kernels. A batch of 1 is shared by every search of a call, a batch of B pairs
# template k with search k.
TemplateFeatures = Tuple[torch.Tensor, ...]


class SiamTrackOutput(NamedTuple):
    """Result of one tracking step for all anchors / points.

    Attributes:
        scores: (B, A, H, W) foreground probability (softmax over background/foreground).
        boxes_cxcywh: (B, A, H, W, 4) decoded (cx, cy, w, h), absolute continuous
            search-crop pixel coordinates (the crop centre is (S/2, S/2)).
    """

    scores: torch.Tensor
    boxes_cxcywh: torch.Tensor


@runtime_checkable
class SiameseNetwork(Protocol):
    """A Siamese tracker network (a registered meta-architecture, an ``nn.Module``).

    Stateless: the tracker keeps the state. Inference::

        features = model.encode_template(template_images)   # (B, 3, T, T) BGR 0-255
        output = model.track(features, search_images)        # (B, 3, S, S) BGR 0-255
        output.scores, output.boxes_cxcywh                   # (B, A, H, W), (B, A, H, W, 4)

    ``track(f, x)`` equals ``decode(*raw_outputs(f, x))``: the raw outputs (before softmax and
    box decoding) are what parity tests and exports compare. Training: ``model(batched_inputs)``
    in train mode returns ``losses`` (a dict of weighted scalar losses).
    """

    #: Names of the ``CHECKPOINT_FORMAT_REGISTRY`` formats this network's weights may come in
    #: ("siamtrack": its own checkpoints). Files of any other registered format are refused
    #: with the format's config hint.
    checkpoint_formats: Tuple[str, ...]

    @property
    def template_size(self) -> int:
        """T: side of the template crop in pixels."""

    @property
    def search_size(self) -> int:
        """S: side of the search crop in pixels."""

    @property
    def score_size(self) -> int:
        """H = W of the score map."""

    @property
    def num_anchors(self) -> int:
        """A: anchors (or points) per score-map cell."""

    @property
    def device(self) -> torch.device:
        """Where the network's parameters live (inputs are moved there)."""

    def encode_template(self, template_images: torch.Tensor) -> TemplateFeatures:
        """(B, 3, T, T) uint8 or float BGR -> the flat tuple of template features."""

    def track(
        self, template_features: TemplateFeatures, search_images: torch.Tensor
    ) -> SiamTrackOutput:
        """(B, 3, S, S) uint8 or float BGR + features of batch 1 or B -> scores and boxes."""

    def raw_outputs(
        self, template_features: TemplateFeatures, search_images: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The head's outputs before decoding: (cls logits, box regression), (B, C, H, W)."""

    def decode(self, cls_logits: torch.Tensor, box_regression: torch.Tensor) -> SiamTrackOutput:
        """Scores and absolute boxes from ``raw_outputs``."""

    def losses(
        self,
        template_images: torch.Tensor,
        search_images: torch.Tensor,
        boxes_xyxy: torch.Tensor,
        is_negative: torch.Tensor,
    ) -> Dict[str, torch.Tensor]:
        """Weighted training losses of normalised (B, 3, T, T) / (B, 3, S, S) batches, target
        boxes (B, 4) in search-crop pixels and (B,) negative-pair flags."""


class SiameseHead(Protocol):
    """The correlation head of a meta-architecture (``SIAM_HEAD_REGISTRY``).

    Built as ``head(cfg, input_shape)``: ``input_shape`` maps the name of every feature level
    the head reads to its ``ShapeSpec`` (channels and stride; height and width of the
    *template* feature, which kernels are built from). Anything else it reads from ``cfg``.
    Features are passed as sequences of (B, C, h, w) tensors, one per level, in the order of
    ``input_shape``.
    """

    def template_kernels(self, template_features: Sequence[torch.Tensor]) -> TemplateFeatures:
        """Template side, run once per target: a flat tuple of (B, ...) kernels."""

    def forward_with_kernels(
        self, kernels: TemplateFeatures, search_features: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Search side with cached kernels (batch 1 or B): ``(cls_logits, box_regression)``,
        (B, 2A, H, W) and (B, 4A, H, W) (the layout the meta-architecture decodes)."""

    def forward(
        self, template_features: Sequence[torch.Tensor], search_features: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both sides at once (training): ``forward_with_kernels(template_kernels(z), x)``."""


class TrackerBackend(Protocol):
    """Runs a ``SiameseNetwork`` for the trackers, on numpy crops batched over K targets.

    Implementations: ``TorchBackend``, ``OnnxRuntimeBackend`` (``siamtrack.tracking``);
    ``build_backend(model, options)`` picks one from ``TRACKER.BACKEND``.
    """

    template_size: int
    search_size: int

    @property
    def device(self) -> torch.device:
        """Where the network runs."""

    @property
    def description(self) -> str:
        """One line for logs and ``repr`` (backend, device, options)."""

    def encode_template(self, template_crops: np.ndarray) -> Any:
        """(K, T, T, 3) uint8 BGR crops -> per-target batched features (opaque)."""

    def prepare(self, features: Any) -> None:
        """One-off work once features exist (e.g. a jit trace); may do nothing."""

    def track(self, features: Any, search_crops: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(K, S, S, 3) uint8 BGR crops -> float64 scores (K, A, H, W) and cxcywh boxes
        (K, A, H, W, 4) in search-crop pixels."""

    def concat_features(self, features_list: Sequence[Any]) -> Any:
        """The features of several target batches as one batch (targets added)."""

    def take_features(self, features: Any, indices: Sequence[int]) -> Any:
        """The features of the targets at ``indices`` (targets dropped or repeated)."""


class Tracker(Protocol):
    """A stateful online tracker; boxes are top-left xywh in image pixels, images BGR
    ``uint8`` (H, W, 3) or paths.

    ``SiamTracker`` (one target: ``TrackResult``) and ``MultiTargetTracker`` (several:
    ``MultiTrackResult``, boxes given as ``{target id: box}``) follow it.
    """

    def init(self, image_bgr: np.ndarray, box_xywh: Any) -> Any:
        """Start on a frame from the given box(es); returns the frame-0 result."""

    def update(self, image_bgr: np.ndarray) -> Any:
        """Track one more frame; returns its result (box, score, confidence, present)."""

    def track(self, frames: Any, init_box_xywh: Any) -> Any:
        """``init`` on the first frame, ``update`` on the rest; returns the sequence result
        (boxes N x 4, scores N, times N; frame 0 = the initial box)."""


class ResultWriter(Protocol):
    """Receives every tracked frame of a video run (``track_video``'s writers)."""

    what: str  # the output, as messages name it ("boxes file", ...)

    def write(self, record: Any) -> None:
        """One ``FrameRecord`` (frame index, image, result, readable flag)."""

    def close(self, completed: bool) -> Optional[Any]:
        """Finish the output (``completed`` False: the run stopped early, keep what was
        written); returns the path written, if any."""


class PairSource(Protocol):
    """A training dataset as a compact index of objects (``siamtrack.data.pair_sources``).

    A frame is ``{"file_name": str, "box_xywh": ndarray (4,), "object_id": tuple}``.
    """

    name: str

    @property
    def num_items(self) -> int:
        """Number of "videos": images of a still-image source, sequences otherwise."""

    def sample_positive(self, item: int, rng: np.random.Generator) -> Tuple[Dict, Dict]:
        """(template frame, search frame) of one object of ``item``."""

    def sample_target(self, item: int, rng: np.random.Generator) -> Dict:
        """One frame of one object of ``item`` (negative pairs)."""
