"""Reading checkpoint files and renaming pysot / NanoTrack / torchvision keys to siamtrack's.

Files are read without running code from them (``safe_load.py``). Formats recognised
(``read_checkpoint``), after stripping ``module.`` prefixes:

- ``"siamtrack"``: ``{"model": state_dict, ...}`` written by ``SiamCheckpointer.save`` (or a bare
  state dict) with keys ``backbone.stem...``, ``neck.adjust...``, ``rpn_head.levels...``.
- ``"pysot"``: pysot's ``model.pth`` (``ModelBuilder.state_dict()``), bare or wrapped as
  ``{"state_dict": ..., "epoch": ..., "optimizer": ...}`` by pysot's training; keys
  ``backbone.layer1...``, ``neck.downsample2...``, ``rpn_head.rpn2...``.
- ``"nanotrack"``: NanoTrack v1/v2/v3's released ``{"epoch", "state_dict", "optimizer"}``
  files (keys ``backbone.features...``, ``neck.downsample...``, ``ban_head...``); renamed by
  ``nanotrack.py``, the never-used neck keys dropped.
- ``"resnet"``: an ImageNet ResNet with torchvision names (``conv1.weight``, ``bn1.*``,
  ``layer1.0.conv1.weight``, ``fc.*``): torchvision's ``resnet*.pth`` or pysot's own
  ``pretrained_models/resnet50.model``. The ``fc`` classifier is dropped.

Name mapping (pysot/torchvision -> siamtrack): ``conv1``/``bn1`` -> ``stem.conv1``/
``stem.conv1.norm``; ``layerL.i.convK``/``bnK`` -> ``res{L+1}.i.convK``/``convK.norm``;
``downsample.0``/``.1`` -> ``shortcut``/``shortcut.norm``; ``neck.downsampleN.downsample.0``/
``.1`` -> ``neck.adjust.res{N+1}``/``.norm``; ``rpn_head.rpnN.{cls,loc}.conv_kernel`` /
``conv_search`` / ``head.0`` / ``head.1`` / ``head.3`` -> ``rpn_head.levels.res{N+1}.{cls,loc}.
template_conv`` / ``search_conv`` / ``head_conv`` / ``head_conv.norm`` / ``predictor``;
``rpn_head.{cls,loc}_weight`` -> ``rpn_head.{cls,loc}_fusion_weights``.
"""

import logging
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from .nanotrack import nanotrack_to_siamtrack_state_dict, nanotrack_version
from .safe_load import UnsafeCheckpointError, load_torch_file

__all__ = [
    "InvalidCheckpointError",
    "read_checkpoint",
    "detect_state_dict_format",
    "pysot_to_siamtrack_state_dict",
    "siamtrack_to_pysot_state_dict",
    "resnet_to_siamtrack_state_dict",
]

logger = logging.getLogger(__name__)

StateDict = Dict[str, torch.Tensor]
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


class InvalidCheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


def _level(index: str) -> str:
    return f"res{int(index) + 1}"


def _backbone_rules(src: str, dst: str) -> List[Tuple[str, Callable]]:
    """Rules torchvision-style (prefix ``src``) -> siamtrack backbone names (prefix ``dst``)."""
    return [
        (rf"{src}conv1\.weight", lambda m: f"{dst}stem.conv1.weight"),
        (rf"{src}bn1\.{_BN}", lambda m: f"{dst}stem.conv1.norm.{m[1]}"),
        (
            rf"{src}layer(\d)\.(\d+)\.conv(\d)\.weight",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.conv{m[3]}.weight",
        ),
        (
            rf"{src}layer(\d)\.(\d+)\.bn(\d)\.{_BN}",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.conv{m[3]}.norm.{m[4]}",
        ),
        (
            rf"{src}layer(\d)\.(\d+)\.downsample\.0\.weight",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.shortcut.weight",
        ),
        (
            rf"{src}layer(\d)\.(\d+)\.downsample\.1\.{_BN}",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.shortcut.norm.{m[3]}",
        ),
    ]


_HEAD_PARTS = {"conv_kernel": "template_conv", "conv_search": "search_conv", "head": "head_conv"}

