"""tools/convert_pysot_weights.py IN OUT."""

import importlib.util

import torch

from siamtrack.checkpoint import SiamCheckpointer
from siamtrack.families.siamrpn import siamtrack_to_pysot_state_dict

from ..conftest import REPO_ROOT
from ..modeling.helpers import TINY_PYSOT, TINY_STANDARD, build


def _tool():
    path = REPO_ROOT / "tools" / "convert_pysot_weights.py"
    spec = importlib.util.spec_from_file_location("convert_pysot_weights", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_convert_checks_and_never_overwrites(tmp_path, capsys):
    source = build(TINY_PYSOT, "MODEL.BACKBONE.FREEZE_AT", 0, seed=3)
    pysot_file, out = tmp_path / "model.pth", tmp_path / "converted.pth"
    torch.save({"state_dict": siamtrack_to_pysot_state_dict(source.state_dict())}, pysot_file)
    tool = _tool()
    assert tool.main([str(pysot_file), str(out), "--config-file", str(TINY_PYSOT)]) == 0
    assert "pysot format" in capsys.readouterr().out
    target = build(TINY_PYSOT, seed=4)
    SiamCheckpointer(target).load(str(out))
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in target.state_dict().items())

    before = out.read_bytes()
    assert tool.main([str(pysot_file), str(out), "--config-file", ""]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == before
    # weights that do not fit the config: nothing is written
    bad_out = tmp_path / "bad.pth"
    config = TINY_STANDARD
    assert tool.main([str(pysot_file), str(bad_out), "--config-file", str(config)]) == 2
    assert "does not fit" in capsys.readouterr().err and not bad_out.exists()
    assert not list(tmp_path.glob("*.tmp"))
