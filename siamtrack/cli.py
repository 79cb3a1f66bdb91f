"""What siamtrack's command-line tools share: their model arguments, and bad input as one line
on stderr with exit code 2.

Library code raises ``SiamtrackError`` subclasses (``siamtrack.errors``) that state the facts
(``OutputExistsError`` names the file). ``run_tool`` prints those, ``OSError`` (a missing file,
a full disk), malformed yaml and unreadable pickles as one line ``<prog>: error: <message>``
in the tools' own words (one spelling for every tool: ``--force`` replaces existing outputs,
``--trust-weights`` loads a weight file in full) and returns 2. Any other exception is a bug
and keeps its traceback.

Nothing here needs torch or detectron2 (nor does ``import siamtrack``): a tool builds its
parser from ``add_model_arguments`` / ``training_argument_parser`` and answers ``--help`` at
once; it imports the rest of siamtrack after parsing. ``siamtrack.config.config_from_args``
turns the model arguments into a config. ``export_layouts`` names the export layouts the same
way: from the model families' torch-free ``manifest.py`` files.
"""

import argparse
import importlib.util
import os
import pickle
import sys
from pathlib import Path
from typing import Callable, Dict, Optional

import yaml

from .errors import OutputExistsError, SiamtrackError

__all__ = [
    "BAD_INPUT_ERRORS",
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "add_model_arguments",
    "add_trust_weights_argument",
    "bad_input_message",
    "export_layouts",
    "run_tool",
    "training_argument_parser",
]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 1
# What the tools report as bad input (one line, exit code 2); anything else is a bug.
BAD_INPUT_ERRORS = (SiamtrackError, OSError, yaml.YAMLError, pickle.UnpicklingError)


def add_trust_weights_argument(parser, help: str = "") -> None:
    """``--trust-weights`` (``args.trust_weights``; -> ``MODEL.TRUST_WEIGHTS``)."""
    parser.add_argument(
        "--trust-weights",
        action="store_true",
        help=help or "load the weights file with full unpickling (only for files you trust)",
    )


def add_model_arguments(
    parser: argparse.ArgumentParser,
    *,
    weights: bool = True,
    trust_weights: bool = True,
    device: bool = True,
    config_required: bool = False,
    config_default: Optional[str] = None,
    config_help: str = "",
):
    """Add the arguments that choose a model, in their own help group; what
    ``siamtrack.config.config_from_args`` reads.

    ``--config-file FILE``, ``--weights`` (a checkpoint file or a model zoo name, which brings
    its config), ``--trust-weights``, ``--device`` and ``--opts KEY VALUE ...`` (config
    overrides; it takes the rest of the command line, so it comes last). A tool leaves out
    the ones it has no use for.

    Returns:
        the argument group (a tool may add its own model options to it).
    """
    group = parser.add_argument_group("model")
    group.add_argument(
        "--config-file",
        metavar="FILE",
        required=config_required,
        default=config_default,
        help=config_help or "model config (yaml); optional when --weights is a model zoo name",
    )
    if weights:
        group.add_argument(
            "--weights",
            help="checkpoint file or model zoo name (python -m siamtrack.model_zoo list): "
            "MODEL.WEIGHTS",
        )
    if trust_weights:
        add_trust_weights_argument(group)
    if device:
        group.add_argument(
            "--device",
            help="auto, cpu, cuda, cuda:1 ...: MODEL.DEVICE (default: the config's; siamtrack's "
            "is the best available device, cuda when available, else cpu)",
        )
    group.add_argument(
        "--opts",
        default=[],
        nargs=argparse.REMAINDER,
        help="config overrides as KEY VALUE pairs, e.g. TRACKER.PENALTY_K 0.1 (must come last)",
    )
    return group


