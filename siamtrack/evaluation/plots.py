"""Success and precision plots of OPE as PNG files (matplotlib, no pyplot / global backend)."""

import os
from pathlib import Path
from typing import Dict, Mapping, Union

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .ope import PRECISION_AT, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS

__all__ = ["plot_curves", "plot_success", "plot_precision", "plot_ope"]

PathLike = Union[str, os.PathLike]


def plot_curves(
    curves: Mapping[str, np.ndarray],
    scores: Mapping[str, float],
    thresholds: np.ndarray,
    path: PathLike,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    figure = Figure(figsize=(6.0, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for name in sorted(curves, key=lambda n: -scores[n]):  # best first in the legend
        axes.plot(thresholds, curves[name], linewidth=2, label=f"{name} [{scores[name]:.3f}]")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xlim(thresholds[0], thresholds[-1])
    axes.set_ylim(0.0, 1.0)
    axes.grid(True, linestyle=":")
    axes.legend(loc="lower left" if "Success" in title else "lower right", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(str(path), bbox_inches="tight")
    return path


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
