"""Model zoo: entries, lookup order (local folder, cache, download), verified downloads, CLI.

Downloads come from an ``http.server`` on 127.0.0.1 (port 0, in a thread) serving a temporary
copy of the shared NanoTrack weights; the zoo's URLs are pointed at it, so the real download
code runs without internet.
"""

import dataclasses
import http.server
import logging
import os
import runpy
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from siamtrack.model_zoo import (
    ENV_CACHE_DIR,
    ENV_WEIGHTS_DIR,
    ModelEntry,
    UnknownModelError,
    WeightsChecksumError,
    WeightsUnavailableError,
    entries,
    find_weights,
    get_config_file,
    get_model,
    list_models,
    resolve_weights,
    sha256_of_file,
)
from siamtrack.model_zoo.__main__ import main

PYSOT = "siamrpn_r50_l234_dwxcorr"
PYSOT_PAGE = "https://github.com/STVIR/pysot/blob/master/MODEL_ZOO.md"
TIMEOUT_S = 0.5


class WeightsServer:
    """Serves the files of ``root`` over HTTP; ``mode`` selects how a GET misbehaves."""

    def __init__(self, root: Path):
        self.root = root
        self.mode = "ok"  # ok | truncate | wrong_bytes | not_found | stall
        self.requests: List[str] = []
        self.release = threading.Event()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, file_name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{file_name}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                file = server.root / self.path.lstrip("/")
                if server.mode == "not_found" or not file.is_file():
                    self.send_error(404)
                    return
                body = file.read_bytes()
                if server.mode == "wrong_bytes":
                    body = bytes([body[0] ^ 0xFF]) + body[1:]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.mode == "truncate":
                    self.wfile.write(body[: len(body) // 2])  # HTTP/1.0: then the socket closes
                elif server.mode == "stall":
                    self.wfile.write(body[:1000])
                    self.wfile.flush()
                    server.release.wait(5.0)
                else:
                    self.wfile.write(body)

            def log_message(self, *args):  # keep the test output quiet
                pass

        return Handler


@pytest.fixture(scope="module")
def weights_copy(nanotrack_weights, tmp_path_factory) -> Path:
    """Temporary copy of the released NanoTrack ``.pth`` files (the served folder)."""
    folder = tmp_path_factory.mktemp("served")
    for file in nanotrack_weights.glob("*.pth"):
        shutil.copyfile(file, folder / file.name)
    return folder


@pytest.fixture(scope="module")
def module_server(weights_copy) -> Iterator[WeightsServer]:
    server = WeightsServer(weights_copy)
    yield server
    server.close()


@pytest.fixture
def server(module_server) -> WeightsServer:
    """The local server with a clean request log, in ``ok`` mode."""
    module_server.mode = "ok"
    module_server.requests.clear()
    return module_server


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No zoo folders from the environment, a temporary XDG cache, no proxies."""
    for name in (ENV_WEIGHTS_DIR, ENV_CACHE_DIR):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def _point_zoo_at(monkeypatch, url_of) -> Dict[str, ModelEntry]:
    table = {
        name: dataclasses.replace(entry, url=url_of(entry.file_name)) if entry.url else entry
        for name, entry in entries._MODELS.items()
    }
    monkeypatch.setattr(entries, "_MODELS", table)
    return table


@pytest.fixture
def served_zoo(monkeypatch, server) -> Dict[str, ModelEntry]:
    """The zoo with every downloadable entry's URL on the local server."""
    return _point_zoo_at(monkeypatch, server.url)


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return tmp_path / "cache"


def _files_in(folder: Path) -> List[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# ------------------------------------------------------------------------------------ entries


def test_entries_match_the_released_files(nanotrack_weights):
    names = list_models()
    assert names[:3] == ["nanotrack_v1", "nanotrack_v2", "nanotrack_v3"]
    assert {PYSOT, f"{PYSOT}_otb"} <= set(names)
    for version in (1, 2, 3):
        entry = get_model(f"nanotrack_v{version}")
        assert entry.file_name == f"nanotrackv{version}.pth"
        assert entry.config_file == f"configs/nanotrack/nanotrack_v{version}.yaml"
        assert entry.url == (
            "https://raw.githubusercontent.com/HonglinChu/SiamTrackers/"
            "248663fde6bf7c40190cf10ee396d5662919ecd3/NanoTrack/models/pretrained/"
            f"nanotrackv{version}.pth"
        )
        released = nanotrack_weights / entry.file_name
        assert entry.size_bytes == released.stat().st_size
        assert entry.sha256 == sha256_of_file(released)
        assert entry.license == "Apache-2.0"
    downloadable = [get_model(n).file_name for n in names if get_model(n).downloadable]
    assert len(set(downloadable)) == len(downloadable), "cache file names must be unique"


def test_pysot_entries_are_fetched_by_hand():
    for name in (PYSOT, f"{PYSOT}_otb"):
        entry = get_model(name)
        assert entry.url is None and entry.sha256 is None and not entry.downloadable
        assert entry.source_page == PYSOT_PAGE
        assert f"{name}/model.pth" in entry.local_names
        config = Path(get_config_file(name))
        assert config.is_absolute() and config.is_file()
    assert get_config_file(PYSOT).endswith("configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml")


def test_every_config_file_exists():
    for name in list_models():
        config = Path(get_config_file(name))
        assert config.is_absolute() and config.is_file()
        assert config.as_posix().endswith(get_model(name).config_file)


def test_entry_is_frozen_and_validated():
    entry = get_model("nanotrack_v3")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.url = "http://example.invalid/x.pth"
    with pytest.raises(ValueError, match="needs a sha256"):
        dataclasses.replace(entry, sha256=None)
    with pytest.raises(ValueError, match="http"):
        dataclasses.replace(entry, url="ftp://example.invalid/x.pth")


def test_unknown_name_lists_known_names():
    with pytest.raises(UnknownModelError) as excinfo:
        get_model("nanotrackv3")
    message = str(excinfo.value)
    assert "did you mean 'nanotrack_v3'" in message
    assert all(name in message for name in list_models())
    assert isinstance(excinfo.value, KeyError) and isinstance(excinfo.value, ValueError)
    with pytest.raises(UnknownModelError, match="known names: nanotrack_v1"):
        resolve_weights("no_such_model")


def test_missing_config_file_is_named(monkeypatch):
    entry = dataclasses.replace(get_model(PYSOT), config_file="configs/missing/none.yaml")
    monkeypatch.setitem(entries._MODELS, PYSOT, entry)
    with pytest.raises(FileNotFoundError, match="configs/missing/none.yaml"):
        get_config_file(PYSOT)


# ------------------------------------------------------------------------------ paths as input


def test_existing_path_is_returned_unchanged(tmp_path, monkeypatch):
    weights = tmp_path / "my_model.pth"
    weights.write_bytes(b"weights")
    assert resolve_weights(str(weights)) == str(weights)
    assert resolve_weights(weights) == str(weights)
    monkeypatch.chdir(tmp_path)
    assert resolve_weights("my_model.pth") == "my_model.pth"


@pytest.mark.parametrize(
    "value, error, text",
    [
        ("missing/model.pth", FileNotFoundError, "does not exist"),
        ("model_final.pth", FileNotFoundError, "nor is it a model-zoo name"),
        ("https://example.invalid/model.pth", ValueError, "URLs are not accepted"),
        ("", ValueError, "empty"),
    ],
)
def test_bad_path_or_url(tmp_path, monkeypatch, value, error, text):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=text):
        resolve_weights(value)


# -------------------------------------------------------------------------- download and cache


def test_download_is_verified_cached_and_reused(served_zoo, server, cache_dir, capsys):
    previous_umask = os.umask(0o027)
    try:
        path = resolve_weights("nanotrack_v1", cache_dir=cache_dir, progress=True)
    finally:
        os.umask(previous_umask)
    assert path == str(cache_dir / "nanotrackv1.pth")
    assert sha256_of_file(path) == served_zoo["nanotrack_v1"].sha256
    assert os.stat(path).st_mode & 0o777 == 0o640  # 0o666 & ~umask, not mkstemp's 0o600
    assert _files_in(cache_dir) == ["nanotrackv1.pth"]
    assert server.requests == ["/nanotrackv1.pth"]
    assert "nanotrackv1.pth" in capsys.readouterr().err  # the tqdm bar

    assert resolve_weights("nanotrack_v1", cache_dir=cache_dir) == path
    assert find_weights("nanotrack_v1", cache_dir=cache_dir) == (path, "cache")
    assert len(server.requests) == 1, "the second resolve must use the cache"


def test_default_cache_follows_environment(served_zoo, server, tmp_path, monkeypatch):
    xdg_path = resolve_weights("nanotrack_v2", progress=False)
    assert xdg_path == str(tmp_path / "xdg" / "siamtrack" / "weights" / "nanotrackv2.pth")
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "env_cache"))
    env_path = resolve_weights("nanotrack_v2", progress=False)
    assert env_path == str(tmp_path / "env_cache" / "nanotrackv2.pth")
    assert len(server.requests) == 2


