"""dev/setup_env.sh stops before creating .venv when a prerequisite is missing."""

import io
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from .conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "dev" / "setup_env.sh"


def _run_setup(tmp_path, python):
    venv = tmp_path / "venv"
    env = dict(os.environ, VENV=str(venv), PYTHON=str(python))
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60
    )
    return result, venv


def test_missing_python_is_named_and_no_venv_is_left(tmp_path):
    result, venv = _run_setup(tmp_path, tmp_path / "no-such-python")
    assert result.returncode != 0
    assert "no-such-python' not found" in result.stderr and "3.10" in result.stderr
    assert not venv.exists()


def test_old_python_is_refused(tmp_path):
    fake = tmp_path / "python3.8"
    fake.write_text('#!/bin/sh\n[ "$1" = "-V" ] && echo "Python 3.8.18"\nexit 1\n')
    fake.chmod(0o755)
    result, venv = _run_setup(tmp_path, fake)
    assert result.returncode != 0
    assert "Python 3.8.18" in result.stderr and "needs Python 3.10 or newer" in result.stderr
    assert not venv.exists()


def test_python_without_pip_is_named(tmp_path):
    fake = tmp_path / "python3"
    # passes the version check (exit 0), fails "-m pip --version"
    fake.write_text('#!/bin/sh\n[ "$1" = "-m" ] && exit 1\nexit 0\n')
    fake.chmod(0o755)
    result, venv = _run_setup(tmp_path, fake)
    assert result.returncode != 0
    assert "has no pip" in result.stderr
    assert not venv.exists()


# --- D2_SOURCE (official detectron2 from a local folder or archive, `make test-official`) -------
# Each case must fail in the checks before the venv is created (a passing one would install torch).


def _run_setup_d2(tmp_path, d2_source, **env_extra):
    venv = tmp_path / "venv"
    env = dict(os.environ, VENV=str(venv), PYTHON=sys.executable, D2_SOURCE=str(d2_source))
    env.update(env_extra)
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60
    )
    return result, venv


def test_missing_d2_source_is_named_before_any_venv(tmp_path):
    result, venv = _run_setup_d2(tmp_path, tmp_path / "no-such-detectron2")
    assert result.returncode != 0
    assert "no-such-detectron2' does not exist" in result.stderr
    assert not venv.exists()


def test_d2_source_contradicting_fallback_is_refused(tmp_path):
    result, venv = _run_setup_d2(tmp_path, tmp_path, SIAMTRACK_D2="fallback")
    assert result.returncode != 0
    assert "SIAMTRACK_D2=fallback" in result.stderr
    assert not venv.exists()


def test_folder_without_detectron2_sources_is_refused(tmp_path):
    (tmp_path / "src").mkdir()
    result, venv = _run_setup_d2(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "is not a detectron2 source tree" in result.stderr
    assert not venv.exists()


def _tarball(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_vendored_archive_with_wrong_sha256_is_refused(tmp_path):
    # the vendored file name with other content: its known sha256 does not match
    fake = _tarball(tmp_path / "detectron2-02b5c4e.tar.gz", {"detectron2/setup.py": ""})
    result, venv = _run_setup_d2(tmp_path, fake)
    assert result.returncode != 0
    known = "242b9d82c5479746ea3e4bbec5c0f4bea881ded85df269ad87e3f7de516a4c56"  # ../shared/vendor
    assert f"expected {known}" in result.stderr
    assert not venv.exists()


def test_archive_checked_against_given_sha256_and_contents(tmp_path):
    archive = _tarball(tmp_path / "my-d2.tar.gz", {"my-d2/README.md": "not detectron2"})
    result, venv = _run_setup_d2(tmp_path, archive, D2_SOURCE_SHA256="0" * 64)
    assert result.returncode != 0 and "expected " + "0" * 64 in result.stderr
    result, venv = _run_setup_d2(tmp_path, archive)  # unknown archive: sha256 printed, tree checked
    assert result.returncode != 0
    assert "sha256" in result.stdout and "is not a detectron2 source tree" in result.stderr
    assert not venv.exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_official_without_a_source_says_so(tmp_path):
    venv = tmp_path / "venv-official"
    result = subprocess.run(
        ["make", "-C", str(REPO_ROOT), "test-official", "D2_SOURCE=", f"OFFICIAL_VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "pass D2_SOURCE=/path/to/detectron2" in result.stderr
    assert not venv.exists()
