"""``TorchBackend``: the trackers' network in PyTorch (the backend interface: ``backends.py``).

Runs a model that follows the ``SiameseNetwork`` contract (``siamtrack/modeling/siamese.py``)
under ``torch.inference_mode()`` in eval mode (a model handed over in training mode, e.g. by a
training hook, is switched back afterwards), with the speed-ups of ``InferenceOptions``.
"""

import contextlib
import copy
import logging
import warnings
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from ..inference_options import InferenceOptions
from ..modeling import TrackStep, fold_batchnorm
from ..utils.devices import resolve_device
from .network_contract import check_network_contract, model_device, same_container

__all__ = ["TorchBackend", "PRECISIONS"]

logger = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchBackend:
    """The network side of the trackers in PyTorch: crops in, numpy scores and boxes out.

    Args:
        model: a model following the ``SiameseNetwork`` inference contract; not modified
            (speed-ups and device moves work on a copy) unless ``own_model``.
        options: ``InferenceOptions`` (the ``torch``-backend fields are used).
        device: where to run; ``None`` keeps the model where it is.
        own_model: the backend may change ``model`` in place (fold it, move it) instead of
            copying it: for a model nothing else uses.
    """

    def __init__(
        self,
        model: nn.Module,
        options: InferenceOptions = InferenceOptions(),
        device: Optional[Union[str, torch.device]] = None,
        *,
        own_model: bool = False,
    ):
        check_network_contract(model)
        precision = options.precision
        target = model_device(model) if device is None else resolve_device(device)
        if precision == "fp16" and target.type != "cuda":
            raise ValueError("precision 'fp16' needs a CUDA device; use 'bf16' or 'fp32' on CPU")
        jit_freeze = options.jit_freeze
        if jit_freeze and (precision != "fp32" or options.compile or target.type != "cpu"):
            logger.info("jit_freeze applies to fp32 eager CPU inference only; not used here")
            jit_freeze = False
        owned = bool(own_model)
        if options.fold_batchnorm:
            model, owned = fold_batchnorm(model, inplace=owned), True
        if target != model_device(model):
            model = (model if owned else copy.deepcopy(model)).to(target)
            owned = True
        if options.channels_last:
            model = (model if owned else copy.deepcopy(model)).to(memory_format=torch.channels_last)
            owned = True
        if jit_freeze and not owned:  # the frozen graph must not see later weight updates
            model, owned = copy.deepcopy(model), True
        if owned:
            model.eval()
        self.model = model
        self.device = target
        self.precision = precision
        self.channels_last = options.channels_last
        self.template_size = int(model.template_size)
        self.search_size = int(model.search_size)
        self.score_shape = (int(model.num_anchors), int(model.score_size), int(model.score_size))
        self._autocast_dtype = PRECISIONS[precision]
        self._track_fn = model.track
        self._jit_freeze = jit_freeze
        self._frozen_steps = {}  # input shapes -> frozen traced step (None: eager)
        if options.compile:
            self._track_fn = torch.compile(model.track, dynamic=False)

    @property
    def description(self) -> str:
        mode = "jit" if self._jit_freeze else "eager"
        return f"torch {mode} {self.precision} on {self.device}"

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

    def _to_input(self, crops_khwc: np.ndarray) -> torch.Tensor:
        """(K, H, W, 3) uint8 BGR crops -> (K, 3, H, W) uint8 tensor on the model's device."""
        tensor = torch.from_numpy(np.ascontiguousarray(crops_khwc)).permute(0, 3, 1, 2)
        tensor = tensor.contiguous(
            memory_format=torch.channels_last if self.channels_last else torch.contiguous_format
        )
        return tensor.to(self.device, non_blocking=True)

    def encode_template(self, template_crops: np.ndarray) -> Tuple[torch.Tensor, ...]:
        """Template features of (K, T, T, 3) uint8 crops (the head's template-side kernels)."""
        with self._context():
            return self.model.encode_template(self._to_input(template_crops))

    def track(self, features: Sequence[torch.Tensor], search_crops: np.ndarray):
        """Scores (K, A, H, W) and boxes (K, A, H, W, 4) (cx, cy, w, h in crop pixels), float64.

        float64 holds the network's float32/16 outputs exactly, so nothing is rounded here.
        """
        search = self._to_input(search_crops)
        step = self._frozen_step(tuple(features), search) if self._jit_freeze else None
        with self._context():
            if step is not None:
                scores, boxes = step(search, *features)
            else:
                output = self._track_fn(features, search)
                scores, boxes = output.scores, output.boxes_cxcywh
            scores = scores.detach().to(torch.float64).cpu().numpy()
            boxes = boxes.detach().to(torch.float64).cpu().numpy()
        return scores, boxes

    def prepare(self, features: Sequence[torch.Tensor]) -> None:
        """Do one-off work (the jit trace) now, e.g. in ``init``, rather than at frame 1."""
        if self._jit_freeze:
            size, batch = self.search_size, features[0].shape[0]
            crops = np.zeros((batch, size, size, 3), np.uint8)
            self._frozen_step(tuple(features), self._to_input(crops))

    @staticmethod
    def concat_features(features_list: Sequence[Sequence[torch.Tensor]]):
        """The features of several target batches as one batch (in order)."""
        parts = [torch.cat(tensors) for tensors in zip(*features_list)]
        return same_container(features_list[0], parts)

    @staticmethod
    def take_features(features: Sequence[torch.Tensor], indices: Sequence[int]):
        """The features of the targets at ``indices`` (a new batch, in that order)."""
        index = torch.as_tensor(list(indices), dtype=torch.long, device=features[0].device)
        return same_container(features, [f.index_select(0, index) for f in features])

    def _frozen_step(self, features: Tuple[torch.Tensor, ...], search: torch.Tensor):
        """The traced + frozen per-frame step for these input shapes (None: use eager)."""
        key = (tuple(tuple(t.shape) for t in features), tuple(search.shape))
        if key not in self._frozen_steps:
            self._frozen_steps[key] = None
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # tracer / deprecation chatter
                    step = TrackStep(self.model).eval()
                    traced = torch.jit.trace(step, (search, *features), check_trace=False)
                    frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
                self._frozen_steps[key] = frozen
            except Exception as error:  # noqa: BLE001  (any tracer failure: stay eager)
                logger.warning(f"jit_freeze failed, running the eager model: {error}")
                self._jit_freeze = False
        return self._frozen_steps[key]