def test_corrupted_cache_file_is_downloaded_again(served_zoo, server, cache_dir, caplog):
    cache_dir.mkdir()
    (cache_dir / "nanotrackv1.pth").write_bytes(b"not the weights")
    with caplog.at_level(logging.WARNING, logger="siamtrack.model_zoo"):
        path = resolve_weights("nanotrack_v1", cache_dir=cache_dir, progress=False)
    assert "corrupted" in caplog.text and "nanotrackv1.pth" in caplog.text
    assert sha256_of_file(path) == served_zoo["nanotrack_v1"].sha256
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "mode, error, text",
    [
        ("truncate", WeightsUnavailableError, "connection closed after"),
        ("wrong_bytes", WeightsChecksumError, "have sha256"),
        ("not_found", WeightsUnavailableError, "HTTP 404"),
        ("stall", WeightsUnavailableError, "timeout"),
    ],
)
def test_failed_download_leaves_nothing(served_zoo, server, cache_dir, mode, error, text):
    server.mode = mode
    with pytest.raises(error) as excinfo:
        resolve_weights("nanotrack_v1", cache_dir=cache_dir, progress=False, timeout_s=TIMEOUT_S)
    message = str(excinfo.value)
    assert text in message
    assert "model 'nanotrack_v1'" in message and server.url("nanotrackv1.pth") in message
    assert "by hand" in message and "as nanotrackv1.pth" in message
    assert _files_in(cache_dir) == []
    assert len(server.requests) == 1


