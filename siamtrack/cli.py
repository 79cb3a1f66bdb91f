"""What siamtrack's command-line tools share: bad input becomes one line on stderr, exit code 2.

Library code raises typed exceptions that state the facts (``OutputExistsError`` names the
file); ``run_tool`` turns them into the tools' own words (one spelling for every tool:
``--force`` replaces existing outputs, ``--trust-weights`` loads a weight file in full). Bugs
(anything else) keep their traceback.

Tools parse their arguments before importing siamtrack (whose import loads torch and
detectron2 to register the models), so ``--help`` answers at once.
"""

import pickle
import sys
from typing import Callable

import yaml

from .config import load_config
from .io.files import OutputExistsError
from .model_zoo import get_config_file, get_model, list_models

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "bad_input_message",
    "config_from_args",
    "run_tool",
]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 1


def bad_input_message(error: BaseException) -> str:
    """The one-line message a tool prints for a bad-input exception."""
    if isinstance(error, OutputExistsError):
        return f"{error}; pass --force to replace it"
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error) or type(error).__name__


def config_from_args(args):
    """The frozen config of a tool's model arguments.

    Reads ``args.config_file`` (optional when ``args.weights`` is a model zoo name: the entry's
    config is used), ``args.weights`` (-> ``MODEL.WEIGHTS``), ``args.trust_weights`` (->
    ``MODEL.TRUST_WEIGHTS``) and ``args.opts`` (``KEY VALUE`` overrides, applied last).
    """
    config_file = getattr(args, "config_file", None)
    weights = getattr(args, "weights", None)
    if not config_file:
        if not weights:
            raise ValueError("give --config-file (and --weights), or a model zoo name as --weights")
        if weights not in list_models():
            raise ValueError(
                f"--weights {weights} is not a model zoo name ({', '.join(list_models())}); "
                "a weight file needs its model's --config-file"
            )
        config_file = get_config_file(get_model(weights).name)
    cfg = load_config(config_file, getattr(args, "opts", None))
    if weights:
        cfg.MODEL.WEIGHTS = weights
    if getattr(args, "trust_weights", False):
        cfg.MODEL.TRUST_WEIGHTS = True
    cfg.freeze()
    return cfg


def run_tool(prog: str, main: Callable[[], int]) -> int:
    """Run ``main()``; print ``<prog>: error: <message>`` and return 2 for bad input
    (``OSError``, ``ValueError``, ``KeyError``, ``ImportError`` of an optional dependency, a
    refused or broken weight file, malformed yaml)."""
    try:
        return main()
    except (
        OSError,
        ValueError,
        KeyError,
        ImportError,
        pickle.UnpicklingError,
        yaml.YAMLError,
    ) as e:
        print(f"{prog}: error: {bad_input_message(e)}".replace("\n", " "), file=sys.stderr)
        return EXIT_BAD_INPUT
