"""SiamFC (Bertinetto et al. 2016, fully-convolutional Siamese networks): ``SiamFC``.

Importing the package registers: the meta-architecture ``SiamFC`` (META_ARCH_REGISTRY), the
backbone ``build_siamfc_alexnet_backbone`` (BACKBONE_REGISTRY), the head ``SiamFCXCorrHead``
(SIAM_HEAD_REGISTRY), the search strategy ``ScalePyramidSearch`` (SEARCH_STRATEGY_REGISTRY)
and the config keys (``add_siamfc_config``). Its weights come only as siamtrack checkpoints
(no upstream release is converted) and it exports in siamtrack's ONNX layout.

- ``meta_arch.py``: ``SiamFC`` (features, decoding, training loss);
- ``backbone.py``: the embedding, the shared AlexNet (``siamtrack.modeling.alexnet``) with
  SiamFC's initialisation (5 convs, BatchNorm, stride 8);
- ``head.py``: plain cross-correlation + the ``adjust`` layer;
- ``geometry.py``: score-map cells in the search crop, the crop sizes that centre them;
- ``losses.py``: logistic labels within a radius, the balanced logistic loss;
- ``search.py``: the tracker (3-scale pyramid, 16x bicubic upsampling, cosine window);
- ``config.py``: ``MODEL.SIAMFC``, ``TRACKER.SCALE_PYRAMID`` (the AlexNet's own keys are the
  shared ``MODEL.ALEXNET``).

Configs: ``configs/siamfc/`` (``Base-SiamFC.yaml``, quick schedules in
``configs/siamfc/quick_schedules/``). See ``docs/siamfc.md``.
"""

from .backbone import build_siamfc_alexnet_backbone, init_siamfc_weights
from .config import add_siamfc_config
from .geometry import ResponseGeometry, cell_centers_xy, receptive_field, response_geometry
from .head import SiamFCXCorrHead, plain_xcorr
from .losses import balanced_logistic_loss, logistic_labels
from .meta_arch import SiamFC
from .search import ScalePyramidSearch

__all__ = [
    "ResponseGeometry",
    "ScalePyramidSearch",
    "SiamFC",
    "SiamFCXCorrHead",
    "add_siamfc_config",
    "balanced_logistic_loss",
    "build_siamfc_alexnet_backbone",
    "cell_centers_xy",
    "init_siamfc_weights",
    "logistic_labels",
    "plain_xcorr",
    "receptive_field",
    "response_geometry",
]
