"""``OnnxGraphBackend``: the trackers' network as siamtrack's ONNX graphs in onnxruntime, from
the graphs themselves (numpy + onnxruntime, no torch).

``OnnxRuntimeBackend`` (``onnx_backend.py``) is this backend plus where the graphs come from
when a model is given (the graph cache, which needs torch); the torch-free tracker
(``runtime_record.py``) builds this one directly from graphs read from the cache. Same
interface as ``TorchBackend`` (``backends.py``); outputs equal the eager float32 model up to
float rounding.

What a frame costs besides the graph itself is kept small, without changing a bit of the
outputs: the graphs run in their runtime form (``export.graphs.runtime_graphs``: the uint8 NHWC
crops go in as they are, the identity normalisation is gone); the track graph runs with its
shapes fixed to the batch size (one ``InferenceSession`` per number of targets, made when the
targets are set, ``prepare``; a dynamic-batch one for other batches); its template features
are bound once (``io_binding``) and its outputs written into kept buffers.

onnxruntime is imported when a backend is built (``export.graphs.import_onnxruntime``: a clear
error when it is missing); ``InferenceSession`` objects come from
``export.graphs.create_session``. Threads:
``export.graphs.default_num_threads()`` (``torch.get_num_threads()`` where torch is loaded, so
``torch.set_num_threads`` governs both backends; without torch the number torch would choose).
CUDA: the CUDA execution provider when the device is CUDA and the installed onnxruntime has it
(``onnxruntime-gpu``), else an error naming what to install.
"""

import logging
from typing import Any, Optional, Sequence

import numpy as np

from ..export.graphs import (
    CROP_INPUTS,
    SiameseGraphs,
    create_session,
    default_num_threads,
    import_onnxruntime,
    runtime_graphs,
)

__all__ = ["OnnxGraphBackend", "MAX_STATIC_BATCH", "same_container"]

# Batch sizes (targets per frame) up to this get a session with fixed shapes; larger batches
# share one dynamic-batch session.
MAX_STATIC_BATCH = 16

logger = logging.getLogger(__name__)


def same_container(like: Sequence[Any], items: Sequence[Any]):
    """``items`` in the tuple type of ``like`` (a plain tuple or a NamedTuple)."""
    make = getattr(type(like), "_make", None)
    return make(items) if make is not None else tuple(items)


class OnnxGraphBackend:
    """Run siamtrack's template / track ONNX graphs with onnxruntime.

    Args:
        graphs: the two serialized graphs and their metadata.
        device: "cpu" or a CUDA device ("cuda", "cuda:1", a ``torch.device``; needs
            onnxruntime-gpu); kept as given (``device``, ``description``).
        num_threads: intra-op threads (default ``export.graphs.default_num_threads()``).
    """

    def __init__(
        self,
        graphs: SiameseGraphs,
        device: Any = "cpu",
        num_threads: Optional[int] = None,
    ):
        import_onnxruntime()
        self.device = device
        self._num_threads = int(num_threads or default_num_threads())
        self.graphs = runtime_graphs(graphs)  # uint8 NHWC crops in (a no-op when cached)
        self._template = create_session(
            self.graphs.template, device=self.device, num_threads=self._num_threads
        )
        self._track_sessions = {}  # batch size (None: dynamic) -> _TrackSession
        self._track_session(1)  # the common case ready before the first frame
        self._feature_names = self.graphs.feature_names
        self.template_size = int(self.graphs.metadata["template_size"])
        self.search_size = int(self.graphs.metadata["search_size"])
        size = int(self.graphs.metadata["score_size"])
        self.score_shape = (int(self.graphs.metadata["num_anchors"]), size, size)
        self.precision = "fp32"

    @property
    def description(self) -> str:
        return f"onnxruntime on {self.device}"

    def encode_template(self, template_crops: np.ndarray):
        """Template features (tuple of float32 arrays) of (K, T, T, 3) uint8 crops."""
        crops = np.ascontiguousarray(template_crops, dtype=np.uint8)
        return tuple(self._template.run(None, {CROP_INPUTS["template"]: crops}))

    def prepare(self, features) -> None:
        """Make the track session with its shapes fixed to this batch (the targets' count) now,
        once per size, rather than at the next frame."""
        self._track_session(len(features[0]) if len(features) else 1)

    def track(self, features: Sequence[np.ndarray], search_crops: np.ndarray):
        """Scores (K, A, H, W) and boxes (K, A, H, W, 4), float64 (see ``TorchBackend.track``).

        Batches announced by ``prepare`` (and batch 1) run in a session with fixed shapes;
        other batches (extra search crops of some frames) in the dynamic-batch one, made on
        first use: a new batch size mid-video costs at most that one build (~0.1 s), once.
        """
        crops = np.ascontiguousarray(search_crops, dtype=np.uint8)
        batch = len(crops)
        static = batch in self._track_sessions and all(len(f) == batch for f in features)
        scores, boxes = self._track_session(batch if static else None).run(features, crops)
        return scores.astype(np.float64), boxes.astype(np.float64)

    def _track_session(self, batch: Optional[int]) -> "_TrackSession":
        """The track session for ``batch`` crops (None: the dynamic-batch one), made on first
        use; up to ``MAX_STATIC_BATCH``, a batch size gets a session with its shapes fixed."""
        if batch is not None and batch > MAX_STATIC_BATCH:
            batch = None
        session = self._track_sessions.get(batch)
        if session is None:
            session = _TrackSession(
                create_session(
                    self.graphs.track,
                    device=self.device,
                    num_threads=self._num_threads,
                    batch_size=batch,
                ),
                self.graphs.feature_names,
            )
            self._track_sessions[batch] = session
        return session

    @staticmethod
    def concat_features(features_list):
        parts = [np.concatenate(arrays) for arrays in zip(*features_list)]
        return same_container(features_list[0], parts)

    @staticmethod
    def take_features(features, indices):
        return same_container(features, [f[list(indices)] for f in features])


class _TrackSession:
    """One track session with its inputs and outputs bound (``io_binding``): the template
    features are bound once per feature batch (they change only when targets are added or
    removed) and the outputs are written into buffers kept from frame to frame, so a frame
    only binds its crops."""

    def __init__(self, session, feature_names: Sequence[str]):
        self.session = session
        self._feature_names = list(feature_names)
        self._output_names = [output.name for output in session.get_outputs()]
        self._binding = session.io_binding()
        self._features = None  # the features last bound, and the arrays bound (kept alive)
        self._feature_arrays = None
        self._outputs = None  # (batch, [arrays]) the outputs are bound to

    def run(self, features: Sequence[np.ndarray], crops: np.ndarray):
        """(scores, boxes) float32 of (K, S, S, 3) uint8 crops; valid until the next run."""
        binding = self._binding
        if features is not self._features:
            arrays = [np.ascontiguousarray(f, dtype=np.float32) for f in features]
            for name, array in zip(self._feature_names, arrays):
                binding.bind_cpu_input(name, array)
            self._features, self._feature_arrays = features, arrays
        binding.bind_cpu_input(CROP_INPUTS["search"], crops)
        if self._outputs is None or self._outputs[0] != len(crops):
            for name in self._output_names:
                binding.bind_output(name, "cpu")
            self.session.run_with_iobinding(binding)
            outputs = binding.copy_outputs_to_cpu()
            for name, array in zip(self._output_names, outputs):
                binding.bind_output(
                    name, "cpu", 0, array.dtype, list(array.shape), array.ctypes.data
                )
            self._outputs = (len(crops), outputs)
            return tuple(outputs)
        self.session.run_with_iobinding(binding)
        return tuple(self._outputs[1])
