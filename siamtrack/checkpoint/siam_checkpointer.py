"""``SiamCheckpointer``: detectron2's checkpointer that also reads the weight files of other
trackers and ImageNet backbones, safely.

``load(path)`` / ``resume_or_load(path)`` accept a file or a model zoo name (resolved by
``siamtrack.model_zoo``) and detect the format from the file, not its name
(``formats.py``: siamtrack's own checkpoints, and every format the model families register,
e.g. pysot's SiamRPN++ files or NanoTrack's releases): every key converted, shapes checked,
and the result must cover the whole model. Backbone-only formats (ImageNet weights: a
torchvision-named ResNet, or a detectron2 ``.pkl`` such as MSRA's ``R-50.pkl``, matched by
detectron2's name heuristics) must provide every backbone weight; the rest of the model keeps
its initialisation.

Files are read without running code from them (``safe_load.py``): a file that refers to any
Python global outside the allow-list stops with ``UnsafeCheckpointError`` unless the
checkpointer was made with ``trust_weights=True``. A file that does not fit stops with
``InvalidCheckpointError`` naming the file and the problem: unreadable/truncated, a format of
another model family (not in the model's ``checkpoint_formats``: the message gives that
format's config hint), NaN/inf values, nothing matching the model, shape mismatches (with the
formats' hints, e.g. another backbone layout or model version) or missing weights. It never
loads half a model silently. ``save`` writes under a temporary name and renames, so an
interrupted save never leaves a truncated ``model_*.pth`` (or a ``last_checkpoint`` pointing at
one).
"""

import logging
import os
import pickle
from typing import Any, Dict, List

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.checkpoint.c2_model_loading import align_and_update_state_dicts

from ..model_zoo import list_models, resolve_weights
from ..io.files import atomic_output
from .formats import (
    CHECKPOINT_FORMAT_REGISTRY,
    DETECTRON2_PICKLE_FORMAT,
    SIAMTRACK_FORMAT,
    CheckpointFormat,
    InvalidCheckpointError,
    read_checkpoint,
    strip_prefix,
)
from .safe_load import UnsafeCheckpointError, load_pickle_file

__all__ = ["SiamCheckpointer"]

logger = logging.getLogger(__name__)

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
            fmt: the registered format it was converted from (whole model or backbone only).
            source: name used in error messages (e.g. the file it came from).
        """
        self._current_file = source
        incompatible = self._load_model({"model": dict(state_dict), "__siamtrack_format__": fmt})
        self._log_incompatible_keys(incompatible)

    def _load_file(self, filename: str) -> Dict[str, Any]:
        self._current_file = filename
        if filename.endswith(".pkl"):
            checkpoint = _read_detectron2_pickle(filename, self.trust_weights)
            checkpoint["__siamtrack_format__"] = DETECTRON2_PICKLE_FORMAT
            return checkpoint
        fmt, state_dict, extra = read_checkpoint(filename, trust=self.trust_weights)
        checkpoint = dict(extra)
        checkpoint["model"] = state_dict
        checkpoint["__siamtrack_format__"] = fmt
        return checkpoint

    def _load_model(self, checkpoint: Dict[str, Any]):
        """fvcore's ``_load_model`` (returns its named tuple of missing / unexpected /
        wrongly shaped keys) after siamtrack's checks; a backbone-only format reports only the
        backbone's missing keys."""
        filename = getattr(self, "_current_file", "checkpoint")
        fmt = checkpoint.pop("__siamtrack_format__", SIAMTRACK_FORMAT)
        file_format = _format(fmt)
        self._file_format = file_format
        self._details = {k: checkpoint.pop(k) for k in file_format.detail_keys if k in checkpoint}
        self._check_family(file_format, filename)
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
        if not file_format.whole_model:
            missing = [k for k in incompatible.missing_keys if k.startswith("backbone.")]
            logger.info(
                "%s: %s backbone loaded; the rest of the model keeps its initialisation",
                filename,
                fmt,
            )
            incompatible = incompatible._replace(missing_keys=missing)
        return incompatible

    def _check_family(self, file_format: CheckpointFormat, filename: str) -> None:
        formats = getattr(self.model, "checkpoint_formats", None)
        if formats is None or file_format.name in formats or file_format.name == SIAMTRACK_FORMAT:
            return  # siamtrack files of another model get the key-by-key report of _check
        raise InvalidCheckpointError(
            f"{filename} holds {file_format.description(self._details)} weights, which a "
            f"{type(self.model).__name__} model cannot load (it takes {', '.join(formats)} "
            f"files): use {file_format.hint(self._details)}"
        )

    def _check(self, state, model_state, fmt: str, filename: str) -> None:
        bad = [k for k, v in state.items() if torch.is_floating_point(v) and not _all_finite(v)]
        if bad:
            raise InvalidCheckpointError(f"{filename}: NaN or inf values in {_shorten(bad)}")
        matched = [k for k in state if k in model_state]
        if not matched:
            formats = getattr(self.model, "checkpoint_formats", CHECKPOINT_FORMAT_REGISTRY.names())
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
                f"{_shorten(wrong, 6)}{self._mismatch_hint(wrong)}"
            )
        whole_model = _format(fmt).whole_model
        if whole_model:
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
                f"{self._mismatch_hint(missing)}"
            )
        unused = [k for k in state if k not in model_state]
        if unused and whole_model:
            raise InvalidCheckpointError(
                f"{filename} ({fmt}) has {len(unused)} weight(s) this model does not: "
                f"{_shorten(unused)} (different depth, levels or fusion setting?)"
                f"{self._mismatch_hint(unused)}"
            )

    def _mismatch_hint(self, keys: List[str]) -> str:
        """The first hint about ``keys`` from the file's format, then from the formats the
        model takes (e.g. "the file is version N: use ..." or "this backbone's layout is ...")."""
        details = getattr(self, "_details", {})
        candidates = [getattr(self, "_file_format", None)]
        for name in getattr(self.model, "checkpoint_formats", ()):
            if name in CHECKPOINT_FORMAT_REGISTRY:
                candidates.append(CHECKPOINT_FORMAT_REGISTRY.get(name))
        for fmt in candidates:
            if fmt is not None and fmt.explain_mismatch is not None:
                hint = fmt.explain_mismatch(self.model, keys, details)
                if hint:
                    return hint
        return ""


def _format(name: str) -> CheckpointFormat:
    """The registered format ``name``; an unregistered one counts as a whole-model format."""
    if name in CHECKPOINT_FORMAT_REGISTRY:
        return CHECKPOINT_FORMAT_REGISTRY.get(name)
    return CheckpointFormat(name=name, detect=lambda sd: False, to_siamtrack=lambda sd, s: (sd, {}))


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
