"""The checkpoint formats siamtrack reads: reading the files, telling the formats apart and
converting their keys to siamtrack's, through ``CHECKPOINT_FORMAT_REGISTRY``.

Files are read without running code from them (``safe_load.py``). A file holds a state dict,
bare or wrapped (``{"model": ...}`` as ``SiamCheckpointer.save`` writes, ``{"state_dict":
...}`` as pysot's and NanoTrack's training scripts write); ``module.`` prefixes are stripped.
Its format is then the first registered ``CheckpointFormat`` whose ``detect`` recognises the
keys, else ``"siamtrack"``: siamtrack's own names (any family's ``model.state_dict()``), used as
they are. Registered here: ``"siamtrack"`` and ``"imagenet_pkl"`` (detectron2 ``.pkl``
ImageNet backbones, read by ``SiamCheckpointer``).

The model families register the formats their weights come in (``siamtrack/families/<name>/
checkpoint.py``: pysot's SiamRPN++ files and ImageNet ResNets, NanoTrack's releases, ...);
every meta-architecture lists the formats it takes (``checkpoint_formats``), and
``SiamCheckpointer`` refuses a file of another registered format with that format's config
hint. The helpers ``rename_keys`` / ``raise_unmapped`` / ``strip_prefix`` are for those
converters.
"""

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..errors import BadInputError
from ..utils.registry import NamedRegistry
from .safe_load import UnsafeCheckpointError, load_torch_file

__all__ = [
    "CHECKPOINT_FORMAT_REGISTRY",
    "DETECTRON2_PICKLE_FORMAT",
    "SIAMTRACK_FORMAT",
    "CheckpointFormat",
    "InvalidCheckpointError",
    "checkpoint_format",
    "convert_state_dict",
    "detect_state_dict_format",
    "raise_unmapped",
    "read_checkpoint",
    "register_checkpoint_format",
    "rename_keys",
    "strip_prefix",
]

logger = logging.getLogger(__name__)

StateDict = Dict[str, torch.Tensor]
# The format of siamtrack's own checkpoints (keys are the model's own names).
SIAMTRACK_FORMAT = "siamtrack"
# detectron2 / Caffe2 ``.pkl`` ImageNet backbones (``R-50.pkl``), matched to the model's
# backbone by detectron2's name heuristics; the rest of the model keeps its initialisation.
DETECTRON2_PICKLE_FORMAT = "imagenet_pkl"


