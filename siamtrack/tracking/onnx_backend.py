"""``OnnxRuntimeBackend``: the trackers' network as siamtrack's ONNX graphs in onnxruntime.

The graphs (``siamtrack/export/onnx.py``: ``template.onnx`` and ``track.onnx``, BatchNorm
folded, dynamic batch) come from the graph cache (``export/graph_cache.py``: exported from the
model the first time, 1.5-2.5 s for NanoTrack, then read from disk) or from a folder written by
``tools/export_onnx.py``, in which case no PyTorch model is built at all. Same interface as
``TorchBackend`` (``backends.py``); outputs equal the eager float32 model up to float rounding.

Running the graphs is ``OnnxGraphBackend``'s (``graph_backend.py``, no torch: onnxruntime,
threads, batches, bound inputs and outputs); this class adds what needs torch: the graphs of a
model (``create``) and the device checked and resolved as everywhere in siamtrack
(``utils.devices.resolve_device``: "auto", a CUDA device where CUDA is available).
"""

from typing import Optional, Union

import torch
from torch import nn

from ..export.graph_cache import cached_graphs
from ..export.onnx import SiameseGraphs, import_onnxruntime, load_siamese_graphs
from ..inference_options import InferenceOptions
from ..utils.devices import resolve_device
from .graph_backend import MAX_STATIC_BATCH, OnnxGraphBackend
from .network_contract import check_network_contract, model_device

__all__ = ["OnnxRuntimeBackend", "MAX_STATIC_BATCH"]


class OnnxRuntimeBackend(OnnxGraphBackend):
    """Run siamtrack's template / track ONNX graphs with onnxruntime.

    Args:
        graphs: the two serialized graphs and their metadata.
        device: "cpu" or a CUDA device (needs onnxruntime-gpu); a ``torch.device`` after this.
        num_threads: intra-op threads (default: ``torch.get_num_threads()``).
    """

    def __init__(
        self,
        graphs: SiameseGraphs,
        device: Optional[Union[str, torch.device]] = "cpu",
        num_threads: Optional[int] = None,
    ):
        import_onnxruntime()
        super().__init__(graphs, resolve_device(device), num_threads)

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
            graphs = cached_graphs(model)  # exported once per model, then read from disk
        if device is None:
            device = model_device(model) if model is not None else "cpu"
        return cls(graphs, device)
