"""Success and precision plots of OPE, and the long-term tracking precision-recall plot, as PNG
files (``siamtrack.io.figures``)."""

from pathlib import Path
from typing import Dict, Mapping

import numpy as np

from ..io.figures import new_figure, save_figure
from ..utils.paths import PathLike
from .ope import PRECISION_AT, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS

__all__ = ["plot_curves", "plot_success", "plot_precision", "plot_ope", "plot_precision_recall"]


def _new_axes(title: str, xlabel: str, ylabel: str):
    """A figure of the plots' size with one set of axes, titled and labelled."""
    figure = new_figure(6.0, 4.5)
    axes = figure.add_subplot(1, 1, 1)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_ylim(0.0, 1.0)
    axes.grid(True, linestyle=":")
    return figure, axes


def _best_first(scores: Mapping[str, float]):
    """Tracker names, best score first (NaN last) for the legend."""
    return sorted(scores, key=lambda n: -np.nan_to_num(scores[n], nan=-1.0))


def plot_curves(
    curves: Mapping[str, np.ndarray],
    scores: Mapping[str, float],
    thresholds: np.ndarray,
    path: PathLike,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    figure, axes = _new_axes(title, xlabel, ylabel)
    for name in _best_first(scores):
        axes.plot(thresholds, curves[name], linewidth=2, label=f"{name} [{scores[name]:.3f}]")
    axes.set_xlim(thresholds[0], thresholds[-1])
    axes.legend(loc="lower left" if "Success" in title else "lower right", fontsize=9)
    return save_figure(figure, path)


def plot_success(overall_by_tracker: Mapping[str, Mapping], path: PathLike) -> Path:
    """ "Success plots of OPE": success rate vs IoU threshold, AUC in the legend.

    Args:
        overall_by_tracker: ``{tracker name: OPEReport.overall}`` (needs ``success_curve``, ``auc``).
        path: PNG file to write.
    """
    curves = {n: o["success_curve"] for n, o in overall_by_tracker.items()}
    scores = {n: o["auc"] for n, o in overall_by_tracker.items()}
    return plot_curves(
        curves,
        scores,
        SUCCESS_THRESHOLDS,
        path,
        "Success plots of OPE",
        "Overlap threshold",
        "Success rate",
    )


def plot_precision(overall_by_tracker: Mapping[str, Mapping], path: PathLike) -> Path:
    """ "Precision plots of OPE": precision vs centre-error threshold, value at 20 px in the legend."""
    curves = {n: o["precision_curve"] for n, o in overall_by_tracker.items()}
    scores = {n: o["precision_curve"][PRECISION_AT] for n, o in overall_by_tracker.items()}
    return plot_curves(
        curves,
        scores,
        PRECISION_THRESHOLDS,
        path,
        "Precision plots of OPE",
        "Location error threshold (px)",
        "Precision",
    )


def plot_ope(overall_by_tracker: Mapping[str, Mapping], output_dir: PathLike) -> Dict[str, Path]:
    """Write ``success_plot.png`` and ``precision_plot.png`` into ``output_dir``."""
    output_dir = Path(output_dir)
    return {
        "success": plot_success(overall_by_tracker, output_dir / "success_plot.png"),
        "precision": plot_precision(overall_by_tracker, output_dir / "precision_plot.png"),
    }


def plot_precision_recall(overall_by_tracker: Mapping[str, Mapping], path: PathLike) -> Path:
    """ "Tracking precision-recall" (long-term): tracking precision vs recall over the
    confidence thresholds, one curve per tracker, its F-max point marked, F in the legend.

    Args:
        overall_by_tracker: ``{tracker name: OPEReport.overall}`` of the ``longterm`` protocol
            (needs ``precision_curve``, ``recall_curve``, ``f_score``, ``precision``,
            ``recall``).
        path: PNG file to write.
    """
    figure, axes = _new_axes("Tracking precision-recall", "Tracking recall", "Tracking precision")
    scores = {n: o["f_score"] for n, o in overall_by_tracker.items()}
    for name in _best_first(scores):
        overall = overall_by_tracker[name]
        (line,) = axes.plot(
            overall["recall_curve"],
            overall["precision_curve"],
            linewidth=2,
            label=f"{name} [F {scores[name]:.3f}]",
        )
        axes.plot(
            [overall["recall"]], [overall["precision"]], "o", color=line.get_color(), markersize=7
        )
    axes.set_xlim(0.0, 1.0)
    axes.legend(loc="lower left", fontsize=9)
    return save_figure(figure, path)
