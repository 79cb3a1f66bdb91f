"""``InferenceOptions``: how a tracker runs its network (one set of defaults, pure Python).

The config keys ``TRACKER.BACKEND``, ``TRACKER.FOLD_BATCHNORM``, ``TRACKER.JIT_FREEZE``,
``TRACKER.PRECISION``, ``TRACKER.CHANNELS_LAST``, ``TRACKER.COMPILE`` and ``TRACKER.ONNX_DIR``
take their defaults from this class, and ``SiamTracker(model=...)`` without options uses the
same defaults as ``SiamTracker(cfg)``. It lives in the bottom layer (pure Python) so that
``siamtrack.config`` can read the defaults without importing the trackers.
"""

from dataclasses import dataclass, fields

from .errors import BadInputError

__all__ = ["InferenceOptions", "BACKENDS", "PRECISION_NAMES"]

BACKENDS = ("torch", "onnxruntime")
PRECISION_NAMES = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class InferenceOptions:
    """Execution options of the tracking network (outputs equal the eager float32 model up to
    float rounding unless noted).

    Attributes:
        backend: "torch" (the PyTorch model) or "onnxruntime" (siamtrack's ONNX graphs of
            the model, exported in memory or read from ``onnx_dir``; fastest on CPU for the
            light models).
        fold_batchnorm: torch: run a copy with BatchNorm folded into the convolutions.
        jit_freeze: torch: trace + freeze the per-frame step with ``torch.jit`` (fp32 CPU
            only; ~1 s one-off at ``init``; falls back to eager if tracing fails).
        precision: torch: "fp32", or autocast to "bf16" (CPU/CUDA) / "fp16" (CUDA): faster,
            different outputs (opt-in).
        channels_last: torch: channels-last memory format.
        compile: torch: ``torch.compile`` the per-frame step (opt-in; slow first frames).
        onnx_dir: onnxruntime: folder with ``template.onnx`` / ``track.onnx`` written by
            ``tools/export_onnx.py``; empty = export the model in memory when the tracker
            is built.
    """

    backend: str = "torch"
    fold_batchnorm: bool = True
    jit_freeze: bool = True
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    onnx_dir: str = ""

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise BadInputError(f"inference backend '{self.backend}' is not one of {BACKENDS}")
        if self.precision not in PRECISION_NAMES:
            raise BadInputError(f"precision '{self.precision}' is not one of {PRECISION_NAMES}")
        if self.onnx_dir and self.backend != "onnxruntime":
            raise BadInputError(
                f"onnx_dir '{self.onnx_dir}' is only read by the onnxruntime backend "
                f"(backend is '{self.backend}')"
            )

    @classmethod
    def eager(cls) -> "InferenceOptions":
        """The model exactly as given: PyTorch eager, fp32, no copies, no tracing."""
        return cls(fold_batchnorm=False, jit_freeze=False)

    @classmethod
    def from_config(cls, tracker_cfg) -> "InferenceOptions":
        """From the ``TRACKER`` node of a siamtrack config."""
        return cls(**{f.name: tracker_cfg[f.name.upper()] for f in fields(cls)})
