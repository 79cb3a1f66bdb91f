"""``siamtrack.model_zoo`` as ``detectron2.model_zoo``: ``get_config_file``, ``get_config``, ``get``.

Weights come from the shared NanoTrack folder (``$SIAMTRACK_WEIGHTS_DIR``); nothing downloads.
"""

import argparse
import subprocess
import sys

import pytest
import torch

import siamtrack.pretrained
from siamtrack import model_zoo
from siamtrack.checkpoint import build_model_with_weights
from siamtrack.config import config_from_args, load_config
from siamtrack.model_zoo import (
    ENV_CACHE_DIR,
    ENV_WEIGHTS_DIR,
    UnknownModelError,
    WeightsUnavailableError,
    configs_dir,
    entries,
    get_config_file,
    get_model,
    get_weights_name,
    list_models,
)

from ..conftest import CONFIGS_DIR

PYSOT = "siamrpn_r50_l234_dwxcorr"
V3_CONFIG = "nanotrack/nanotrack_v3.yaml"


@pytest.fixture(autouse=True)
def local_weights(monkeypatch, nanotrack_weights, tmp_path):
    """Zoo names resolve to the shared NanoTrack files; an empty temporary cache."""
    monkeypatch.setenv(ENV_WEIGHTS_DIR, str(nanotrack_weights))
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "cache"))


def _relative(name: str) -> str:
    return get_model(name).config_file[len("configs/") :]


# ------------------------------------------------------------------------------ get_config_file


def test_configs_dir_is_the_checkout_configs():
    """Built (pip install -e .): the package's link to configs/; not yet built: configs/."""
    assert configs_dir() in (entries.PACKAGE_CONFIGS_DIR, CONFIGS_DIR)
    assert configs_dir().resolve() == CONFIGS_DIR.resolve()
    if entries.PACKAGE_CONFIGS_DIR.exists():
        assert entries.PACKAGE_CONFIGS_DIR.is_symlink()


@pytest.mark.parametrize("name", list_models())
def test_zoo_name_and_config_path_give_the_same_file(name):
    path = get_config_file(name)
    assert path == get_config_file(_relative(name)) == get_config_file(f"configs/{_relative(name)}")
    assert path.startswith(str(configs_dir()))
    assert (CONFIGS_DIR / _relative(name)).samefile(path)


def test_every_shipped_file_is_reachable():
    shipped = sorted(p for p in CONFIGS_DIR.rglob("*") if p.is_file())
    assert len(shipped) >= 15
    for file in shipped:
        relative = file.relative_to(CONFIGS_DIR).as_posix()
        assert file.samefile(get_config_file(relative)), relative


@pytest.mark.parametrize(
    "name, error, text",
    [
        ("nanotrackv3", UnknownModelError, "did you mean 'nanotrack_v3'"),
        ("nanotrack/none.yaml", FileNotFoundError, "config 'nanotrack/none.yaml' not found"),
        ("../setup.py", ValueError, "relative to siamtrack's configs folder"),
        ("/etc/nanotrack.yaml", ValueError, "relative to siamtrack's configs folder"),
    ],
)
def test_bad_names_are_named(name, error, text):
    with pytest.raises(error, match=text):
        get_config_file(name)


def test_weights_name_of_names_and_configs():
    assert get_weights_name("nanotrack_v2") == "nanotrack_v2"
    assert get_weights_name("nanotrack/nanotrack_v2.yaml") == "nanotrack_v2"
    assert get_weights_name("siamrpn/siamrpn_R_50_l234_dwxcorr_otb.yaml") == f"{PYSOT}_otb"
    with pytest.raises(ValueError, match="trained=False"):
        get_weights_name("nanotrack/Base-NanoTrack.yaml")


# ----------------------------------------------------------------------------------- get_config


def test_get_config_merges_base_and_sets_the_zoo_weights():
    cfg = model_zoo.get_config("nanotrack_v3")
    assert cfg.MODEL.WEIGHTS == "nanotrack_v3"
    assert cfg.MODEL.META_ARCHITECTURE == "NanoTrack"  # from Base-NanoTrack.yaml
    assert cfg.MODEL.SIAMESE.HEAD_NAME == "NanoTrackV3Head"  # from nanotrack_v3.yaml
    assert not cfg.is_frozen()
    expected = load_config(str(CONFIGS_DIR / V3_CONFIG), ["MODEL.WEIGHTS", "nanotrack_v3"])
    assert cfg == expected


def test_get_config_by_path_and_untrained():
    assert model_zoo.get_config(V3_CONFIG) == model_zoo.get_config("nanotrack_v3")
    assert model_zoo.get_config("nanotrack_v3", trained=False).MODEL.WEIGHTS == ""
    base = model_zoo.get_config("nanotrack/Base-NanoTrack.yaml", trained=False)
    assert base.MODEL.META_ARCHITECTURE == "NanoTrack" and base.MODEL.WEIGHTS == ""
    with pytest.raises(ValueError, match="no trained weights"):
        model_zoo.get_config("nanotrack/Base-NanoTrack.yaml")


def test_tools_use_the_packaged_config():
    """``--weights nanotrack_v3`` without ``--config-file`` (every tool) reads the same file."""
    args = argparse.Namespace(config_file=None, weights="nanotrack_v3", opts=[])
    assert config_from_args(args) == model_zoo.get_config("nanotrack_v3")


# ------------------------------------------------------------------------------------------ get


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_get_builds_the_model_with_the_zoo_weights(nanotrack_weights):
    model = model_zoo.get("nanotrack_v3", device="cpu")
    assert not model.training and model.device == torch.device("cpu")
    cfg = load_config(
        str(CONFIGS_DIR / V3_CONFIG), ["MODEL.WEIGHTS", str(nanotrack_weights / "nanotrackv3.pth")]
    )
    expected = _state(build_model_with_weights(cfg, "cpu"))
    loaded = _state(model)
    assert loaded.keys() == expected.keys()
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)

    torch.manual_seed(0)
    untrained = _state(model_zoo.get(V3_CONFIG, trained=False, device="cpu"))
    assert any(not torch.equal(untrained[k], expected[k]) for k in expected)


def test_get_without_local_weights_names_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_WEIGHTS_DIR, str(tmp_path))
    with pytest.raises(WeightsUnavailableError, match=f"{PYSOT}/model.pth"):
        model_zoo.get(PYSOT, device="cpu")


# ------------------------------------------------------------------------ forwarding (PEP 562)


def test_get_and_get_config_are_forwarded_from_the_top_layer():
    from siamtrack.model_zoo import get, get_config

    assert get is siamtrack.pretrained.get and get_config is siamtrack.pretrained.get_config
    assert {"get", "get_config"} <= set(dir(model_zoo))
    assert not {"get", "get_config"} & set(model_zoo.__all__)  # star imports stay torch-free
    with pytest.raises(AttributeError, match="no attribute 'get_weights'"):
        model_zoo.get_weights


def test_without_torch_config_files_work_and_get_says_what_it_needs():
    code = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'torchvision', 'detectron2', 'fvcore'):\n"
        "            raise ImportError(f'blocked for the test: {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import siamtrack.model_zoo as zoo\n"
        "print(zoo.get_config_file('nanotrack_v3'))\n"
        "try:\n"
        "    zoo.get_config\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    path, message = result.stdout.splitlines()
    assert path == get_config_file("nanotrack_v3")
    assert message.startswith("siamtrack.model_zoo.get_config needs torch and detectron2")
