"""SiamFC's config keys (``add_siamfc_config``): the ``adjust`` layer and the training labels
(``MODEL.SIAMFC``) and the scale pyramid of its tracker (``TRACKER.SCALE_PYRAMID``). The
embedding is the shared AlexNet, configured by ``MODEL.ALEXNET`` (``siamtrack.modeling.alexnet``).

Where the numbers come from: ``docs/siamfc.md`` (Bertinetto et al. 2016 and the authors'
code). The tracker also reads the shared ``TRACKER.WINDOW_INFLUENCE``, ``TRACKER.LR`` and
``TRACKER.MIN_SIZE``, which ``configs/siamfc/Base-SiamFC.yaml`` sets to SiamFC's values.
Registered with ``siamtrack.config``, so ``add_siamtrack_config`` adds these keys too (after the
shared ones, so ``TRACKER`` exists).
"""

from detectron2.config import CfgNode as CN

from ...config import register_config_adder

__all__ = ["add_siamfc_config"]


@register_config_adder
def add_siamfc_config(cfg: CN) -> None:
    """Add ``MODEL.SIAMFC`` and ``TRACKER.SCALE_PYRAMID`` in place."""
    # ---------------------------------------------------------------- head and training labels
    # (the embedding: MODEL.BACKBONE.NAME "build_siamfc_alexnet_backbone" with the shared
    # MODEL.ALEXNET keys; the head: MODEL.SIAMESE.HEAD_NAME "SiamFCXCorrHead")
    cfg.MODEL.SIAMFC = CN()
    # The "adjust" layer: response = ADJUST_SCALE * xcorr + bias (bias learned). The scale is
    # learned too only with ADJUST_LEARN_SCALE (the authors' code keeps it at 1e-3).
    cfg.MODEL.SIAMFC.ADJUST_SCALE = 0.001
    cfg.MODEL.SIAMFC.ADJUST_LEARN_SCALE = False
    # Training labels: score-map cells whose centre lies within this many search-crop pixels
    # of the target's centre are positives (the paper's R = 16: 2 cells at stride 8), all
    # others negatives; the balanced logistic loss weighs both halves equally.
    cfg.MODEL.SIAMFC.POSITIVE_RADIUS = 16.0

    # ---------------------------------------------------------------- tracker: scale pyramid
    # (TRACKER.SEARCH "ScalePyramidSearch"; docs/siamfc.md#tracker)
    cfg.TRACKER.SCALE_PYRAMID = CN()
    # Search crops per target and frame (odd), at sides x * SCALE_STEP ** k, k = -n//2 .. n//2.
    cfg.TRACKER.SCALE_PYRAMID.NUM_SCALES = 3
    cfg.TRACKER.SCALE_PYRAMID.SCALE_STEP = 1.0375
    # The score maps of the scales other than 1 are multiplied by this before the best is taken.
    cfg.TRACKER.SCALE_PYRAMID.SCALE_PENALTY = 0.9745
    # Bicubic upsampling factor of the score maps (17x17 -> 272x272).
    cfg.TRACKER.SCALE_PYRAMID.UPSAMPLE = 16
