"""siamtrack's additions to detectron2's config (``add_siamtrack_config``).

Where the numbers come from: ``docs/siamrpnpp.md`` (pysot's SiamRPN++ r50 l234 recipe) and
``docs/nanotrack.md``. Keys that detectron2 already has
(``MODEL.RESNETS.*``, ``SOLVER.*``, ``DATASETS.*``, ``TEST.EVAL_PERIOD``) are reused and set in
``configs/Base-SiamRPN.yaml`` instead of being duplicated here.
"""

import logging
import os
from typing import List, Optional

import yaml
from detectron2.config import CfgNode as CN
from detectron2.config import get_cfg

from .tracking.network_contract import available_device
from .tracking.options import InferenceOptions

logger = logging.getLogger(__name__)


def add_siamtrack_config(cfg: CN) -> CN:
    """Add siamtrack's keys to a detectron2 config in place (and return it).

    Calling it twice is harmless: keys that already exist keep their values.
    """
    if getattr(cfg.MODEL, "SIAMESE", None) is not None:
        return cfg
    _add_model_config(cfg)
    _add_anchor_free_config(cfg)
    _add_input_config(cfg)
    _add_dataset_config(cfg)
    _add_solver_config(cfg)
    _add_tracker_config(cfg)
    return cfg


def load_config(config_file: str, opts: Optional[List[str]] = None) -> CN:
    """``get_cfg()`` + ``add_siamtrack_config`` + the yaml (with ``_BASE_``) + ``KEY VALUE`` opts.

    Errors name the file or the override that is wrong. ``MODEL.DEVICE`` "cuda" falls back to
    "cpu" (with a warning) on machines without CUDA.
    """
    if not config_file:
        raise ValueError("no config file given (e.g. configs/nanotrack/nanotrack_v3.yaml)")
    if not os.path.isfile(config_file):
        raise FileNotFoundError(f"config file {config_file} does not exist")
    opts = list(opts or [])
    if len(opts) % 2:
        raise ValueError(f"config overrides must be KEY VALUE pairs, got an odd list: {opts}")
    cfg = add_siamtrack_config(get_cfg())
    try:
        cfg.merge_from_file(config_file)
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"config file {config_file} is not valid YAML: {detail}") from None
    except (AssertionError, KeyError, ValueError, TypeError, AttributeError) as error:
        # yacs: unknown key, bad value type, a file that is not a mapping
        raise ValueError(f"config file {config_file}: {error}") from None
    try:
        cfg.merge_from_list(opts)
    except (AssertionError, KeyError, ValueError) as error:
        raise ValueError(f"config overrides {opts}: {error}") from None
    cfg.MODEL.DEVICE = available_device(cfg.MODEL.DEVICE)
    return cfg


