"""A tracking run's presence confidence over its frames, as a PNG (``track_video.py
--confidence-plot``): when the target was lost and found again, at a glance.

One panel per target: the confidence (the probability that the box is on the target), the
network's raw score, the presence threshold, and the frames the tracker reported the target
absent, shaded.
"""

from pathlib import Path
from typing import Hashable, List, Mapping, Optional, Tuple

import numpy as np

from ..io.figures import new_figure, save_figure
from ..io.result_files import TrackRows
from ..utils.paths import PathLike

__all__ = ["absent_spans", "plot_confidence"]


def absent_spans(rows: TrackRows) -> List[Tuple[int, int]]:
    """(first, last) frame of every run of consecutive rows reported absent."""
    edges = np.diff(np.concatenate([[0], (~rows.present).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(int(rows.frames[a]), int(rows.frames[b])) for a, b in zip(starts, stops)]


def plot_confidence(
    targets: Mapping[Hashable, TrackRows],
    presence_threshold: Optional[float],
    path: PathLike,
    overwrite: bool = False,
) -> Path:
    """Draw the panels of ``targets`` (``{target id: rows}``; ``{None: rows}`` for one target),
    with the presence threshold when given, and write them to ``path`` (``OutputExistsError``
    if it exists and not ``overwrite``)."""
    if not targets:
        raise ValueError("no targets to plot")
    figure = new_figure(10.0, 0.6 + 2.0 * len(targets))
    panels = figure.subplots(len(targets), 1, sharex=True, squeeze=False)[:, 0]
    for axes, (target_id, rows) in zip(panels, targets.items()):
        for first, last in absent_spans(rows):
            axes.axvspan(first - 0.5, last + 0.5, color="tab:red", alpha=0.15, linewidth=0)
        axes.plot(rows.frames, rows.scores, color="0.6", linewidth=1, label="raw score")
        axes.plot(rows.frames, rows.confidences, color="tab:blue", linewidth=1.5,
                  label="confidence")  # fmt: skip
        if presence_threshold is not None:
            axes.axhline(presence_threshold, color="tab:red", linestyle="--", linewidth=1,
                         label=f"presence threshold {presence_threshold:g}")  # fmt: skip
        name = "target" if target_id is None else f"target {target_id}"
        absent = int(np.sum(~rows.present))
        axes.set_title(f"{name}: reported absent (shaded) in {absent} of {len(rows)} frames",
                       fontsize=10)  # fmt: skip
        axes.set_ylim(-0.02, 1.02)
        axes.set_ylabel("confidence, score")
        axes.grid(True, linestyle=":")
    panels[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    panels[-1].set_xlabel("frame")
    return save_figure(figure, path, overwrite, "confidence plot")