_PYSOT_RULES = _backbone_rules(r"backbone\.", "backbone.") + [
    (
        r"neck\.downsample(\d)\.downsample\.0\.weight",
        lambda m: f"neck.adjust.{_level(m[1])}.weight",
    ),
    (
        rf"neck\.downsample(\d)\.downsample\.1\.{_BN}",
        lambda m: f"neck.adjust.{_level(m[1])}.norm.{m[2]}",
    ),
    (r"rpn_head\.(cls|loc)_weight", lambda m: f"rpn_head.{m[1]}_fusion_weights"),
    (
        r"rpn_head\.rpn(\d)\.(cls|loc)\.(conv_kernel|conv_search|head)\.0\.weight",
        lambda m: f"rpn_head.levels.{_level(m[1])}.{m[2]}.{_HEAD_PARTS[m[3]]}.weight",
    ),
    (
        rf"rpn_head\.rpn(\d)\.(cls|loc)\.(conv_kernel|conv_search|head)\.1\.{_BN}",
        lambda m: f"rpn_head.levels.{_level(m[1])}.{m[2]}.{_HEAD_PARTS[m[3]]}.norm.{m[4]}",
    ),
    (
        r"rpn_head\.rpn(\d)\.(cls|loc)\.head\.3\.(weight|bias)",
        lambda m: f"rpn_head.levels.{_level(m[1])}.{m[2]}.predictor.{m[3]}",
    ),
]
_RESNET_RULES = _backbone_rules("", "backbone.")


_PARTS_BACK = {v: k for k, v in _HEAD_PARTS.items()}
_LEVEL_PART = r"rpn_head\.levels\.res(\d)\.(cls|loc)\.(template_conv|search_conv|head_conv)"
_REVERSE_RULES = [
    (r"backbone\.stem\.conv1\.weight", lambda m: "backbone.conv1.weight"),
    (rf"backbone\.stem\.conv1\.norm\.{_BN}", lambda m: f"backbone.bn1.{m[1]}"),
    (
        r"backbone\.res(\d)\.(\d+)\.conv(\d)\.weight",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.conv{m[3]}.weight",
    ),
    (
        rf"backbone\.res(\d)\.(\d+)\.conv(\d)\.norm\.{_BN}",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.bn{m[3]}.{m[4]}",
    ),
    (
        r"backbone\.res(\d)\.(\d+)\.shortcut\.weight",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.downsample.0.weight",
    ),
    (
        rf"backbone\.res(\d)\.(\d+)\.shortcut\.norm\.{_BN}",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.downsample.1.{m[3]}",
    ),
    (
        r"neck\.adjust\.res(\d)\.weight",
        lambda m: f"neck.downsample{int(m[1]) - 1}.downsample.0.weight",
    ),
    (
        rf"neck\.adjust\.res(\d)\.norm\.{_BN}",
        lambda m: f"neck.downsample{int(m[1]) - 1}.downsample.1.{m[2]}",
    ),
    (r"rpn_head\.(cls|loc)_fusion_weights", lambda m: f"rpn_head.{m[1]}_weight"),
    (
        rf"{_LEVEL_PART}\.weight",
        lambda m: f"rpn_head.rpn{int(m[1]) - 1}.{m[2]}.{_PARTS_BACK[m[3]]}.0.weight",
    ),
    (
        rf"{_LEVEL_PART}\.norm\.{_BN}",
        lambda m: f"rpn_head.rpn{int(m[1]) - 1}.{m[2]}.{_PARTS_BACK[m[3]]}.1.{m[4]}",
    ),
    (
        r"rpn_head\.levels\.res(\d)\.(cls|loc)\.predictor\.(weight|bias)",
        lambda m: f"rpn_head.rpn{int(m[1]) - 1}.{m[2]}.head.3.{m[3]}",
    ),
]


def _rename(state_dict: StateDict, rules, ignore: Optional[str] = None) -> Tuple[StateDict, list]:
    """Apply the first matching rule to every key; return (renamed, unmapped keys)."""
    compiled = [(re.compile(pattern + r"$"), fn) for pattern, fn in rules]
    renamed, unmapped = {}, []
    for key, value in state_dict.items():
        if ignore and re.match(ignore, key):
            continue
        for pattern, fn in compiled:
            match = pattern.match(key)
            if match:
                renamed[fn(match)] = value
                break
        else:
            unmapped.append(key)
    return renamed, unmapped


def _raise_unmapped(unmapped: List[str], what: str, source: str) -> None:
    if unmapped:
        shown = ", ".join(unmapped[:20]) + (" ..." if len(unmapped) > 20 else "")
        raise InvalidCheckpointError(
            f"{source}: {len(unmapped)} {what} key(s) have no siamtrack equivalent: {shown}"
        )


def pysot_to_siamtrack_state_dict(state_dict: StateDict, source: str = "state dict") -> StateDict:
    """Rename every key of a pysot SiamRPN++ (ResNet, multi-level) state dict.

    Raises:
        InvalidCheckpointError: listing the keys no rule maps (``source`` names the file).
    """
    renamed, unmapped = _rename(strip_prefix(state_dict, "module."), _PYSOT_RULES)
    _raise_unmapped(unmapped, "pysot", source)
    return renamed


