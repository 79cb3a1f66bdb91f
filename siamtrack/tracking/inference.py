"""Runs a ``SiameseRPN``-like model for the tracker: device, precision and speed-ups.

``InferenceModel`` wraps a model that follows the contract in the team brief
(``encode_template(images) -> TemplateFeatures``, ``track(features, search) -> SiamTrackOutput``
with ``scores`` (B, A, H, W) and ``boxes_cxcywh`` (B, A, H, W, 4)) and takes care of:

- ``torch.inference_mode()`` around every call (no autograd bookkeeping);
- evaluation mode: a model handed over in training mode (e.g. by a training hook) is switched
  to eval for the call and switched back afterwards;
- optional BatchNorm folding (``siamtrack.modeling.fold_batchnorm``, on a copy), channels-last
  memory format, ``torch.autocast`` to fp16 (CUDA) / bf16, and ``torch.compile``.

Exact outputs: ``fp32`` without ``compile`` gives the plain eager model's numbers up to float
rounding (BN folding changes the order of a few operations). The other options are opt-in.
"""

import contextlib
import copy
import logging
import warnings
from typing import Any, Optional, Tuple, Union

import numpy as np
import torch
import torch.utils._pytree as pytree
from torch import nn

__all__ = ["InferenceModel", "resolve_device", "PRECISIONS"]

logger = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: Optional[Union[str, torch.device]]) -> torch.device:
    """``None`` -> "cuda" when a GPU is usable, else "cpu"; a CUDA request without a GPU fails."""
    if device is None or str(device) == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device '{device}' is not a valid torch device ('cpu', 'cuda', ...)"
        ) from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device '{device}' was requested but CUDA is not available "
            f"(torch {torch.__version__}); use device 'cpu'"
        )
    return resolved


def _model_device(model: nn.Module) -> torch.device:
    device = getattr(model, "device", None)
    if device is not None:
        return torch.device(device)
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device
    return torch.device("cpu")


