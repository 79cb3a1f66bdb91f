"""``EXPORT_LAYOUT_REGISTRY``: the deployment layouts a model can be exported in.

An ``ExportLayout`` is a named set of files and the functions that make and check them:
``export(model) -> graphs`` (bytes in memory), ``files(graphs) -> {file name: bytes}``,
``check(model, graphs, batch_sizes=..., seed=...) -> [OutputDifference]`` (onnxruntime against
PyTorch) and ``usage(output_dir) -> str`` (how to run the export). ``deploy.py`` registers
siamtrack's own layout (``"siamtrack"``: ``template.onnx`` + ``track.onnx``, every family);
model families register theirs (NanoTrack: ``"opencv-nano"`` for ``cv2.TrackerNano``) and
declare the name, torch-free, in their ``manifest.py`` so that ``tools/export_onnx.py`` lists it
before torch is imported (``siamtrack.cli.export_layout_names``).
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple, Type

from ..errors import BadInputError
from ..utils.registry import NamedRegistry

__all__ = [
    "EXPORT_LAYOUT_REGISTRY",
    "ExportLayout",
    "export_layout",
    "export_layout_of",
    "register_export_layout",
]


@dataclass(frozen=True)
class ExportLayout:
    """A deployment layout.

    Attributes:
        name: what ``--layout`` / ``export_graphs(model, layout)`` call it.
        file_names: the files it writes, in order.
        graphs_type: the type of its ``export`` result (tells a result's layout).
        export: ``export(model) -> graphs``; raises ``BadInputError`` (a ``ValueError``) for a
            model the layout cannot hold, saying why.
        files: ``files(graphs) -> {file name: bytes}``.
        check: ``check(model, graphs, *, batch_sizes, seed) -> [OutputDifference]``.
        usage: ``usage(output_dir) -> str``: how to run the written files.
        description: one line for ``--help``.
    """

    name: str
    file_names: Tuple[str, ...]
    graphs_type: Type
    export: Callable[[Any], Any]
    files: Callable[[Any], Dict[str, bytes]]
    check: Callable[..., List[Any]]
    usage: Callable[[str], str]
    description: str = ""


EXPORT_LAYOUT_REGISTRY: NamedRegistry[ExportLayout] = NamedRegistry("export layout")


def register_export_layout(layout: ExportLayout) -> ExportLayout:
    """Add a layout to ``EXPORT_LAYOUT_REGISTRY``."""
    return EXPORT_LAYOUT_REGISTRY.register(layout)


def export_layout(name: str) -> ExportLayout:
    """The layout called ``name``.

    Raises:
        BadInputError: no such layout (the message lists the registered ones).
    """
    if name not in EXPORT_LAYOUT_REGISTRY:
        raise BadInputError(
            f"layout '{name}' is not one of {tuple(EXPORT_LAYOUT_REGISTRY.names())}"
        )
    return EXPORT_LAYOUT_REGISTRY.get(name)


def export_layout_of(graphs: Any) -> ExportLayout:
    """The layout whose ``export`` made ``graphs``."""
    for layout in EXPORT_LAYOUT_REGISTRY:
        if isinstance(graphs, layout.graphs_type):
            return layout
    raise BadInputError(f"{type(graphs).__name__} is not the export of a registered layout")


def all_export_file_names() -> Sequence[str]:
    """The files of every registered layout (what a folder holding an export may contain)."""
    return [name for layout in EXPORT_LAYOUT_REGISTRY for name in layout.file_names]