def test_checksum_error_carries_digests(served_zoo, server, cache_dir):
    server.mode = "wrong_bytes"
    with pytest.raises(WeightsChecksumError) as excinfo:
        resolve_weights("nanotrack_v3", cache_dir=cache_dir, progress=False)
    assert excinfo.value.expected_sha256 == served_zoo["nanotrack_v3"].sha256
    assert excinfo.value.actual_sha256 in str(excinfo.value)
    assert excinfo.value.expected_sha256 != excinfo.value.actual_sha256


def test_connection_refused(monkeypatch, cache_dir):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _point_zoo_at(monkeypatch, lambda file_name: f"http://127.0.0.1:{port}/{file_name}")
    with pytest.raises(WeightsUnavailableError, match="ConnectionRefusedError") as excinfo:
        resolve_weights("nanotrack_v2", cache_dir=cache_dir, progress=False, timeout_s=TIMEOUT_S)
    assert f"127.0.0.1:{port}/nanotrackv2.pth" in str(excinfo.value)
    assert ENV_WEIGHTS_DIR in str(excinfo.value)
    assert _files_in(cache_dir) == []


# --------------------------------------------------------------------------- local weights folder


@pytest.mark.parametrize("given_by", ["argument", "environment"])
def test_local_folder_is_used_without_request(
    served_zoo, server, weights_copy, cache_dir, monkeypatch, given_by
):
    local = weights_copy  # holds nanotrackv1.pth etc. under their upstream names
    if given_by == "environment":
        monkeypatch.setenv(ENV_WEIGHTS_DIR, str(local))
        path = resolve_weights("nanotrack_v3", cache_dir=cache_dir)
    else:
        path = resolve_weights("nanotrack_v3", weights_dir=local, cache_dir=cache_dir)
    assert path == str(local / "nanotrackv3.pth")
    assert server.requests == [] and not cache_dir.exists()


