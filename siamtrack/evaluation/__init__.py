"""One-pass evaluation (OPE) of trackers: metrics, result files, plots (no torch here).

OpenCV baselines live in ``siamtrack.evaluation.baselines`` (imported on demand).
"""

from .ope import evaluate, summarize
from .plots import plot_ope, plot_precision, plot_success
from .result_io import (
    read_boxes_file,
    read_got10k_results,
    read_otb_results,
    read_results,
    write_boxes_file,
    write_got10k_results,
    write_otb_results,
)
from .runner import OPEReport, evaluate_results, format_table, run_ope, save_reports_json

__all__ = [
    "evaluate",
    "summarize",
    "run_ope",
    "evaluate_results",
    "OPEReport",
    "format_table",
    "save_reports_json",
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