class InferenceModel:
    """The network side of the tracker: crops in, numpy scores and boxes out.

    Args:
        model: a model following the SiameseRPN inference contract.
        device: where to run; ``None`` keeps the model where it is. A different device moves a
            copy (the caller's model is never modified).
        fold_batchnorm: run a copy with BatchNorm folded into the convs (eval mode).
        precision: "fp32" (default, exact), "bf16" (CPU or CUDA) or "fp16" (CUDA only), via
            ``torch.autocast``.
        channels_last: use the channels-last memory format for weights and inputs.
        jit_freeze: trace the per-frame step once (at the first frame) with ``torch.jit.trace``,
            then ``torch.jit.freeze`` + ``optimize_for_inference`` (oneDNN conv + ReLU/add
            fusion, pre-packed weights). Used for fp32 CPU inference without ``compile`` only
            (ignored otherwise); outputs equal the eager model up to float rounding. Falls back
            to eager (with a warning) if tracing fails.
        compile: wrap the per-frame step with ``torch.compile`` (first frames are slow).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: Optional[Union[str, torch.device]] = None,
        fold_batchnorm: bool = False,
        precision: str = "fp32",
        channels_last: bool = False,
        jit_freeze: bool = False,
        compile: bool = False,
    ):
        for name in ("encode_template", "track", "template_size", "search_size"):
            if not hasattr(model, name):
                raise TypeError(
                    f"{type(model).__name__} has no '{name}': SiamTracker needs a model with "
                    "encode_template(), track(), template_size and search_size (SiameseRPN)"
                )
        if precision not in PRECISIONS:
            raise ValueError(f"precision '{precision}' is not one of {sorted(PRECISIONS)}")
        target = _model_device(model) if device is None else resolve_device(device)
        if precision == "fp16" and target.type != "cuda":
            raise ValueError("precision 'fp16' needs a CUDA device; use 'bf16' or 'fp32' on CPU")
        if jit_freeze and (precision != "fp32" or compile or target.type != "cpu"):
            logger.info("jit_freeze applies to fp32 eager CPU inference only; not used here")
            jit_freeze = False
        owned = False
        if fold_batchnorm:
            from ..modeling import fold_batchnorm as fold  # the model engineer's helper

            model, owned = fold(model), True
        if target != _model_device(model):
            model = (model if owned else copy.deepcopy(model)).to(target)
            owned = True
        if channels_last:
            model = (model if owned else copy.deepcopy(model)).to(memory_format=torch.channels_last)
            owned = True
        if jit_freeze and not owned:  # the frozen graph must not see later weight updates
            model, owned = copy.deepcopy(model), True
        if owned:
            model.eval()
        self.model = model
        self.device = target
        self.precision = precision
        self.channels_last = channels_last
        self.template_size = int(model.template_size)
        self.search_size = int(model.search_size)
        self._autocast_dtype = PRECISIONS[precision]
        self._track_fn = model.track
        self._jit_freeze = jit_freeze
        self._frozen_steps = {}  # template-feature shapes -> frozen traced step
        if compile:
            self._track_fn = torch.compile(model.track, dynamic=False)

    @contextlib.contextmanager
    def _context(self):
        was_training = self.model.training
        if was_training:
            self.model.eval()
        try:
            with torch.inference_mode():
                if self._autocast_dtype is None:
                    yield
                else:
                    with torch.autocast(self.device.type, dtype=self._autocast_dtype):
                        yield
        finally:
            if was_training:
                self.model.train()

    def _to_input(self, crop_hwc: np.ndarray) -> torch.Tensor:
        """HxWx3 uint8 BGR crop -> (1, 3, H, W) uint8 tensor on the model's device."""
        tensor = torch.from_numpy(crop_hwc).permute(2, 0, 1).unsqueeze(0)
        tensor = tensor.contiguous(
            memory_format=torch.channels_last if self.channels_last else torch.contiguous_format
        )
        return tensor.to(self.device, non_blocking=True)

    def encode_template(self, template_crop: np.ndarray) -> Any:
        """Template features (incl. the head's template-side kernels) of a TxTx3 uint8 crop."""
        with self._context():
            return self.model.encode_template(self._to_input(template_crop))

    def track(
        self, template_features: Any, search_crop: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Scores (A, H, W) and boxes (A, H, W, 4) (cx, cy, w, h in crop pixels), float64 numpy.

        float64 holds the network's float32/16 outputs exactly, so nothing is rounded here.
        """
        search = self._to_input(search_crop)
        step = self._frozen_step(template_features, search) if self._jit_freeze else None
        with self._context():
            if step is not None:
                scores, boxes = step(search, *pytree.tree_leaves(template_features))
            else:
                output = self._track_fn(template_features, search)
                scores, boxes = output.scores, output.boxes_cxcywh
            scores = scores[0].detach().to(torch.float64).cpu().numpy()
            boxes = boxes[0].detach().to(torch.float64).cpu().numpy()
        return scores, boxes

    def prepare(self, template_features: Any) -> None:
        """Do one-off work (the jit trace) now, e.g. in ``init``, rather than at frame 1."""
        if self._jit_freeze:
            size = self.search_size
            self._frozen_step(
                template_features, self._to_input(np.zeros((size, size, 3), np.uint8))
            )

    def _frozen_step(self, template_features: Any, search: torch.Tensor):
        """The traced + frozen per-frame step for these input shapes (None: use eager)."""
        leaves, spec = pytree.tree_flatten(template_features)
        key = (str(spec), tuple(tuple(t.shape) for t in leaves), tuple(search.shape))
        if key not in self._frozen_steps:
            self._frozen_steps[key] = None
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # tracer / deprecation chatter
                    wrapper = _TrackStep(self.model, spec).eval()
                    traced = torch.jit.trace(wrapper, (search, *leaves), check_trace=False)
                    frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
                self._frozen_steps[key] = frozen
            except Exception as error:  # noqa: BLE001  (any tracer failure: stay eager)
                logger.warning(f"jit_freeze failed, running the eager model: {error}")
                self._jit_freeze = False
        return self._frozen_steps[key]


class _TrackStep(nn.Module):
    """``model.track`` as a module over flat tensors, for ``torch.jit.trace``."""

    def __init__(self, model: nn.Module, features_spec):
        super().__init__()
        self.model = model
        self.features_spec = features_spec

    def forward(self, search: torch.Tensor, *feature_leaves: torch.Tensor):
        features = pytree.tree_unflatten(list(feature_leaves), self.features_spec)
        output = self.model.track(features, search)
        return output.scores, output.boxes_cxcywh

    def train(self, mode: bool = True):  # always evaluation mode (torch.jit.freeze needs it)
        return super().train(False)
