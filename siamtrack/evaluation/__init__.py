"""One-pass evaluation (OPE) of trackers: metrics, protocols, result files, plots (no torch).

Each benchmark is scored with its own rule (``protocols``: otb, lasot, got10k), picked from the
sequences' layout unless ``protocol=...`` says otherwise.

OpenCV baselines live in ``siamtrack.evaluation.baselines`` (imported on demand).
"""

from .ope import evaluate, evaluate_got10k, summarize, summarize_got10k
from .plots import plot_ope, plot_precision, plot_success
from .protocols import (
    PROTOCOLS,
    Protocol,
    detect_protocol,
    get_protocol,
    read_image_size,
    resolve_protocol,
)
from .result_io import (
    read_boxes_file,
    read_got10k_results,
    read_otb_results,
    read_results,
    write_boxes_file,
    write_got10k_results,
    write_otb_results,
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
    "plot_ope",
    "plot_success",
    "plot_precision",
    "write_otb_results",
    "read_otb_results",
    "write_got10k_results",
    "read_got10k_results",
    "read_results",
    "write_boxes_file",
    "read_boxes_file",
]