def _add_model_config(cfg: CN) -> None:
    # Load MODEL.WEIGHTS (and resumed checkpoints) with full unpickling. Off: weight files are
    # read with torch.load(weights_only=True) plus an allow-list of numpy scalars/dtypes/arrays,
    # so a file cannot run code; turn it on only for a file from a source you trust.
    cfg.MODEL.TRUST_WEIGHTS = False
    # Backbone stages (children of the backbone: "stem", "res2".."res5" for ResNets, "stem",
    # "block1".."blockN" for MobileNetV3) trained after SOLVER.BACKBONE_UNFREEZE_ITER (frozen,
    # BN in eval mode, before it). Stages up to MODEL.BACKBONE.FREEZE_AT stay frozen for good.
    cfg.MODEL.BACKBONE.TRAIN_STAGES = []

    # ---------------------------------------------------------------- Siamese input geometry
    cfg.MODEL.SIAMESE = CN()
    # Side (px) of the square template (exemplar) crop fed to the network.
    cfg.MODEL.SIAMESE.TEMPLATE_SIZE = 127
    # Side (px) of the square search (instance) crop fed to the network.
    cfg.MODEL.SIAMESE.SEARCH_SIZE = 255
    # Context added around a w x h target before cropping: the template crop covers a square of
    # side sqrt((w + a(w+h)) * (h + a(w+h))) with a = CONTEXT_AMOUNT, resized to TEMPLATE_SIZE.
    cfg.MODEL.SIAMESE.CONTEXT_AMOUNT = 0.5

    # ---------------------------------------------------------------- dilated ResNet backbone
    # Depth, widths, norm and OUT_FEATURES come from detectron2's MODEL.RESNETS.* keys.
    cfg.MODEL.SIAM_RESNET = CN()
    # "pysot": pysot's resnet_atrous layout (7x7 stem with padding 0, 3x3 projection shortcuts,
    #   15x15 template / 31x31 search features) so pysot's checkpoints load exactly; crop sizes
    #   8n + 7 (127/255) centre its receptive-field grid.
    # "standard": torchvision/detectron2 ResNet layout (padded stem, 1x1 shortcuts) so ImageNet
    #   checkpoints (detectron2 .pkl, torchvision resnet*.pth) load; crop sizes 8n + 1 (129/257).
    cfg.MODEL.SIAM_RESNET.LAYOUT = "pysot"
    # Dilation of res4 and res5; these stages keep stride 1, so the total stride stays 8.
    cfg.MODEL.SIAM_RESNET.RES4_DILATION = 2
    cfg.MODEL.SIAM_RESNET.RES5_DILATION = 4

    # ---------------------------------------------------------------- neck (docs/siamrpnpp.md#network)
    cfg.MODEL.SIAM_NECK = CN()
    # Channels of the 1x1 conv + BN that adjusts every backbone level.
    cfg.MODEL.SIAM_NECK.OUT_CHANNELS = 256
    # Side of the centre crop applied to template features (15x15 -> 7x7) when they are larger;
    # 0 disables it.
    cfg.MODEL.SIAM_NECK.TEMPLATE_CROP_SIZE = 7

    # ---------------------------------------------------------------- RPN head (docs/siamrpnpp.md)
    cfg.MODEL.SIAM_RPN = CN()
    # Registered name in SIAM_RPN_HEAD_REGISTRY.
    cfg.MODEL.SIAM_RPN.HEAD_NAME = "MultiLevelDepthwiseRPNHead"
    # Backbone levels that get a neck branch and a depthwise-xcorr RPN head each.
    cfg.MODEL.SIAM_RPN.IN_FEATURES = ["res3", "res4", "res5"]
    # Channels of the template/search 3x3 convs and of the hidden 1x1 conv in each head.
    cfg.MODEL.SIAM_RPN.HIDDEN_CHANNELS = 256
    # True: levels fused with learned softmax weights; False: plain mean of the levels.
    cfg.MODEL.SIAM_RPN.WEIGHTED_FUSION = True
    # Anchor grid spacing in search-crop pixels (the network's total stride).
    cfg.MODEL.SIAM_RPN.ANCHOR_STRIDE = 8
    # Anchor aspect ratios (h / w) and scales (anchor side = STRIDE * scale before the ratio).
    cfg.MODEL.SIAM_RPN.ANCHOR_RATIOS = [0.33, 0.5, 1.0, 2.0, 3.0]
    cfg.MODEL.SIAM_RPN.ANCHOR_SCALES = [8.0]
    # Anchors with IoU >= the upper threshold are positives, < the lower one negatives.
    cfg.MODEL.SIAM_RPN.IOU_THRESHOLDS = [0.3, 0.6]
    # Per positive pair: at most POSITIVE_NUM positives and NEGATIVE_NUM negatives are sampled.
    cfg.MODEL.SIAM_RPN.POSITIVE_NUM = 16
    cfg.MODEL.SIAM_RPN.NEGATIVE_NUM = 48
    # Per negative pair: NEGATIVE_PAIR_NUM anchors sampled as negatives from the
    # (2R+1) x (2R+1) cells around the distractor's centre, R = NEGATIVE_PAIR_RADIUS.
    cfg.MODEL.SIAM_RPN.NEGATIVE_PAIR_NUM = 16
    cfg.MODEL.SIAM_RPN.NEGATIVE_PAIR_RADIUS = 3
    # total loss = CLS_LOSS_WEIGHT * cls + LOC_LOSS_WEIGHT * loc
    cfg.MODEL.SIAM_RPN.CLS_LOSS_WEIGHT = 1.0
    cfg.MODEL.SIAM_RPN.LOC_LOSS_WEIGHT = 1.2
    # Bound of |dw| and |dh| before exp() when decoding boxes (detectron2's Box2BoxTransform
    # scale_clamp, applied both ways): box sides stay within 1/62.5x .. 62.5x an anchor's.
    cfg.MODEL.SIAM_RPN.SCALE_CLAMP = 4.135166556742356


