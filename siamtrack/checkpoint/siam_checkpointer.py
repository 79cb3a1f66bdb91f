"""``SiamCheckpointer``: detectron2's checkpointer that also reads pysot, NanoTrack and ImageNet
weights, safely.

``load(path)`` / ``resume_or_load(path)`` accept a file or a model zoo name (``nanotrack_v3``,
resolved by ``siamtrack.model_zoo``) and detect the format from the file, not its name:

- siamtrack checkpoints (``model_final.pth`` from training, or ``convert_pysot_weights.py``);
- NanoTrack v1/v2/v3 releases (``nanotrackv3.pth``): every key renamed (the never-called neck's
  keys are listed and dropped), shapes checked, the result must cover the whole model;
- pysot ``model.pth`` (bare, ``{"state_dict": ...}``, ``module.`` prefixes): every key renamed,
  shapes checked, the result must cover the whole model;
- ImageNet backbones: torchvision ``resnet*.pth`` / pysot's ``resnet50.model`` (torchvision
  names) and detectron2 ``.pkl`` files (MSRA Caffe2 ``R-50.pkl`` or torchvision-converted),
  the latter through detectron2's name-matching heuristics. Every backbone weight must be
  found; neck and head keep their initialisation.

Files are read without running code from them (``safe_load.py``): a file that refers to any
Python global outside the allow-list stops with ``UnsafeCheckpointError`` unless the
checkpointer was made with ``trust_weights=True``. A file that does not fit stops with
``InvalidCheckpointError`` naming the file and the problem: unreadable/truncated, a format of
another model family (the model's ``checkpoint_formats``), NaN/inf values, nothing matching the
model, shape mismatches (with a hint when the backbone layout or NanoTrack version differs) or
missing weights. It never loads half a model silently. ``save`` writes under a temporary name and renames, so an interrupted save
never leaves a truncated ``model_*.pth`` (or a ``last_checkpoint`` pointing at one).
"""

import logging
import os
import pickle
from typing import Any, Dict, List

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.checkpoint.c2_model_loading import align_and_update_state_dicts
from fvcore.common.checkpoint import _IncompatibleKeys

from ..model_zoo import list_models, resolve_weights
from ..io.files import atomic_output
from .conversion import InvalidCheckpointError, read_checkpoint, strip_prefix
from .safe_load import UnsafeCheckpointError, load_pickle_file

__all__ = ["SiamCheckpointer"]

logger = logging.getLogger(__name__)

_FULL_MODEL_FORMATS = ("siamtrack", "pysot", "nanotrack")
# Which config to use for a file of another family than the model.
_FORMAT_HINTS = {
    "pysot": "a SiamRPN++ config such as configs/siamrpn_R_50_l234_dwxcorr.yaml",
    "resnet": "a SiamRPN++ config with the standard layout (configs/siamrpn_R_50_std_*.yaml)",
    "imagenet_pkl": "a SiamRPN++ config with the standard layout",
    "nanotrack": "the matching NanoTrack config (configs/nanotrack/nanotrack_v{version}.yaml)",
}
_RUNNING_STATS = ("running_mean", "running_var", "num_batches_tracked")


def _shorten(keys: List[str], limit: int = 12) -> str:
    return ", ".join(keys[:limit]) + (f" ... ({len(keys)} in all)" if len(keys) > limit else "")


def _all_finite(tensor: torch.Tensor) -> bool:
    """No NaN or inf in ``tensor``. The sum is non-finite whenever an element is, and is
    ~10x cheaper than an element-wise test; only a sum that overflowed is checked in full."""
    return bool(torch.isfinite(tensor.sum())) or bool(torch.isfinite(tensor).all())


class SiamCheckpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` for siamtrack models; same constructor and methods, plus
    ``trust_weights`` (load files with full unpickling: only for files you trust)."""

    def __init__(self, model, save_dir: str = "", *, trust_weights: bool = False, **kwargs):
        super().__init__(model, save_dir, **kwargs)
        self.trust_weights = bool(trust_weights)

    def load(self, path: str, *args, **kwargs) -> Dict[str, Any]:
        if path and "://" not in path and not os.path.isfile(path):
            try:
                path = resolve_weights(path)  # a model zoo name
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"checkpoint {path} not found (MODEL.WEIGHTS), and it is not a "
                    f"model zoo name either ({', '.join(list_models())})"
                ) from None
        return super().load(path, *args, **kwargs)

    def save(self, name: str, **kwargs: Any) -> None:
        """As fvcore's ``Checkpointer.save`` (model, checkpointables and ``kwargs`` to
        ``<save_dir>/<name>.pth``, then the ``last_checkpoint`` tag), but atomic."""
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        data.update({key: obj.state_dict() for key, obj in self.checkpointables.items()})
        data.update(kwargs)
        basename = f"{name}.pth"
        save_file = os.path.join(self.save_dir, basename)
        logger.info(f"Saving checkpoint to {save_file}")
        with atomic_output(save_file) as temp_path:
            torch.save(data, temp_path)
        self.tag_last_checkpoint(basename)

    def load_weights(self, state_dict: Dict[str, Any], *, fmt: str, source: str) -> None:
        """Check and load an in-memory state dict already in siamtrack names.

        Args:
            state_dict: tensors keyed by the model's parameter/buffer names.
            fmt: "siamtrack"/"pysot" (must cover the whole model) or "resnet" (backbone).
            source: name used in error messages (e.g. the file it came from).
        """
        self._current_file = source
        incompatible = self._load_model({"model": dict(state_dict), "__siamtrack_format__": fmt})
        self._log_incompatible_keys(incompatible)

    def _load_file(self, filename: str) -> Dict[str, Any]:
        self._current_file = filename
        if filename.endswith(".pkl"):
            checkpoint = _read_detectron2_pickle(filename, self.trust_weights)
            checkpoint["__siamtrack_format__"] = "imagenet_pkl"
            return checkpoint
        fmt, state_dict, extra = read_checkpoint(filename, trust=self.trust_weights)
        checkpoint = dict(extra)
        checkpoint["model"] = state_dict
        checkpoint["__siamtrack_format__"] = fmt
        return checkpoint

    def _load_model(self, checkpoint: Dict[str, Any]) -> _IncompatibleKeys:
        filename = getattr(self, "_current_file", "checkpoint")
        fmt = checkpoint.pop("__siamtrack_format__", "siamtrack")
        version = checkpoint.pop("nanotrack_version", None)
        self._check_family(fmt, filename, version)
        self._version_hint = (
            f" (the file is NanoTrack v{version}: use configs/nanotrack/nanotrack_v{version}.yaml)"
            if version
            else ""
        )
        model_state = self.model.state_dict()
        if checkpoint.get("matching_heuristics", False):
            self._convert_ndarray_to_tensor(checkpoint["model"])
            checkpoint["model"] = align_and_update_state_dicts(
                model_state,
                checkpoint["model"],
                c2_conversion=checkpoint.get("__author__", None) == "Caffe2",
            )
            checkpoint["matching_heuristics"] = False
        self._convert_ndarray_to_tensor(checkpoint["model"])
        state = strip_prefix(checkpoint["model"], "module.")
        # FrozenBatchNorm2d has no num_batches_tracked: drop those the model does not have.
        state = {
            k: v
            for k, v in state.items()
            if not (k.endswith("num_batches_tracked") and k not in model_state)
        }
        self._check(state, model_state, fmt, filename)
        checkpoint["model"] = state
        incompatible = super()._load_model(checkpoint)
        if fmt not in _FULL_MODEL_FORMATS:
            missing = [k for k in incompatible.missing_keys if k.startswith("backbone.")]
            logger.info("%s: ImageNet backbone loaded; neck and RPN head keep their init", filename)
            incompatible = _IncompatibleKeys(
                missing, incompatible.unexpected_keys, incompatible.incorrect_shapes
            )
        return incompatible

    def _check_family(self, fmt: str, filename: str, version) -> None:
        formats = getattr(self.model, "checkpoint_formats", None)
        if formats is None or fmt in formats or fmt not in _FORMAT_HINTS:
            return  # unknown layouts get the key-by-key report of _check
        hint = _FORMAT_HINTS.get(fmt, "a config of the model the file was trained with")
        what = f"{fmt} v{version}" if version else fmt
        raise InvalidCheckpointError(
            f"{filename} holds {what} weights, which a {type(self.model).__name__} model cannot "
            f"load (it takes {', '.join(formats)} files): use {hint.format(version=version or 'N')}"
        )

    def _check(self, state, model_state, fmt: str, filename: str) -> None:
        bad = [k for k, v in state.items() if torch.is_floating_point(v) and not _all_finite(v)]
        if bad:
            raise InvalidCheckpointError(f"{filename}: NaN or inf values in {_shorten(bad)}")
        matched = [k for k in state if k in model_state]
        if not matched:
            formats = getattr(self.model, "checkpoint_formats", _FULL_MODEL_FORMATS)
            raise InvalidCheckpointError(
                f"{filename}: none of its {len(state)} tensors belong to this "
                f"{type(self.model).__name__} model (first keys: {_shorten(sorted(state), 5)}); "
                f"it loads {', '.join(formats)} checkpoints"
            )
        wrong = [
            f"{k} {tuple(state[k].shape)} vs model {tuple(model_state[k].shape)}"
            for k in matched
            if tuple(state[k].shape) != tuple(model_state[k].shape)
        ]
        if wrong:
            raise InvalidCheckpointError(
                f"{filename} ({fmt}) does not fit this model: shape mismatch for "
                f"{_shorten(wrong, 6)}{self._layout_hint(wrong)}"
            )
        if fmt in _FULL_MODEL_FORMATS:
            required = [k for k in model_state if not k.endswith("num_batches_tracked")]
        else:
            required = [
                k
                for k in model_state
                if k.startswith("backbone.") and not k.endswith(_RUNNING_STATS)
            ]
        missing = [k for k in required if k not in state]
        if missing:
            raise InvalidCheckpointError(
                f"{filename} ({fmt}) lacks {len(missing)} weight(s) of this model: "
                f"{_shorten(missing)} (different depth, levels or head configuration?)"
                f"{self._layout_hint(missing)}"
            )
        unused = [k for k in state if k not in model_state]
        if unused and fmt in _FULL_MODEL_FORMATS:
            raise InvalidCheckpointError(
                f"{filename} ({fmt}) has {len(unused)} weight(s) this model does not: "
                f"{_shorten(unused)} (different depth, levels or fusion setting?)"
                f"{self._layout_hint(unused)}"
            )

    def _layout_hint(self, keys: List[str]) -> str:
        if getattr(self, "_version_hint", ""):
            return self._version_hint
        if not any(".shortcut." in k for k in keys):
            return ""
        layout = getattr(getattr(self.model, "backbone", None), "layout", "?")
        return (
            f" (this model's backbone layout is '{layout}': pysot weights need "
            "MODEL.SIAM_RESNET.LAYOUT 'pysot', torchvision/MSRA ImageNet weights 'standard')"
        )


def _read_detectron2_pickle(filename: str, trust: bool) -> Dict[str, Any]:
    """A detectron2 model-zoo or Caffe2 ``.pkl`` as detectron2 reads it, but restricted."""
    try:
        data = load_pickle_file(filename, trust=trust)
    except (OSError, pickle.UnpicklingError) as error:
        if isinstance(error, (FileNotFoundError, UnsafeCheckpointError)):
            raise
        raise InvalidCheckpointError(
            f"cannot read {filename}: the file is truncated, corrupted or not a "
            f"detectron2/Caffe2 pickle ({type(error).__name__}: {error})"
        ) from error
    except Exception as error:  # EOFError, ValueError, ... from a damaged pickle
        raise InvalidCheckpointError(
            f"cannot read {filename}: the file is truncated, corrupted or not a "
            f"detectron2/Caffe2 pickle ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(data, dict):
        raise InvalidCheckpointError(f"{filename} is not a detectron2/Caffe2 weight pickle")
    if "model" in data and "__author__" in data:  # detectron2 model zoo format
        return dict(data)
    if "blobs" in data:  # Caffe2 detection models keep their weights under "blobs"
        data = data["blobs"]
    weights = {k: v for k, v in data.items() if not k.endswith("_momentum")}
    return {"model": weights, "__author__": "Caffe2", "matching_heuristics": True}
