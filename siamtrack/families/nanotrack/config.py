"""NanoTrack's config keys (``add_nanotrack_config``): the MobileNetV3-Small backbone and the
anchor-free (BAN) head's points, targets and losses (``docs/nanotrack.md``).

Registered with ``siamtrack.config``, so ``add_siamtrack_config`` adds these keys too.
"""

from detectron2.config import CfgNode as CN

from ...config import register_config_adder

__all__ = ["add_nanotrack_config"]


@register_config_adder
def add_nanotrack_config(cfg: CN) -> None:
    """Add ``MODEL.MOBILENET_V3`` and ``MODEL.NANOTRACK`` in place."""
    # ---------------------------------------------------------------- MobileNetV3-Small backbone
    cfg.MODEL.MOBILENET_V3 = CN()
    # Stem + the first NUM_BLOCKS bneck blocks of MobileNetV3-Small (v1/v2: 8 -> 48 channels,
    # v3: 9 -> 96 channels).
    cfg.MODEL.MOBILENET_V3.NUM_BLOCKS = 8
    # Total stride cap: a block whose stride would exceed it keeps stride 1 (v3's block 9).
    cfg.MODEL.MOBILENET_V3.MAX_STRIDE = 16
    cfg.MODEL.MOBILENET_V3.NORM = "BN"

    # ---------------------------------------------------------------- anchor-free (BAN) head
    # (the head itself: MODEL.SIAMESE.HEAD_NAME "NanoTrackV1Head" / "NanoTrackV2Head" / ...)
    cfg.MODEL.NANOTRACK = CN()
    # Normalisation in the head's correlations and towers.
    cfg.MODEL.NANOTRACK.NORM = "BN"
    # Spacing (search-crop px) of the score-map points; point S // 2 sits on the crop centre.
    cfg.MODEL.NANOTRACK.POINT_STRIDE = 16
    # Per positive pair: at most POSITIVE_NUM points inside the (w/4, h/4) ellipse are
    # positives and NEGATIVE_NUM points outside the (w/2, h/2) ellipse negatives; per negative
    # pair NEGATIVE_PAIR_NUM points inside the distractor's (w/4, h/4) ellipse are negatives.
    cfg.MODEL.NANOTRACK.POSITIVE_NUM = 16
    cfg.MODEL.NANOTRACK.NEGATIVE_NUM = 48
    cfg.MODEL.NANOTRACK.NEGATIVE_PAIR_NUM = 16
    # total loss = CLS_LOSS_WEIGHT * cross-entropy + LOC_LOSS_WEIGHT * linear IoU loss
    cfg.MODEL.NANOTRACK.CLS_LOSS_WEIGHT = 1.0
    cfg.MODEL.NANOTRACK.LOC_LOSS_WEIGHT = 1.0