def siamtrack_to_pysot_state_dict(state_dict: StateDict, source: str = "state dict") -> StateDict:
    """Inverse of ``pysot_to_siamtrack_state_dict`` (export to pysot's ``ModelBuilder``)."""
    renamed, unmapped = _rename(strip_prefix(state_dict, "module."), _REVERSE_RULES)
    _raise_unmapped(unmapped, "siamtrack", source)
    return renamed


def resnet_to_siamtrack_state_dict(state_dict: StateDict, source: str = "state dict") -> StateDict:
    """Rename a torchvision-style ImageNet ResNet to ``backbone.*`` keys; ``fc.*`` is dropped."""
    renamed, unmapped = _rename(strip_prefix(state_dict, "module."), _RESNET_RULES, r"fc\.")
    _raise_unmapped(unmapped, "ResNet", source)
    return renamed


def strip_prefix(state_dict: StateDict, prefix: str) -> StateDict:
    """Remove ``prefix`` from keys if every key has it (DataParallel's ``module.``)."""
    keys = list(state_dict)
    if keys and all(k.startswith(prefix) for k in keys):
        return {k[len(prefix) :]: v for k, v in state_dict.items()}
    return dict(state_dict)


def detect_state_dict_format(state_dict: StateDict) -> str:
    """ "pysot", "nanotrack", "resnet", "siamtrack" or "unknown", from the key names
    (``module.`` stripped)."""
    if nanotrack_version(strip_prefix(state_dict, "module.")):
        return "nanotrack"
    keys = list(strip_prefix(state_dict, "module."))
    if any(
        re.match(r"(backbone\.(layer\d|bn1)|neck\.downsample\d|rpn_head\.rpn\d)\.", k) for k in keys
    ):
        return "pysot"
    if any(re.match(r"(backbone\.(stem|res\d)|neck\.adjust|rpn_head\.levels)\.", k) for k in keys):
        return "siamtrack"
    if "conv1.weight" in keys and any(k.startswith("layer1.") for k in keys):
        return "resnet"
    return "unknown"


def _torch_load(filename: str, trust: bool) -> Any:
    try:
        return load_torch_file(filename, trust=trust)
    except (FileNotFoundError, UnsafeCheckpointError):
        raise
    except Exception as error:  # truncated zip, bad pickle, wrong file type, ...
        raise InvalidCheckpointError(
            f"cannot read checkpoint {filename}: the file is truncated, corrupted or not a "
            f"PyTorch checkpoint ({type(error).__name__}: {error})"
        ) from error


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) for k in obj)


def read_checkpoint(filename: str, *, trust: bool = False) -> Tuple[str, StateDict, Dict[str, Any]]:
    """Load a ``.pth``-style file and convert its weights to siamtrack key names.

    Args:
        filename: siamtrack checkpoint, pysot ``model.pth`` (with or without a ``state_dict``
            wrapper / ``module.`` prefixes), a NanoTrack release or a torchvision-named
            ImageNet ResNet.
        trust: load with full unpickling (only for files from a trusted source).

    Returns:
        (format, state_dict with siamtrack names, other top-level entries such as
        "optimizer"/"iteration" of siamtrack checkpoints).

    Raises:
        InvalidCheckpointError: unreadable file, unknown layout or unmapped keys.
        UnsafeCheckpointError: the file refers to a global outside the allow-list.
    """
    obj = _torch_load(filename, trust)
    extra: Dict[str, Any] = {}
    if isinstance(obj, dict) and _is_state_dict(obj.get("model")):
        extra = {k: v for k, v in obj.items() if k != "model"}
        state_dict = obj["model"]
    elif isinstance(obj, dict) and _is_state_dict(obj.get("state_dict")):
        state_dict = obj["state_dict"]  # pysot/NanoTrack training file: optimizer not reusable
    elif _is_state_dict(obj) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        state_dict = obj
    else:
        top = sorted(obj)[:10] if isinstance(obj, dict) else type(obj).__name__
        raise InvalidCheckpointError(
            f"{filename} is not a model checkpoint: expected a state dict, {{'model': ...}} or "
            f"{{'state_dict': ...}}, found {top}"
        )
    state_dict = strip_prefix(state_dict, "module.")
    fmt = detect_state_dict_format(state_dict)
    if fmt == "pysot":
        state_dict = pysot_to_siamtrack_state_dict(state_dict, filename)
    elif fmt == "nanotrack":
        state_dict, version, unmapped = nanotrack_to_siamtrack_state_dict(state_dict, filename)
        _raise_unmapped(unmapped, f"NanoTrack v{version}", filename)
        extra["nanotrack_version"] = version
    elif fmt == "resnet":
        state_dict = resnet_to_siamtrack_state_dict(state_dict, filename)
    return fmt, state_dict, extra
