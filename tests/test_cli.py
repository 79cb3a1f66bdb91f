"""siamtrack.cli: the tools' shared arguments (torch-free) and their bad-input rule, one line
and exit code 2 for ``SiamtrackError`` / ``OSError`` / yaml / pickle errors, a traceback for
anything else; the error classes behind it."""

import argparse
import pickle
import subprocess
import sys

import pytest
import yaml

from siamtrack.cli import (
    BAD_INPUT_ERRORS,
    EXIT_BAD_INPUT,
    add_model_arguments,
    run_tool,
    training_argument_parser,
)
from siamtrack.errors import (
    BadInputError,
    ConfigError,
    MissingDependencyError,
    OutputExistsError,
    SiamtrackError,
    UnknownNameError,
)

from .conftest import REPO_ROOT


def _raise(error):
    def main():
        raise error

    return main


@pytest.mark.parametrize(
    "error, message",
    [
        (BadInputError("box 'a' is not numeric"), "box 'a' is not numeric"),
        (UnknownNameError("dataset 'x' is not registered"), "dataset 'x' is not registered"),
        (OutputExistsError("out.mp4", "output video"), "already exists; pass --force"),
        (FileNotFoundError("config file c.yaml does not exist"), "c.yaml does not exist"),
        (yaml.YAMLError("mapping values are not\nallowed here"), "are not allowed here"),
        (pickle.UnpicklingError("invalid load key"), "invalid load key"),
        (MissingDependencyError("pip install trax"), "pip install trax"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, error, message):
    assert run_tool("tool.py", _raise(error)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("tool.py: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("k"), TypeError("t")])
def test_other_exceptions_keep_their_traceback(error):
    assert not isinstance(error, BAD_INPUT_ERRORS)
    with pytest.raises(type(error)):
        run_tool("tool.py", _raise(error))


def test_a_bug_in_a_tool_prints_its_traceback():
    code = "from siamtrack.cli import run_tool\nrun_tool('tool.py', lambda: {}['missing'])\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "KeyError: 'missing'" in result.stderr
    assert "tool.py: error" not in result.stderr


def test_library_errors_are_siamtrack_errors_and_keep_their_builtin_bases():
    from siamtrack.checkpoint import InvalidCheckpointError
    from siamtrack.checkpoint.safe_load import UnsafeCheckpointError
    from siamtrack.data.pair_mapper import UnusableSampleError
    from siamtrack.integrations.vot import VotSessionError
    from siamtrack.io import UnreadableImageError
    from siamtrack.model_zoo import UnknownModelError

    expected_bases = {
        BadInputError: ValueError,
        ConfigError: ValueError,
        InvalidCheckpointError: ValueError,
        UnreadableImageError: ValueError,
        UnusableSampleError: ValueError,
        VotSessionError: ValueError,
        OutputExistsError: FileExistsError,
        UnsafeCheckpointError: pickle.UnpicklingError,
        UnknownNameError: KeyError,
        UnknownModelError: KeyError,
        MissingDependencyError: ImportError,
    }
    for cls, builtin in expected_bases.items():
        assert issubclass(cls, SiamtrackError) and issubclass(cls, builtin), cls
    assert issubclass(UnknownModelError, ValueError)
    unsafe = UnsafeCheckpointError("w.pth", "os.system")
    assert unsafe.filename == "w.pth" and unsafe.global_name == "os.system"
    assert "--trust-weights" in str(unsafe)
    exists = OutputExistsError("a/b.txt", "boxes file")
    assert str(exists) == "boxes file 'a/b.txt' already exists" and exists.path.name == "b.txt"
    assert str(UnknownNameError("dataset 'x' is not registered")) == "dataset 'x' is not registered"


def test_unknown_dataset_is_an_unknown_name_error():
    from siamtrack.data import get_sequences

    with pytest.raises(UnknownNameError, match="dataset 'nope_dataset' is not registered"):
        get_sequences("nope_dataset")


def test_bad_box_and_config_values_are_bad_input():
    from siamtrack.utils.boxes import check_box_in_image, parse_box_xywh

    with pytest.raises(BadInputError, match="is not numeric"):
        parse_box_xywh("a,b,c,d", "--init-box")
    with pytest.raises(BadInputError, match="outside the 20x10 image"):
        check_box_in_image([50, 1, 5, 5], (10, 20, 3), "init box")


# ---------------------------------------------------------------------------- arguments
def test_model_arguments():
    parser = argparse.ArgumentParser()
    group = add_model_arguments(parser)
    args = parser.parse_args(
        ["--weights", "nanotrack_v3", "--trust-weights", "--device", "cpu", "--opts", "A", "1"]
    )
    assert vars(args) == {
        "config_file": None,
        "weights": "nanotrack_v3",
        "trust_weights": True,
        "device": "cpu",
        "opts": ["A", "1"],
    }
    assert group.title == "model"


def test_model_arguments_a_tool_leaves_out():
    parser = argparse.ArgumentParser()
    add_model_arguments(
        parser,
        weights=False,
        trust_weights=False,
        device=False,
        config_required=True,
        config_help="path to a config",
    )
    assert vars(parser.parse_args(["--config-file", "c.yaml"])) == {
        "config_file": "c.yaml",
        "opts": [],
    }
    with pytest.raises(SystemExit):
        parser.parse_args([])
    defaulted = argparse.ArgumentParser()
    add_model_arguments(defaulted, config_default="default.yaml")
    assert defaulted.parse_args([]).config_file == "default.yaml"


def _comparable(action: argparse.Action) -> tuple:
    return (
        type(action).__name__,
        tuple(action.option_strings),
        action.dest,
        action.default,
        action.type,
        action.nargs,
        action.const,
        action.required,
        action.choices,
        action.metavar,
        action.help,
    )


def test_training_parser_equals_detectron2s_plus_trust_weights():
    from detectron2.engine import default_argument_parser

    ours, theirs = training_argument_parser(), default_argument_parser()
    ours_by_dest = {a.dest: a for a in ours._actions}
    for action in theirs._actions:
        assert action.dest in ours_by_dest, f"{action.dest} missing"
        assert _comparable(ours_by_dest[action.dest]) == _comparable(action)
    assert sorted(set(ours_by_dest) - {a.dest for a in theirs._actions}) == ["trust_weights"]
    assert [a.dest for a in ours._actions][: len(theirs._actions)] == [
        a.dest for a in theirs._actions
    ]
    assert ours.epilog == theirs.epilog and ours.formatter_class is theirs.formatter_class
    argv = ["--config-file", "c.yaml", "--resume", "--num-gpus", "2", "SOLVER.BASE_LR", "0.1"]
    ours_args = vars(ours.parse_args(argv))
    assert ours_args.pop("trust_weights") is False
    assert ours_args == vars(theirs.parse_args(argv))
    assert ours.parse_args(["--trust-weights"]).trust_weights is True
