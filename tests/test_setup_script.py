"""dev/setup_env.sh stops before creating .venv when a prerequisite is missing."""

import os
import subprocess

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
