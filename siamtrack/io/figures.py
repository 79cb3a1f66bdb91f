"""Matplotlib figures drawn off-screen and written as PNG files in one rename (``files.py``).

Each figure gets its own Agg canvas: no pyplot, no global backend, no display needed.
matplotlib is imported on first use (~0.6 s): tools that can draw a plot do not pay for it
unless they do.
"""

from pathlib import Path

from ..errors import OutputExistsError
from ..utils.paths import PathLike
from .files import atomic_output

__all__ = ["new_figure", "save_figure"]


def new_figure(width: float, height: float):
    """An empty ``width`` x ``height`` inch ``matplotlib.figure.Figure`` (100 dpi) with its own
    Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path: PathLike, overwrite: bool = True, what: str = "plot") -> Path:
    """Write ``figure`` to ``path`` as PNG (its folder is created); ``OutputExistsError`` if the
    file exists and not ``overwrite`` (then nothing is touched)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path, what)
    with atomic_output(path) as temp_path:
        figure.savefig(str(temp_path), format="png", bbox_inches="tight")
    return path
