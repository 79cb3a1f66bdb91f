"""load_config / config_from_args: the device default (the best one, no warning), explicit
devices, and config errors as ``ConfigError``."""

import logging
from argparse import Namespace

import pytest
import torch
from detectron2.config import get_cfg

from siamtrack.config import add_siamtrack_config, config_from_args, load_config
from siamtrack.errors import BadInputError, ConfigError
from siamtrack.utils.devices import best_device, resolve_device

from .conftest import CONFIGS_DIR

CONFIG = str(CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_pysot_instant_test.yaml")
BASE_CONFIG = str(CONFIGS_DIR / "siamrpn" / "Base-SiamRPN.yaml")  # no MODEL.DEVICE of its own
BEST = "cuda" if torch.cuda.is_available() else "cpu"
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def test_default_device_is_the_best_one_without_a_warning(caplog):
    assert add_siamtrack_config(get_cfg()).MODEL.DEVICE == BEST == best_device()
    with caplog.at_level(logging.INFO):
        cfg = load_config(BASE_CONFIG)
    assert cfg.MODEL.DEVICE == BEST
    assert not [r for r in caplog.records if "CUDA is not available" in r.getMessage()]


@pytest.mark.parametrize("value", ["auto", ""])
def test_auto_device(value):
    assert load_config(BASE_CONFIG, ["MODEL.DEVICE", value]).MODEL.DEVICE == BEST
    assert resolve_device(value) == torch.device(BEST) == resolve_device(None)


def test_explicit_cpu_device():
    assert load_config(BASE_CONFIG, ["MODEL.DEVICE", "cpu"]).MODEL.DEVICE == "cpu"
    assert resolve_device("cpu") == torch.device("cpu")


@no_cuda
def test_cuda_without_cuda_is_an_error():
    with pytest.raises(ConfigError, match="MODEL.DEVICE: device 'cuda' was requested but CUDA"):
        load_config(BASE_CONFIG, ["MODEL.DEVICE", "cuda"])
    with pytest.raises(BadInputError, match="CUDA is not available.*use device 'cpu' or 'auto'"):
        resolve_device("cuda:1")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        config_from_args(Namespace(config_file=BASE_CONFIG, device="cuda", opts=[]))


def test_not_a_device():
    with pytest.raises(BadInputError, match="'gpu0' is not a valid torch device"):
        resolve_device("gpu0")


def test_device_argument_is_model_device():
    cfg = config_from_args(
        Namespace(config_file=CONFIG, device="cpu", opts=["MODEL.DEVICE", "auto"])
    )
    assert cfg.MODEL.DEVICE == "cpu" and cfg.is_frozen()
    cfg = config_from_args(Namespace(config_file=CONFIG, weights="w.pth", trust_weights=True))
    assert cfg.MODEL.WEIGHTS == "w.pth" and cfg.MODEL.TRUST_WEIGHTS


@pytest.mark.parametrize(
    "config_file, opts, message",
    [
        ("", [], "no config file given"),
        (CONFIG, ["TRACKER.LR"], "odd list"),
        (CONFIG, ["TRACKER.NOPE", "1"], "TRACKER.NOPE"),
    ],
)
def test_config_errors(config_file, opts, message):
    with pytest.raises(ConfigError, match=message):
        load_config(config_file, opts)


def test_malformed_yaml(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("MODEL:\n  WEIGHTS: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml is not valid YAML"):
        load_config(str(broken))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(str(tmp_path / "missing.yaml"))
