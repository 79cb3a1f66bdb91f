"""The trackers' network backends and how one is chosen.

A backend takes crops as numpy arrays and returns numpy scores and boxes, batched over K
targets (``K = 1`` for ``SiamTracker``):

- ``encode_template(crops (K, T, T, 3) uint8 BGR) -> features`` (opaque: a tuple of per-target
  batched tensors or arrays), ``prepare(features)`` (one-off work such as a jit trace);
- ``track(features, crops (K, S, S, 3)) -> (scores (K, A, H, W), boxes (K, A, H, W, 4))``,
  float64, boxes cxcywh in search-crop pixels (crop centre S/2);
- ``concat_features([...])`` / ``take_features(features, indices)`` to add or drop targets;
- ``template_size``, ``search_size``, ``device``, ``description``.

``TorchBackend`` (``torch_backend.py``) runs the PyTorch model, ``OnnxRuntimeBackend``
(``onnx_backend.py``) siamtrack's ONNX graphs of it.
"""

from typing import Optional, Union

import torch
from torch import nn

from ..inference_options import InferenceOptions
from .onnx_backend import OnnxRuntimeBackend
from .torch_backend import TorchBackend

__all__ = ["build_backend"]


def build_backend(
    model: Optional[nn.Module],
    options: InferenceOptions,
    device: Optional[Union[str, torch.device]] = None,
    *,
    own_model: bool = False,
):
    """The backend ``options.backend`` names, for ``model`` (or ``options.onnx_dir``);
    ``own_model``: the backend may change ``model`` in place (``TorchBackend``)."""
    if options.backend == "onnxruntime":
        return OnnxRuntimeBackend.create(model, options, device)
    if model is None:
        raise ValueError("the torch backend needs a model")
    return TorchBackend(model, options, device, own_model=own_model)
