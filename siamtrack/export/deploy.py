"""Export a model into a folder in one of the deployment layouts, and check the graphs.

Layouts are registered in ``EXPORT_LAYOUT_REGISTRY`` (``layouts.py``); ``export_layouts()``
lists them. This module registers siamtrack's own:

- ``"siamtrack"``: ``template.onnx`` + ``track.onnx`` (``onnx.py``), for siamtrack's
  onnxruntime backend (``TRACKER.BACKEND onnxruntime``, ``TRACKER.ONNX_DIR <folder>``); every
  family, dynamic batch.

Model families register theirs (e.g. ``"opencv-nano"`` for ``cv2.TrackerNano``, by the NanoTrack
family). ``save_export`` never leaves a half-written export: the files are written into a
temporary folder next to the output folder and moved into place once all are complete.
``check_export`` runs the graphs with onnxruntime against the PyTorch model on seeded random
crops and reports the largest difference of every output (``OutputDifference``); layouts
build their checks from ``output_difference``, ``random_crops`` and ``create_session``.

This is the library behind ``tools/export_onnx.py``.
"""

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..io import OutputExistsError
from ..utils.paths import PathLike
from .layouts import (
    EXPORT_LAYOUT_REGISTRY,
    ExportLayout,
    all_export_file_names,
    export_layout,
    export_layout_of,
    register_export_layout,
)
from .onnx import (
    TEMPLATE_FILE,
    TRACK_FILE,
    SiameseGraphs,
    create_session,
    export_siamese_graphs,
)

__all__ = [
    "OutputDifference",
    "check_export",
    "check_no_previous_export",
    "existing_export_files",
    "export_graphs",
    "export_layouts",
    "output_difference",
    "random_crops",
    "save_export",
]

Graphs = Any  # the result of a layout's export (SiameseGraphs for "siamtrack")


def export_layouts() -> Tuple[str, ...]:
    """Names of the registered layouts (``EXPORT_LAYOUT_REGISTRY``), "siamtrack" first."""
    return tuple(EXPORT_LAYOUT_REGISTRY.names())


def export_graphs(model: nn.Module, layout: str = "siamtrack") -> Graphs:
    """The model's graphs in ``layout`` (bytes in memory; nothing is written).

    Raises:
        ValueError: unknown layout, or a model the layout cannot hold (the layout says why).
    """
    return export_layout(layout).export(model)


def existing_export_files(output_dir: PathLike) -> List[Path]:
    """Files of any layout's export already in ``output_dir`` (empty if it does not exist)."""
    folder = Path(output_dir)
    return [folder / name for name in all_export_file_names() if (folder / name).exists()]


def check_no_previous_export(output_dir: PathLike, *, overwrite: bool = False) -> None:
    """Raise unless an export may be written into ``output_dir``: it is a folder (or does not
    exist yet) and holds no export of either layout, unless ``overwrite``.

    Raises:
        OutputExistsError: ``output_dir`` already holds an export (of either layout) and
            ``overwrite`` is False (it names the first file found).
        NotADirectoryError: ``output_dir`` exists and is not a folder.
    """
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"output {folder} exists and is not a folder")
    existing = existing_export_files(folder)
    if existing and not overwrite:
        raise OutputExistsError(existing[0], "export file")


def _make_temporary_folder(folder: Path) -> Path:
    """A new hidden folder next to ``folder``, with a plain ``os.mkdir``'s permissions."""
    while True:
        temp = folder.parent / f".{folder.name}.{secrets.token_hex(4)}.partial"
        try:
            os.mkdir(temp)
            return temp
        except FileExistsError:
            continue


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def save_export(graphs: Graphs, output_dir: PathLike, *, overwrite: bool = False) -> List[Path]:
    """Write the graphs' files into ``output_dir``, all or nothing.

    The files go into a temporary folder next to ``output_dir`` first; when they are all
    written, the folder is renamed to ``output_dir`` (if it did not exist) or the files are
    moved into it one by one (each an atomic rename). On any error the temporary folder is
    removed and ``output_dir`` is left as it was.

    Args:
        graphs: from ``export_graphs``.
        output_dir: folder to write into (created with its parents if missing).
        overwrite: replace an export already in ``output_dir``.

    Returns:
        paths of the files written.

    Raises:
        OutputExistsError: ``output_dir`` already holds an export and ``overwrite`` is False.
        NotADirectoryError: ``output_dir`` exists and is not a folder.
    """
    folder = Path(output_dir)
    check_no_previous_export(folder, overwrite=overwrite)
    files = export_layout_of(graphs).files(graphs)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = _make_temporary_folder(folder)
    try:
        for name, data in files.items():
            _write(temp / name, data)
        if not folder.exists():
            os.rename(temp, folder)
        else:
            for name in files:
                os.replace(temp / name, folder / name)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return [folder / name for name in files]