def _add_anchor_free_config(cfg: CN) -> None:
    # ---------------------------------------------------------------- MobileNetV3-Small backbone
    # (NanoTrack's; docs/nanotrack.md)
    cfg.MODEL.MOBILENET_V3 = CN()
    # Stem + the first NUM_BLOCKS bneck blocks of MobileNetV3-Small (v1/v2: 8 -> 48 channels,
    # v3: 9 -> 96 channels).
    cfg.MODEL.MOBILENET_V3.NUM_BLOCKS = 8
    # Total stride cap: a block whose stride would exceed it keeps stride 1 (v3's block 9).
    cfg.MODEL.MOBILENET_V3.MAX_STRIDE = 16
    cfg.MODEL.MOBILENET_V3.NORM = "BN"

    # ---------------------------------------------------------------- anchor-free (BAN) head
    cfg.MODEL.SIAM_BAN = CN()
    # Registered name in SIAM_BAN_HEAD_REGISTRY (NanoTrackV1Head, NanoTrackV2Head, ...).
    cfg.MODEL.SIAM_BAN.HEAD_NAME = "NanoTrackV2Head"
    cfg.MODEL.SIAM_BAN.NORM = "BN"
    # Spacing (search-crop px) of the score-map points; point S // 2 sits on the crop centre.
    cfg.MODEL.SIAM_BAN.POINT_STRIDE = 16
    # Per positive pair: at most POSITIVE_NUM points inside the (w/4, h/4) ellipse are
    # positives and NEGATIVE_NUM points outside the (w/2, h/2) ellipse negatives; per negative
    # pair NEGATIVE_PAIR_NUM points inside the distractor's (w/4, h/4) ellipse are negatives.
    cfg.MODEL.SIAM_BAN.POSITIVE_NUM = 16
    cfg.MODEL.SIAM_BAN.NEGATIVE_NUM = 48
    cfg.MODEL.SIAM_BAN.NEGATIVE_PAIR_NUM = 16
    # total loss = CLS_LOSS_WEIGHT * cross-entropy + LOC_LOSS_WEIGHT * linear IoU loss
    cfg.MODEL.SIAM_BAN.CLS_LOSS_WEIGHT = 1.0
    cfg.MODEL.SIAM_BAN.LOC_LOSS_WEIGHT = 1.0


def _add_input_config(cfg: CN) -> None:
    # Pair-crop augmentation (docs/siamrpnpp.md#training-recipe), applied independently to template and search crops.
    # SHIFT: max random shift in output-crop pixels; SCALE: max relative size change per axis;
    # BLUR / FLIP / COLOR: probabilities of motion blur, horizontal flip and PCA colour jitter.
    cfg.INPUT.TEMPLATE_AUG = CN()
    cfg.INPUT.TEMPLATE_AUG.SHIFT = 4
    cfg.INPUT.TEMPLATE_AUG.SCALE = 0.05
    cfg.INPUT.TEMPLATE_AUG.BLUR = 0.0
    cfg.INPUT.TEMPLATE_AUG.FLIP = 0.0
    cfg.INPUT.TEMPLATE_AUG.COLOR = 1.0
    cfg.INPUT.SEARCH_AUG = CN()
    cfg.INPUT.SEARCH_AUG.SHIFT = 64
    cfg.INPUT.SEARCH_AUG.SCALE = 0.18
    cfg.INPUT.SEARCH_AUG.BLUR = 0.2
    cfg.INPUT.SEARCH_AUG.FLIP = 0.0
    cfg.INPUT.SEARCH_AUG.COLOR = 1.0
    # Probability that a training pair is negative (search crop around another object).
    cfg.INPUT.NEGATIVE_PAIR_PROB = 0.2
    # Probability that both crops of a pair are converted to grayscale.
    cfg.INPUT.GRAY_PROB = 0.0


