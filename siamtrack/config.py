"""siamtrack's additions to detectron2's config (``add_siamtrack_config``).

The shared keys live here: the Siamese crop geometry and head name (``MODEL.SIAMESE``), input
augmentation, datasets, solver and tracker. Each model family adds its own keys (backbone,
neck, head, box coding, losses) with an adder it registers with ``register_config_adder``
(``siamtrack/families/<name>/config.py``); ``add_siamtrack_config`` calls every registered
adder, so adding a family's keys needs no change here. Keys that detectron2 already has
(``MODEL.RESNETS.*``, ``SOLVER.*``, ``DATASETS.*``, ``TEST.EVAL_PERIOD``) are reused and set in
the families' ``Base-*.yaml`` instead of being duplicated here.
"""

import logging
import os
from typing import Callable, List, Optional

import yaml
from detectron2.config import CfgNode as CN
from detectron2.config import get_cfg

from .errors import BadInputError, ConfigError
from .inference_options import InferenceOptions
from .model_zoo import get_config_file, get_model, list_models
from .utils.devices import best_device, resolve_device

__all__ = [
    "CONFIG_ADDERS",
    "add_siamtrack_config",
    "config_from_args",
    "load_config",
    "register_config_adder",
]

logger = logging.getLogger(__name__)

# The families' config adders, in registration order (``register_config_adder``).
CONFIG_ADDERS: List[Callable[[CN], None]] = []


def register_config_adder(adder: Callable[[CN], None]) -> Callable[[CN], None]:
    """Register a family's ``add_<family>_config(cfg)`` (usable as a decorator): it adds the
    family's keys to a config in place, and ``add_siamtrack_config`` calls it after adding the
    shared keys. Registering the same function twice is harmless."""
    if adder not in CONFIG_ADDERS:
        CONFIG_ADDERS.append(adder)
    return adder


def add_siamtrack_config(cfg: CN) -> CN:
    """Add siamtrack's keys to a detectron2 config in place (and return it).

    Calling it twice is harmless: keys that already exist keep their values.
    """
    if getattr(cfg.MODEL, "SIAMESE", None) is not None:
        return cfg
    _add_model_config(cfg)
    _add_input_config(cfg)
    _add_dataset_config(cfg)
    _add_solver_config(cfg)
    _add_tracker_config(cfg)
    # after every shared node exists, so a family may add keys under one (e.g. TRACKER.*)
    for add_family_config in CONFIG_ADDERS:
        add_family_config(cfg)
    return cfg


def load_config(config_file: str, opts: Optional[List[str]] = None) -> CN:
    """``get_cfg()`` + ``add_siamtrack_config`` + the yaml (with ``_BASE_``) + ``KEY VALUE`` opts.

    ``MODEL.DEVICE`` "auto" (or empty) becomes the best device of this machine ("cuda" when
    available, else "cpu"); any other value must be usable here.

    Raises:
        ConfigError: no file given, malformed yaml, unknown keys or bad values, an odd
            ``opts`` list or a ``MODEL.DEVICE`` this machine lacks (the message names the file
            or the override).
        FileNotFoundError: ``config_file`` does not exist.
    """
    if not config_file:
        raise ConfigError("no config file given (a yaml file such as those under configs/)")
    if not os.path.isfile(config_file):
        raise FileNotFoundError(f"config file {config_file} does not exist")
    opts = list(opts or [])
    if len(opts) % 2:
        raise ConfigError(f"config overrides must be KEY VALUE pairs, got an odd list: {opts}")
    cfg = add_siamtrack_config(get_cfg())
    try:
        cfg.merge_from_file(config_file)
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise ConfigError(f"config file {config_file} is not valid YAML: {detail}") from None
    except (AssertionError, KeyError, ValueError, TypeError, AttributeError) as error:
        # yacs: unknown key, bad value type, a file that is not a mapping
        raise ConfigError(f"config file {config_file}: {error}") from None
    try:
        cfg.merge_from_list(opts)
    except (AssertionError, KeyError, ValueError) as error:
        raise ConfigError(f"config overrides {opts}: {error}") from None
    try:
        cfg.MODEL.DEVICE = str(resolve_device(cfg.MODEL.DEVICE))
    except BadInputError as error:
        raise ConfigError(f"MODEL.DEVICE: {error}") from None
    return cfg


