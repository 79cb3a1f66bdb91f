"""``import siamtrack`` registers with detectron2 whichever of the two is imported first, and
loads torch only when something needs it (each case in a fresh interpreter)."""

import subprocess
import sys

import pytest

from .conftest import REPO_ROOT

REGISTERED = (
    "from detectron2.data import DatasetCatalog\n"
    "from detectron2.modeling import BACKBONE_REGISTRY, META_ARCH_REGISTRY\n"
    "assert 'SiameseRPN' in META_ARCH_REGISTRY and 'NanoTrack' in META_ARCH_REGISTRY\n"
    "assert 'build_siam_resnet_backbone' in BACKBONE_REGISTRY\n"
    "assert len(DatasetCatalog.get('siamtrack_sample_train')) > 0\n"
)
TINY_CONFIG = "configs/siamrpn/quick_schedules/siamrpn_tiny_pysot_instant_test.yaml"


def _run(code: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_siamtrack_before_detectron2():
    _run(
        "import sys\n"
        "import siamtrack\n"
        "assert 'detectron2' not in sys.modules and 'torch' not in sys.modules\n"
        "from detectron2.modeling import build_model\n" + REGISTERED + "import detectron2\n"
        "assert type(detectron2.__loader__).__name__ != '_RegisterAfterLoading'\n"
        "assert not [f for f in sys.meta_path if type(f).__name__ == '_Detectron2ImportHook']\n"
    )


def test_detectron2_before_siamtrack():
    _run("import detectron2.modeling\nimport siamtrack\n" + REGISTERED)


def test_find_spec_before_the_import_keeps_the_hook():
    """Checking that detectron2 is installed (``find_spec``) loads nothing: the registration
    waits for the real import."""
    _run(
        "import importlib.util, sys, siamtrack\n"
        "assert importlib.util.find_spec('detectron2') is not None\n"
        "assert 'detectron2' not in sys.modules\n"
        "import detectron2.data\n" + REGISTERED
    )


def test_top_level_detectron2_import_registers():
    """``import detectron2`` alone (the package, no submodule) is enough."""
    _run(
        "import siamtrack, detectron2, sys\n"
        "assert 'siamtrack.modeling' in sys.modules and 'siamtrack.data' in sys.modules\n"
        + REGISTERED
    )


def test_siamtrack_submodule_first_registers():
    """Importing a siamtrack module that imports detectron2 registers everything too."""
    _run("import siamtrack.modeling\n" + REGISTERED)


def test_public_names_resolve_lazily_and_build_models():
    _run(
        "import sys, siamtrack\n"
        "assert 'SiamTracker' in dir(siamtrack) and 'load_config' in siamtrack.__all__\n"
        "assert 'siamtrack.tracking' not in sys.modules\n"
        "from siamtrack import SiamTracker, MultiTargetTracker, add_siamtrack_config\n"
        "assert SiamTracker.__module__ == 'siamtrack.tracking.tracker'\n"
        "assert siamtrack.load_config is sys.modules['siamtrack.config'].load_config\n"
        "from siamtrack import io  # submodules still import as usual\n"
        "try:\n"
        "    siamtrack.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
        f"cfg = siamtrack.load_config({TINY_CONFIG!r})\n"
        "from detectron2.modeling import build_model\n"
        "model = build_model(cfg)\n"
        "assert type(model).__name__ == 'SiameseRPN', type(model)\n"
    )


def test_registration_is_idempotent():
    """Importing siamtrack again (a reload of the package) registers nothing twice:
    detectron2's registries raise on a second registration of a name."""
    _run(
        "import importlib, detectron2, siamtrack\n"
        "importlib.reload(siamtrack)\n"
        "import siamtrack.data, siamtrack.modeling\n" + REGISTERED
    )


@pytest.mark.parametrize(
    "module",
    [
        "siamtrack.config",
        "siamtrack.checkpoint.formats",
        "siamtrack.export.deploy",
        "siamtrack.tracking.multi_target",
        "siamtrack.families.nanotrack.opencv_nano",
    ],
)
def test_the_families_register_whichever_module_comes_first(module):
    """The families import shared modules: the registration waits until the module that
    imported detectron2 (and those importing it) finished executing, so none is half done."""
    _run(
        f"import importlib, sys\nimportlib.import_module({module!r})\n"
        "assert 'siamtrack.families' in sys.modules\n"
        "from siamtrack.checkpoint import CHECKPOINT_FORMAT_REGISTRY\n"
        "from siamtrack.config import CONFIG_ADDERS\n"
        "from siamtrack.export import export_layouts\n"
        "from siamtrack.modeling import SIAM_HEAD_REGISTRY\n"
        "assert {'pysot', 'nanotrack'} <= set(CHECKPOINT_FORMAT_REGISTRY.names())\n"
        "adders = {f.__name__ for f in CONFIG_ADDERS}\n"
        "assert {'add_siamrpn_config', 'add_nanotrack_config'} <= adders\n"
        "assert 'opencv-nano' in export_layouts()\n"
        "assert 'NanoTrackV3Head' in SIAM_HEAD_REGISTRY\n" + REGISTERED
    )