def _add_dataset_config(cfg: CN) -> None:
    # Sampling weight of each DATASETS.TRAIN source (same order, or one value for all); empty =
    # proportional to size (number of images of a still-image source, of sequences otherwise).
    cfg.DATASETS.TRAIN_WEIGHTS = []
    # Max distance (frame numbers) between template and search frame, per DATASETS.TRAIN source
    # (or one value for all); empty = 100 for every source. Still-image sources use gap 0.
    cfg.DATASETS.TRAIN_FRAME_RANGE = []
    # Pairs per "epoch" (pysot's VIDEOS_PER_EPOCH): each epoch splits this many samples between
    # the sources by weight and uses a source's images/sequences evenly (pysot's NUM_USE idea).
    cfg.DATASETS.SAMPLES_PER_EPOCH = 600000
    # Objects / frames whose box is smaller than this (px, either side) are never used as targets.
    cfg.DATASETS.MIN_BOX_SIZE = 4.0
    # Skip COCO crowd boxes (iscrowd=1) as targets.
    cfg.DATASETS.SKIP_CROWD = True


def _add_solver_config(cfg: CN) -> None:
    # SiamRPN++ schedule (docs/siamrpnpp.md#training-recipe): SOLVER.WARMUP_ITERS of geometric warm-up from
    # BASE_LR * WARMUP_FACTOR to BASE_LR, then log-linear decay to BASE_LR * LOG_DECAY_END_FACTOR
    # at MAX_ITER. Used when SOLVER.LR_SCHEDULER_NAME == "WarmupLogDecayLR".
    cfg.SOLVER.LOG_DECAY_END_FACTOR = 0.1
    # Iteration at which MODEL.BACKBONE.TRAIN_STAGES start training (pysot: epoch 10 of 20).
    # A negative value never unfreezes them.
    cfg.SOLVER.BACKBONE_UNFREEZE_ITER = 0
    # Learning-rate multiplier of backbone parameters once unfrozen.
    cfg.SOLVER.BACKBONE_LR_FACTOR = 0.1


def _add_tracker_config(cfg: CN) -> None:
    # Online tracker hyper-parameters (docs/siamrpnpp.md#tracker).
    cfg.TRACKER = CN()
    # Scale/aspect-ratio change penalty: penalty = exp(-(r_c * s_c - 1) * PENALTY_K).
    cfg.TRACKER.PENALTY_K = 0.04
    # Weight of the cosine (Hann) window blended into the penalised scores.
    cfg.TRACKER.WINDOW_INFLUENCE = 0.44
    # Size smoothing: new size = (1 - lr) * old + lr * predicted, lr = penalty * score * LR.
    cfg.TRACKER.LR = 0.4
    # Smallest box side (px) the tracker reports.
    cfg.TRACKER.MIN_SIZE = 10.0
    # A target is reported lost (TrackResult.lost) after LOST_FRAMES frames in a row with a raw
    # score below LOST_SCORE; it keeps being searched for, and the flag clears on recovery.
    cfg.TRACKER.LOST_SCORE = 0.3
    cfg.TRACKER.LOST_FRAMES = 5
    # How the network runs (siamtrack.tracking.options.InferenceOptions documents each key and
    # holds the defaults). BACKEND: "torch" or "onnxruntime" (siamtrack's ONNX graphs, exported
    # in memory at start, or read from ONNX_DIR, written by tools/export_onnx.py).
    defaults = InferenceOptions()
    cfg.TRACKER.BACKEND = defaults.backend
    cfg.TRACKER.ONNX_DIR = defaults.onnx_dir
    # torch backend: fold BatchNorm into the convs; trace + freeze the per-frame step with
    # torch.jit (fp32 CPU); same outputs up to float rounding.
    cfg.TRACKER.FOLD_BATCHNORM = defaults.fold_batchnorm
    cfg.TRACKER.JIT_FREEZE = defaults.jit_freeze
    # torch backend, opt-in, different outputs: autocast precision "fp32" | "bf16" | "fp16"
    # (fp16 on CUDA only), channels-last memory format, torch.compile of the per-frame step.
    cfg.TRACKER.PRECISION = defaults.precision
    cfg.TRACKER.CHANNELS_LAST = defaults.channels_last
    cfg.TRACKER.COMPILE = defaults.compile
