"""Foundation: the package registers its components, every config loads, the _C placeholder."""

import importlib.util

import pytest
from detectron2.config import get_cfg

import siamtrack
from siamtrack import add_siamtrack_config
from siamtrack.collect_env import collect_env_info

from .conftest import CONFIGS_DIR, REPO_ROOT

CONFIG_FILES = sorted(CONFIGS_DIR.rglob("*.yaml"))


def test_version_and_api():
    assert isinstance(siamtrack.__version__, str) and siamtrack.__version__
    assert callable(siamtrack.add_siamtrack_config)


def test_add_config_is_idempotent():
    cfg = add_siamtrack_config(get_cfg())
    cfg.MODEL.SIAMESE.SEARCH_SIZE = 300
    add_siamtrack_config(cfg)
    assert cfg.MODEL.SIAMESE.SEARCH_SIZE == 300


def test_collect_env_reports_flavour():
    info = collect_env_info()
    assert info["detectron2 flavour"].startswith(("official", "fallback"))
    assert info["siamtrack"] == siamtrack.__version__


@pytest.mark.parametrize("config_file", CONFIG_FILES, ids=lambda p: str(p.relative_to(CONFIGS_DIR)))
def test_config_loads(config_file):
    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_file(str(config_file))
    cfg.freeze()
    assert cfg.MODEL.META_ARCHITECTURE


def _load_placeholder():
    path = REPO_ROOT / "dev" / "detectron2_placeholder_C.py"
    spec = importlib.util.spec_from_file_location("placeholder_C_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_placeholder_c_raises_clear_error():
    placeholder = _load_placeholder()
    with pytest.raises(AttributeError) as excinfo:
        placeholder.nms_rotated
    message = str(excinfo.value)
    assert "nms_rotated" in message and "pip install" in message and "detectron2" in message
    assert not hasattr(placeholder, "deform_conv_forward")
    assert placeholder.__siamtrack_placeholder__ is True


def test_installed_c_module_matches_flavour():
    compiled = importlib.import_module("detectron2._C")
    if getattr(compiled, "__siamtrack_placeholder__", False):
        with pytest.raises(AttributeError, match="ROIAlignRotated_forward"):
            compiled.ROIAlignRotated_forward
    else:  # official build: a real extension module
        assert compiled.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize("config_file", CONFIG_FILES, ids=lambda p: str(p.relative_to(CONFIGS_DIR)))
def test_config_datasets_are_registered(config_file):
    from detectron2.data import DatasetCatalog

    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_file(str(config_file))
    missing = [
        n for n in (*cfg.DATASETS.TRAIN, *cfg.DATASETS.TEST) if n not in DatasetCatalog.list()
    ]
    assert not missing, f"{config_file.name} names unregistered datasets {missing}"
    for per_source in (cfg.DATASETS.TRAIN_WEIGHTS, cfg.DATASETS.TRAIN_FRAME_RANGE):
        assert len(per_source) in (0, 1, len(cfg.DATASETS.TRAIN))