@dataclass(frozen=True)
class OutputDifference:
    """Largest difference between an exported graph's output and the PyTorch model's.

    Attributes:
        name: which output (e.g. ``"track.onnx:scores (batch 2)"``).
        max_abs: max |onnx - torch|.
        value_range: max - min of the PyTorch output (the scale ``max_rel`` is relative to).
        max_rel: ``max_abs / value_range``.
    """

    name: str
    max_abs: float
    value_range: float
    max_rel: float

    def __str__(self) -> str:
        return (
            f"{self.name}: max abs diff {self.max_abs:.3g}, relative to the output range "
            f"{self.value_range:.4g}: {self.max_rel:.3g}"
        )


def output_difference(
    name: str, onnx_value: np.ndarray, torch_value: torch.Tensor
) -> OutputDifference:
    """How far a graph's output is from the PyTorch model's (shapes must be equal)."""
    reference = torch_value.detach().float().cpu().numpy()
    if onnx_value.shape != reference.shape:
        raise ValueError(
            f"{name}: the graph gives shape {onnx_value.shape}, the model {reference.shape}"
        )
    max_abs = float(np.abs(onnx_value.astype(np.float64) - reference).max())
    value_range = float(reference.max() - reference.min())
    scale = value_range or float(np.abs(reference).max()) or 1.0
    return OutputDifference(name, max_abs, value_range, max_abs / scale)


def _sessions(blobs: Sequence[bytes]):
    """CPU onnxruntime sessions of the graphs, set up as the trackers set theirs up."""
    return [create_session(blob) for blob in blobs]


def random_crops(batch: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(batch, 3, size, size) float32 crops of uniform random 0-255 integers."""
    return rng.integers(0, 256, size=(batch, 3, size, size)).astype(np.float32)


def check_export(
    model: nn.Module, graphs: Graphs, *, batch_sizes: Sequence[int] = (1,), seed: int = 0
) -> List[OutputDifference]:
    """Run the exported graphs with onnxruntime and the model with PyTorch on the same crops
    (the check of the graphs' layout).

    Crops are seeded random 0-255 images. siamtrack layout: template features, ``scores`` and
    ``boxes_cxcywh`` for each batch size (B templates paired with B searches); other layouts
    document their own check.

    Args:
        model: the PyTorch model the graphs were exported from (eval mode).
        graphs: from ``export_graphs``.
        batch_sizes: batch sizes to check (layouts with a fixed batch use their own).
        seed: seed of the random crops.

    Returns:
        one OutputDifference per output (and batch size).

    Raises:
        ImportError: onnxruntime is not installed.
    """
    layout = export_layout_of(graphs)
    return layout.check(model.eval(), graphs, batch_sizes=batch_sizes, seed=seed)


def _check_siamese_graphs(
    model: nn.Module, graphs: SiameseGraphs, *, batch_sizes: Sequence[int], seed: int
) -> List[OutputDifference]:
    rng = np.random.default_rng(seed)
    size_t, size_s = model.template_size, model.search_size
    differences = []
    template_session, track_session = _sessions([graphs.template, graphs.track])
    names = graphs.feature_names
    for batch in batch_sizes:
        template, search = random_crops(batch, size_t, rng), random_crops(batch, size_s, rng)
        features = template_session.run(None, {"template": template})
        scores, boxes = track_session.run(None, {"search": search, **dict(zip(names, features))})
        with torch.no_grad():
            torch_features = model.encode_template(torch.from_numpy(template))
            output = model.track(torch_features, torch.from_numpy(search))
        pairs = list(zip(names, features, torch_features))
        pairs += [
            ("scores", scores, output.scores),
            ("boxes_cxcywh", boxes, output.boxes_cxcywh),
        ]
        for name, value, reference in pairs:
            graph = TEMPLATE_FILE if name.startswith("template_feature") else TRACK_FILE
            differences.append(
                output_difference(f"{graph}:{name} (batch {batch})", value, reference)
            )
    return differences


register_export_layout(
    ExportLayout(
        name="siamtrack",
        file_names=(TEMPLATE_FILE, TRACK_FILE),
        graphs_type=SiameseGraphs,
        export=export_siamese_graphs,
        files=lambda graphs: {TEMPLATE_FILE: graphs.template, TRACK_FILE: graphs.track},
        check=_check_siamese_graphs,
        usage=lambda output_dir: (
            f"run it with: TRACKER.BACKEND onnxruntime TRACKER.ONNX_DIR {output_dir}"
        ),
        description="template.onnx + track.onnx (onnxruntime backend)",
    )
)