def test_tampered_local_file_is_an_error(served_zoo, server, weights_copy, tmp_path, cache_dir):
    local = tmp_path / "local"
    local.mkdir()
    tampered = local / "nanotrackv2.pth"
    data = bytearray((weights_copy / "nanotrackv2.pth").read_bytes())
    data[100] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError) as excinfo:
        resolve_weights("nanotrack_v2", weights_dir=local, cache_dir=cache_dir)
    message = str(excinfo.value)
    assert str(tampered) in message
    assert served_zoo["nanotrack_v2"].sha256 in message
    assert sha256_of_file(tampered) in message
    assert server.requests == [] and not cache_dir.exists(), "must not fall back to the network"


@pytest.mark.parametrize(
    "relative", [f"{PYSOT}/model.pth", f"experiments/{PYSOT}/model.pth", f"{PYSOT}.pth"]
)
def test_pysot_local_layouts(tmp_path, relative):
    weights = tmp_path / relative
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(b"pysot weights (no published checksum)")
    assert resolve_weights(PYSOT, weights_dir=tmp_path) == str(weights)
    assert find_weights(PYSOT, weights_dir=tmp_path) == (str(weights), "local")


def test_pysot_without_local_file_names_the_page(tmp_path):
    with pytest.raises(WeightsUnavailableError) as excinfo:
        resolve_weights(PYSOT, weights_dir=tmp_path)
    message = str(excinfo.value)
    assert PYSOT_PAGE in message and f"{PYSOT}/model.pth" in message and str(tmp_path) in message
    with pytest.raises(WeightsUnavailableError, match=ENV_WEIGHTS_DIR):
        resolve_weights(PYSOT)


def test_missing_local_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_WEIGHTS_DIR, str(tmp_path / "typo"))
    with pytest.raises(WeightsUnavailableError, match=f"typo.*{ENV_WEIGHTS_DIR}"):
        resolve_weights("nanotrack_v1")


# ------------------------------------------------------------------------------------------ CLI


def test_cli_download_and_list(served_zoo, server, cache_dir, capsys):
    assert main(["download", "nanotrack_v1", "--no-progress", "--cache-dir", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    assert out == f"{cache_dir / 'nanotrackv1.pth'}\n"

    assert main(["list", "--cache-dir", str(cache_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "config", "weights", "source"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(list_models())
    assert f"cache: {cache_dir / 'nanotrackv1.pth'}" in rows["nanotrack_v1"]
    assert "not downloaded" in rows["nanotrack_v2"]
    assert f"by hand: {PYSOT_PAGE}" in rows[PYSOT]


@pytest.mark.parametrize("name, text", [("bogus", "known names"), (PYSOT, PYSOT_PAGE)])
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, name, text):
    assert main(["download", name, "--cache-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert text in captured.err


def test_cli_runs_as_module(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["siamtrack.model_zoo", "list"])
    monkeypatch.delitem(sys.modules, "siamtrack.model_zoo.__main__")  # imported above
    with pytest.raises(SystemExit) as excinfo:
        runpy.run_module("siamtrack.model_zoo", run_name="__main__", alter_sys=True)
    assert excinfo.value.code == 0
    assert "nanotrack_v3" in capsys.readouterr().out


def test_import_needs_neither_torch_nor_detectron2():
    package_dir = Path(entries.__file__).resolve().parents[1]
    # a bare parent package: `import siamtrack` itself imports torch (models, tracker)
    code = (
        "import sys, types\n"
        "parent = types.ModuleType('siamtrack')\n"
        f"parent.__path__ = [{str(package_dir)!r}]\n"
        "sys.modules['siamtrack'] = parent\n"
        "import siamtrack.model_zoo, siamtrack.model_zoo.__main__\n"
        "print(sorted({'torch', 'detectron2'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