def training_argument_parser(epilog: Optional[str] = None) -> argparse.ArgumentParser:
    """detectron2's ``default_argument_parser`` (``--config-file``, ``--resume``,
    ``--eval-only``, ``--num-gpus``, ``--num-machines``, ``--machine-rank``, ``--dist-url``,
    trailing ``KEY VALUE`` overrides) plus ``--trust-weights``, built without importing
    detectron2 (and torch), so ``tools/train_net.py --help`` answers at once.

    The same arguments, defaults and help as detectron2 0.6's; ``tests/engine`` compares the
    two parsers.
    """
    program = sys.argv[0]
    parser = argparse.ArgumentParser(
        epilog=epilog or f"""
Examples:

Run on single machine:
    $ {program} --num-gpus 8 --config-file cfg.yaml

Change some config options:
    $ {program} --config-file cfg.yaml MODEL.WEIGHTS /path/to/weight.pth SOLVER.BASE_LR 0.001

Run on multiple machines:
    (machine0)$ {program} --machine-rank 0 --num-machines 2 --dist-url <URL> [--other-flags]
    (machine1)$ {program} --machine-rank 1 --num-machines 2 --dist-url <URL> [--other-flags]
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config-file", default="", metavar="FILE", help="path to config file")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="Whether to attempt to resume from the checkpoint directory. "
        "See documentation of `DefaultTrainer.resume_or_load()` for what it means.",
    )
    parser.add_argument("--eval-only", action="store_true", help="perform evaluation only")
    parser.add_argument("--num-gpus", type=int, default=1, help="number of gpus *per machine*")
    parser.add_argument("--num-machines", type=int, default=1, help="total number of machines")
    parser.add_argument(
        "--machine-rank", type=int, default=0, help="the rank of this machine (unique per machine)"
    )
    # detectron2's port: deterministic per user, so orphan processes show as a busy port
    port = 2**15 + 2**14 + hash(os.getuid() if sys.platform != "win32" else 1) % 2**14
    parser.add_argument(
        "--dist-url",
        default=f"tcp://127.0.0.1:{port}",
        help="initialization URL for pytorch distributed backend. See "
        "https://pytorch.org/docs/stable/distributed.html for details.",
    )
    parser.add_argument(
        "opts",
        help="""
Modify config options at the end of the command. For Yacs configs, use
space-separated "PATH.KEY VALUE" pairs.
For python-based LazyConfig, use "path.key=value".
        """.strip(),
        default=None,
        nargs=argparse.REMAINDER,
    )
    add_trust_weights_argument(
        parser,
        help="load MODEL.WEIGHTS / resumed checkpoints with full unpickling (trusted files only)",
    )
    return parser


def bad_input_message(error: BaseException) -> str:
    """The one-line message a tool prints for a bad-input exception."""
    if isinstance(error, OutputExistsError):
        return f"{error}; pass --force to replace it"
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error) or type(error).__name__


def run_tool(prog: str, main: Callable[[], int]) -> int:
    """Run ``main()``; for bad input (``BAD_INPUT_ERRORS``: a ``SiamtrackError``, an
    ``OSError``, malformed yaml, a refused or broken pickle) print ``<prog>: error: <message>``
    on one line and return 2. Other exceptions propagate with their traceback (bugs)."""
    try:
        return main()
    except BAD_INPUT_ERRORS as error:
        print(f"{prog}: error: {bad_input_message(error)}".replace("\n", " "), file=sys.stderr)
        return EXIT_BAD_INPUT


# siamtrack's own export layout (siamtrack.export.deploy), which every family supports.
_SIAMTRACK_LAYOUT = {"siamtrack": "template.onnx + track.onnx (onnxruntime backend)"}


def export_layouts() -> Dict[str, str]:
    """The export layouts (name -> one line), torch-free, as ``EXPORT_LAYOUT_REGISTRY`` holds
    them once the families are registered: siamtrack's own, then each family's, read from
    ``siamtrack/families/<family>/manifest.py`` (``EXPORT_LAYOUTS``) without importing the
    family (which needs torch)."""
    layouts = dict(_SIAMTRACK_LAYOUT)
    families = Path(__file__).resolve().parent / "families"
    for manifest in sorted(families.glob("*/manifest.py")):
        spec = importlib.util.spec_from_file_location(
            f"_siamtrack_manifest_{manifest.parent.name}", manifest
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        layouts.update(getattr(module, "EXPORT_LAYOUTS", {}))
    return layouts
