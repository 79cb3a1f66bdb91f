"""One-pass evaluation (OPE) of trackers: metrics, protocols, running, plots (no torch).

Each benchmark is scored with its own rule (``protocols``: otb, lasot, got10k, longterm), picked
from the sequences' layout (``longterm`` where the ground truth marks absent frames with
``nan,nan,nan,nan`` rows) unless ``protocol=...`` says otherwise. A tracker is anything with
``track(frame_paths, init_box_xywh)`` returning a ``TrackSequenceResult`` (``runner.run_ope``);
result files are read and written by ``siamtrack.io.result_files``.
"""

from .longterm import evaluate_longterm, summarize_longterm, tracking_precision_recall
from .ope import evaluate, evaluate_got10k, summarize, summarize_got10k
from .plots import plot_curves, plot_ope, plot_precision, plot_precision_recall, plot_success
from .protocols import (
    PROTOCOLS,
    Protocol,
    detect_protocol,
    get_protocol,
    read_image_size,
    resolve_protocol,
)
from .runner import (
    OPEReport,
    evaluate_results,
    format_table,
    plot_reports,
    run_ope,
    save_reports_json,
)

__all__ = [
    "evaluate",
    "summarize",
    "evaluate_got10k",
    "summarize_got10k",
    "evaluate_longterm",
    "summarize_longterm",
    "tracking_precision_recall",
    "PROTOCOLS",
    "Protocol",
    "get_protocol",
    "detect_protocol",
    "resolve_protocol",
    "read_image_size",
    "run_ope",
    "evaluate_results",
    "OPEReport",
    "format_table",
    "save_reports_json",
    "plot_reports",
    "plot_curves",
    "plot_ope",
    "plot_success",
    "plot_precision",
    "plot_precision_recall",
]