def config_from_args(args) -> CN:
    """The frozen config of a tool's model arguments (``siamtrack.cli.add_model_arguments``).

    Reads ``args.config_file`` (optional when ``args.weights`` is a model zoo name: the entry's
    config is used), ``args.weights`` (-> ``MODEL.WEIGHTS``), ``args.trust_weights`` (->
    ``MODEL.TRUST_WEIGHTS``), ``args.device`` (-> ``MODEL.DEVICE``) and ``args.opts``
    (``KEY VALUE`` overrides, applied last, before the device); attributes a tool does not
    have are skipped.

    Raises:
        ConfigError: as ``load_config``, or neither a config nor a model zoo name given.
    """
    config_file = getattr(args, "config_file", None)
    weights = getattr(args, "weights", None)
    if not config_file:
        if not weights:
            raise ConfigError(
                "give --config-file (and --weights), or a model zoo name as --weights"
            )
        if weights not in list_models():
            raise ConfigError(
                f"--weights {weights} is not a model zoo name ({', '.join(list_models())}); "
                "a weight file needs its model's --config-file"
            )
        config_file = get_config_file(get_model(weights).name)
    opts = list(getattr(args, "opts", None) or [])
    device = getattr(args, "device", None)
    if device:
        opts += ["MODEL.DEVICE", device]
    cfg = load_config(config_file, opts)
    if weights:
        cfg.MODEL.WEIGHTS = weights
    if getattr(args, "trust_weights", False):
        cfg.MODEL.TRUST_WEIGHTS = True
    cfg.freeze()
    return cfg


def _add_model_config(cfg: CN) -> None:
    # Where the model runs (detectron2's key, whose default is "cuda"): the best device of this
    # machine, "cuda" when CUDA is available, else "cpu". A config file or override may say
    # "auto" for the same; an explicit "cuda" where CUDA is not available is an error.
    cfg.MODEL.DEVICE = best_device()
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
    # Correlation head, by its name in SIAM_HEAD_REGISTRY (siamtrack.modeling.heads); every
    # family's Base-*.yaml sets it ("MultiLevelDepthwiseRPNHead", "NanoTrackV3Head", ...).
    cfg.MODEL.SIAMESE.HEAD_NAME = ""


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
    # Search strategy of the tracker (registered in SEARCH_STRATEGY_REGISTRY): how the local
    # search crops around a target and reads the network's maps. "PenaltyWindowSearch": the
    # SiamRPN++ / NanoTrack step (PENALTY_K, WINDOW_INFLUENCE, LR, MIN_SIZE above).
    cfg.TRACKER.SEARCH = "PenaltyWindowSearch"
    # Presence (docs/longterm.md): every result carries a confidence in [0, 1], the probability
    # that its box is on the target, and present = confidence >= PRESENCE_THRESHOLD.
    # PRESENCE_MODEL: the JSON of a presence model fit for this network (tools/fit_presence.py;
    # a path, or relative to the packaged configs folder); "" uses the raw score as confidence.
    cfg.TRACKER.PRESENCE_MODEL = ""
    cfg.TRACKER.PRESENCE_THRESHOLD = 0.5
    # Long-term tracking: a target reported absent for REDETECT_AFTER frames in a row is also
    # searched for in the whole frame: besides its local search, REDETECT_CROPS tiles of the
    # frame join the frame's one batched network call, and the target jumps to a tile's
    # candidate that reaches PRESENCE_THRESHOLD with a higher confidence than the local one.
    cfg.TRACKER.LONG_TERM = False
    cfg.TRACKER.REDETECT_AFTER = 3
    cfg.TRACKER.REDETECT_CROPS = 2
    # How the network runs (siamtrack.inference_options.InferenceOptions documents each key and
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