class InvalidCheckpointError(BadInputError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class CheckpointFormat:
    """A weight-file format: how to recognise it and convert it to siamtrack's key names.

    Attributes:
        name: what messages and ``checkpoint_formats`` call it ("pysot", "nanotrack", ...).
        detect: ``detect(state_dict) -> bool``, from the key names (``module.`` stripped).
        to_siamtrack: ``to_siamtrack(state_dict, source) -> (state_dict, details)``: the
            weights under the model's names, and facts about the file for messages (e.g.
            ``{"nanotrack_version": 3}``), returned with the file's other entries by
            ``read_checkpoint``. Raises ``InvalidCheckpointError`` naming ``source`` for
            keys it cannot map (``raise_unmapped``).
        config_hint: which config loads such a file, for the error a model of another family
            raises ("a SiamRPN++ config such as ..."); ``{detail}`` fields are filled from the
            details.
        whole_model: the file covers the whole model (else only the backbone, as ImageNet
            weights: the rest keeps its initialisation).
        detail_keys: the keys of ``details`` (the checkpointer takes them out of the extras).
        describe: ``describe(details) -> str``: what the file holds (default: ``name``).
        explain_mismatch: ``explain_mismatch(model, keys, details) -> str``: a hint appended
            to a shape-mismatch / missing-key / unused-key error about ``keys`` ("" if none);
            asked for the file's format, then for every format the model takes.
    """

    name: str
    detect: Callable[[StateDict], bool]
    to_siamtrack: Callable[[StateDict, str], Tuple[StateDict, Dict[str, Any]]]
    config_hint: str = "a config of the model the file was trained with"
    whole_model: bool = True
    detail_keys: Tuple[str, ...] = ()
    describe: Optional[Callable[[Dict[str, Any]], str]] = None
    explain_mismatch: Optional[Callable[[Any, Sequence[str], Dict[str, Any]], str]] = None

    def description(self, details: Dict[str, Any]) -> str:
        return self.describe(details) if self.describe is not None else self.name

    def hint(self, details: Dict[str, Any]) -> str:
        try:
            return self.config_hint.format(**details)
        except (KeyError, IndexError):
            return self.config_hint


CHECKPOINT_FORMAT_REGISTRY: NamedRegistry[CheckpointFormat] = NamedRegistry("checkpoint format")


def register_checkpoint_format(fmt: CheckpointFormat) -> CheckpointFormat:
    """Add a format (``CHECKPOINT_FORMAT_REGISTRY``); formats are detected in this order."""
    return CHECKPOINT_FORMAT_REGISTRY.register(fmt)


def checkpoint_format(name: str) -> CheckpointFormat:
    """The registered format called ``name`` (``UnknownNameError`` if there is none)."""
    return CHECKPOINT_FORMAT_REGISTRY.get(name)


register_checkpoint_format(
    CheckpointFormat(
        name=SIAMTRACK_FORMAT,
        detect=lambda state_dict: False,  # what no other format recognises
        to_siamtrack=lambda state_dict, source: (dict(state_dict), {}),
        config_hint="the config of the model that saved it",
    )
)
register_checkpoint_format(
    CheckpointFormat(
        name=DETECTRON2_PICKLE_FORMAT,
        detect=lambda state_dict: False,  # told by the file's .pkl suffix (SiamCheckpointer)
        to_siamtrack=lambda state_dict, source: (dict(state_dict), {}),
        config_hint="a config whose backbone is a detectron2/torchvision-layout ResNet",
        whole_model=False,
    )
)


def rename_keys(
    state_dict: StateDict, rules: Sequence[Tuple[str, Callable]], ignore: Optional[str] = None
) -> Tuple[StateDict, List[str]]:
    """Rename every key by the first rule whose pattern matches it in full.

    Args:
        rules: ``(regex, fn)`` pairs; ``fn(match)`` gives the new key.
        ignore: regex of keys dropped on purpose.

    Returns:
        (renamed state dict, keys no rule maps).
    """
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


def raise_unmapped(unmapped: List[str], what: str, source: str) -> None:
    """Raise ``InvalidCheckpointError`` listing ``unmapped`` keys of a ``what`` file, if any."""
    if unmapped:
        shown = ", ".join(unmapped[:20]) + (" ..." if len(unmapped) > 20 else "")
        raise InvalidCheckpointError(
            f"{source}: {len(unmapped)} {what} key(s) have no siamtrack equivalent: {shown}"
        )


def strip_prefix(state_dict: StateDict, prefix: str) -> StateDict:
    """Remove ``prefix`` from keys if every key has it (DataParallel's ``module.``)."""
    keys = list(state_dict)
    if keys and all(k.startswith(prefix) for k in keys):
        return {k[len(prefix) :]: v for k, v in state_dict.items()}
    return dict(state_dict)


def detect_state_dict_format(state_dict: StateDict) -> str:
    """The name of the first registered format that recognises the keys (``module.``
    stripped), else ``"siamtrack"``."""
    state_dict = strip_prefix(state_dict, "module.")
    for fmt in CHECKPOINT_FORMAT_REGISTRY:
        if fmt.name != SIAMTRACK_FORMAT and fmt.detect(state_dict):
            return fmt.name
    return SIAMTRACK_FORMAT


def convert_state_dict(
    state_dict: StateDict, source: str = "state dict"
) -> Tuple[str, StateDict, Dict[str, Any]]:
    """(format, the weights under siamtrack's names, the format's details) of a state dict.

    Raises:
        InvalidCheckpointError: keys the format cannot map (``source`` names the file).
    """
    state_dict = strip_prefix(state_dict, "module.")
    name = detect_state_dict_format(state_dict)
    converted, details = checkpoint_format(name).to_siamtrack(state_dict, source)
    return name, converted, dict(details)


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
        filename: a siamtrack checkpoint or a file of any registered format (bare or wrapped
            in ``{"state_dict": ...}``, with or without ``module.`` prefixes).
        trust: load with full unpickling (only for files from a trusted source).

    Returns:
        (format, state_dict with siamtrack names, other top-level entries such as
        "optimizer"/"iteration" of siamtrack checkpoints, plus the format's details).

    Raises:
        InvalidCheckpointError: unreadable file, no state dict or unmapped keys.
        UnsafeCheckpointError: the file refers to a global outside the allow-list.
    """
    obj = _torch_load(filename, trust)
    extra: Dict[str, Any] = {}
    if isinstance(obj, dict) and _is_state_dict(obj.get("model")):
        extra = {k: v for k, v in obj.items() if k != "model"}
        state_dict = obj["model"]
    elif isinstance(obj, dict) and _is_state_dict(obj.get("state_dict")):
        state_dict = obj["state_dict"]  # another tracker's training file: optimizer not reusable
    elif _is_state_dict(obj) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        state_dict = obj
    else:
        top = sorted(obj)[:10] if isinstance(obj, dict) else type(obj).__name__
        raise InvalidCheckpointError(
            f"{filename} is not a model checkpoint: expected a state dict, {{'model': ...}} or "
            f"{{'state_dict': ...}}, found {top}"
        )
    fmt, state_dict, details = convert_state_dict(state_dict, filename)
    extra.update(details)
    return fmt, state_dict, extra
