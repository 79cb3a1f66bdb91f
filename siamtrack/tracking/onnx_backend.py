"""``OnnxRuntimeBackend``: the trackers' network as siamtrack's ONNX graphs in onnxruntime.

The graphs (``siamtrack/export/onnx.py``: ``template.onnx`` and ``track.onnx``, BatchNorm
folded, dynamic batch) are either exported from the model in memory when the backend is built
(about a second for NanoTrack) or read from a folder written by ``tools/export_onnx.py``, in
which case no PyTorch model is built at all. Same interface as ``TorchBackend``
(``backends.py``); outputs equal the eager float32 model up to float rounding.

onnxruntime is imported when a backend is built (``export.onnx.import_onnxruntime``: a clear
error when it is missing). Threads: as many
intra-op threads as ``torch.get_num_threads()`` (so ``torch.set_num_threads`` governs both
backends). CUDA: the CUDA execution provider when the device is CUDA and the installed
onnxruntime has it (``onnxruntime-gpu``), else an error naming what to install.
"""

import logging
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from ..export.onnx import (
    SiameseGraphs,
    export_siamese_graphs,
    import_onnxruntime,
    load_siamese_graphs,
)
from .network_contract import check_network_contract, model_device, resolve_device, same_container
from .options import InferenceOptions

__all__ = ["OnnxRuntimeBackend"]

logger = logging.getLogger(__name__)


class OnnxRuntimeBackend:
    """Run siamtrack's template / track ONNX graphs with onnxruntime.

    Args:
        graphs: the two serialized graphs and their metadata.
        device: "cpu" or a CUDA device (needs onnxruntime-gpu).
        num_threads: intra-op threads (default: ``torch.get_num_threads()``).
    """

    def __init__(
        self,
        graphs: SiameseGraphs,
        device: Optional[Union[str, torch.device]] = "cpu",
        num_threads: Optional[int] = None,
    ):
        ort = import_onnxruntime()
        self.device = resolve_device(device)
        providers = ["CPUExecutionProvider"]
        if self.device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ValueError(
                    f"device '{self.device}' with TRACKER.BACKEND onnxruntime needs onnxruntime "
                    f"with CUDA (pip install onnxruntime-gpu); this one has "
                    f"{ort.get_available_providers()}"
                )
            providers = [("CUDAExecutionProvider", {"device_id": self.device.index or 0})]
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(num_threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        self._template = ort.InferenceSession(graphs.template, options, providers=providers)
        self._track = ort.InferenceSession(graphs.track, options, providers=providers)
        self._feature_names = graphs.feature_names
        self.graphs = graphs
        self.template_size = int(graphs.metadata["template_size"])
        self.search_size = int(graphs.metadata["search_size"])
        self.precision = "fp32"

    @classmethod
    def create(
        cls,
        model: Optional[nn.Module],
        options: InferenceOptions,
        device: Optional[Union[str, torch.device]] = None,
    ) -> "OnnxRuntimeBackend":
        """From ``options.onnx_dir`` if set, else by exporting ``model`` in memory."""
        if options.onnx_dir:
            graphs = load_siamese_graphs(options.onnx_dir)
        elif model is None:
            raise ValueError("TRACKER.BACKEND onnxruntime needs a model or TRACKER.ONNX_DIR")
        else:
            check_network_contract(model)
            import_onnxruntime()  # fail before the export if it is missing
            graphs = export_siamese_graphs(model)
        if device is None:
            device = model_device(model) if model is not None else "cpu"
        return cls(graphs, device)

    @property
    def description(self) -> str:
        return f"onnxruntime on {self.device}"

    @staticmethod
    def _to_input(crops_khwc: np.ndarray) -> np.ndarray:
        """(K, H, W, 3) uint8 BGR -> (K, 3, H, W) float32, contiguous."""
        return np.ascontiguousarray(np.asarray(crops_khwc).transpose(0, 3, 1, 2), np.float32)

    def encode_template(self, template_crops: np.ndarray):
        """Template features (tuple of float32 arrays) of (K, T, T, 3) uint8 crops."""
        return tuple(self._template.run(None, {"template": self._to_input(template_crops)}))

    def prepare(self, features) -> None:
        """Nothing to do: sessions are built in the constructor."""

    def track(self, features: Sequence[np.ndarray], search_crops: np.ndarray):
        """Scores (K, A, H, W) and boxes (K, A, H, W, 4), float64 (see ``TorchBackend.track``)."""
        feeds = dict(zip(self._feature_names, features))
        feeds["search"] = self._to_input(search_crops)
        scores, boxes = self._track.run(None, feeds)
        return scores.astype(np.float64), boxes.astype(np.float64)

    @staticmethod
    def concat_features(features_list):
        parts = [np.concatenate(arrays) for arrays in zip(*features_list)]
        return same_container(features_list[0], parts)

    @staticmethod
    def take_features(features, indices):
        return same_container(features, [f[list(indices)] for f in features])
