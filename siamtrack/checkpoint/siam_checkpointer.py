"""``SiamCheckpointer``: detectron2's checkpointer that also reads pysot and ImageNet weights.

``load(path)`` / ``resume_or_load(path)`` accept (format detected from the file, not its name):

- siamtrack checkpoints (``model_final.pth`` from training, or ``convert_pysot_weights.py``);
- pysot ``model.pth`` (bare, ``{"state_dict": ...}``, ``module.`` prefixes): every key renamed,
  shapes checked, the result must cover the whole model;
- ImageNet backbones: torchvision ``resnet*.pth`` / pysot's ``resnet50.model`` (torchvision
  names) and detectron2 ``.pkl`` files (MSRA Caffe2 ``R-50.pkl`` or torchvision-converted),
  the latter through detectron2's name-matching heuristics. Every backbone weight must be
  found; neck and head keep their initialisation.

A file that does not fit stops with ``InvalidCheckpointError`` naming the file and the
problem: unreadable/truncated, NaN/inf values, nothing matching the model, shape mismatches
(with a hint when the backbone layout differs) or missing weights. It never loads half a
model silently. ``save`` writes under a temporary name and renames, so an interrupted save
never leaves a truncated ``model_*.pth`` (or a ``last_checkpoint`` pointing at one).
"""

import logging
import os
from typing import Any, Dict, List

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.checkpoint.c2_model_loading import align_and_update_state_dicts
from fvcore.common.checkpoint import _IncompatibleKeys

from ..utils.files import atomic_output
from .conversion import InvalidCheckpointError, read_checkpoint, strip_prefix

__all__ = ["SiamCheckpointer"]

logger = logging.getLogger(__name__)

_FULL_MODEL_FORMATS = ("siamtrack", "pysot")
_RUNNING_STATS = ("running_mean", "running_var", "num_batches_tracked")


def _shorten(keys: List[str], limit: int = 12) -> str:
    return ", ".join(keys[:limit]) + (f" ... ({len(keys)} in all)" if len(keys) > limit else "")


class SiamCheckpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` for ``SiameseRPN``; same constructor and methods."""

    def load(self, path: str, *args, **kwargs) -> Dict[str, Any]:
        if path and "://" not in path and not os.path.isfile(path):
            raise FileNotFoundError(f"checkpoint {path} not found (MODEL.WEIGHTS or --weights)")
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
            try:
                checkpoint = super()._load_file(filename)
            except Exception as error:
                raise InvalidCheckpointError(
                    f"cannot read {filename}: the file is truncated, corrupted or not a "
                    f"detectron2/Caffe2 pickle ({type(error).__name__}: {error})"
                ) from error
            checkpoint["__siamtrack_format__"] = "imagenet_pkl"
            return checkpoint
        fmt, state_dict, extra = read_checkpoint(filename)
        checkpoint = dict(extra)
        checkpoint["model"] = state_dict
        checkpoint["__siamtrack_format__"] = fmt
        return checkpoint

    def _load_model(self, checkpoint: Dict[str, Any]) -> _IncompatibleKeys:
        filename = getattr(self, "_current_file", "checkpoint")
        fmt = checkpoint.pop("__siamtrack_format__", "siamtrack")
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

    def _check(self, state, model_state, fmt: str, filename: str) -> None:
        bad = [
            k
            for k, v in state.items()
            if torch.is_floating_point(v) and not bool(torch.isfinite(v).all())
        ]
        if bad:
            raise InvalidCheckpointError(f"{filename}: NaN or inf values in {_shorten(bad)}")
        matched = [k for k in state if k in model_state]
        if not matched:
            raise InvalidCheckpointError(
                f"{filename}: none of its {len(state)} tensors belong to this model "
                f"(first keys: {_shorten(sorted(state), 5)}); expected a siamtrack or pysot "
                "SiamRPN++ checkpoint or an ImageNet ResNet"
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
            )

    def _layout_hint(self, keys: List[str]) -> str:
        if not any(".shortcut." in k for k in keys):
            return ""
        layout = getattr(getattr(self.model, "backbone", None), "layout", "?")
        return (
            f" (this model's backbone layout is '{layout}': pysot weights need "
            "MODEL.SIAM_RESNET.LAYOUT 'pysot', torchvision/MSRA ImageNet weights 'standard')"
        )
