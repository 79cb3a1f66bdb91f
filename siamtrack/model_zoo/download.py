"""Verified downloads: stream a URL into a file, check its sha256, move it into place atomically.

Standard library (``urllib``) plus ``tqdm`` for the progress bar; no torch, no detectron2.
The body is streamed into a temporary file next to the destination
(:func:`siamtrack.io.files.atomic_output`) and hashed on the fly; only a complete file
with the expected sha256 is renamed into place. Any failure (HTTP error, refused connection,
timeout, truncated body, wrong bytes, Ctrl-C) removes the temporary file and leaves the
destination untouched.
"""

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional, Union

from tqdm import tqdm

from ..io.files import atomic_output

__all__ = [
    "WeightsUnavailableError",
    "WeightsChecksumError",
    "sha256_of_file",
    "verify_sha256",
    "download_file",
]

_CHUNK_BYTES = 1 << 20
_USER_AGENT = "siamtrack-model-zoo (python urllib)"


class WeightsUnavailableError(OSError):
    """The weights of a model could not be found locally nor downloaded.

    The message names the model, the URL or file concerned, and what to do about it.
    """


class WeightsChecksumError(WeightsUnavailableError):
    """A file (local, cached or just downloaded) does not have the expected sha256.

    Attributes:
        path: the file checked (for a failed download: where it would have been saved).
        expected_sha256: digest from the model-zoo entry (lowercase hex).
        actual_sha256: digest of the bytes found (lowercase hex).
    """

    def __init__(self, message: str, *, path: str, expected_sha256: str, actual_sha256: str):
        super().__init__(message)
        self.path = path
        self.expected_sha256 = expected_sha256
        self.actual_sha256 = actual_sha256


def sha256_of_file(path: Union[str, os.PathLike]) -> str:
    """Lowercase hex sha256 of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Union[str, os.PathLike], expected_sha256: str, *, advice: str) -> None:
    """Raise unless the file at ``path`` has sha256 ``expected_sha256``.

    Args:
        path: file to check.
        expected_sha256: lowercase hex digest.
        advice: what the user should do about a mismatch (appended to the message).

    Raises:
        WeightsChecksumError: naming the file, its size, the expected and the actual digest.
    """
    actual = sha256_of_file(path)
    if actual != expected_sha256:
        raise WeightsChecksumError(
            f"{path} ({os.path.getsize(path)} bytes) has sha256 {actual}, expected "
            f"{expected_sha256}: {advice}",
            path=str(path),
            expected_sha256=expected_sha256,
            actual_sha256=actual,
        )


def download_file(
    url: str,
    path: Union[str, os.PathLike],
    *,
    sha256: str,
    size_bytes: Optional[int] = None,
    progress: bool = True,
    timeout_s: float = 60.0,
    label: str = "",
    advice: str = "",
) -> Path:
    """Download ``url`` to ``path``, keeping it only if it is complete and has ``sha256``.

    The parent folder is created if needed; an existing ``path`` is replaced (atomically) by
    a verified download and left as it was by a failed one. The final file's permissions
    follow the umask (``0o666 & ~umask``), like a file created with ``open()``.

    Args:
        url: http(s) address of the file.
        path: destination file.
        sha256: expected lowercase hex digest of the whole body.
        size_bytes: expected size in bytes, or None; checked against the announced
            Content-Length before anything is written.
        progress: show a tqdm bar on stderr (total = Content-Length, in bytes).
        timeout_s: socket timeout in seconds, for connecting and for each read.
        label: what is downloaded, prefixed to error messages (e.g. ``"model 'nanotrack_v3'"``).
        advice: what to do when the download fails, appended to error messages.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        WeightsChecksumError: the body's sha256 differs from ``sha256``.
        WeightsUnavailableError: HTTP error, connection failure, timeout, truncated body or a
            size different from ``size_bytes``.
    """
    path = Path(path)
    prefix = f"{label}: " if label else ""
    suffix = f"; {advice}" if advice else ""

    def failure(problem: str) -> WeightsUnavailableError:
        return WeightsUnavailableError(
            f"{prefix}download of {url} failed: {problem}; nothing was saved{suffix}"
        )

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    received_bytes = 0
    try:
        with atomic_output(path, suffix=".download") as temp_path:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                total_bytes = _content_length(response)
                if None not in (size_bytes, total_bytes) and total_bytes != size_bytes:
                    raise failure(
                        f"the server announces {total_bytes} bytes, expected {size_bytes}"
                    )
                digest = hashlib.sha256()
                with open(temp_path, "wb") as file, tqdm(
                    total=total_bytes,
                    desc=path.name,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    disable=not progress,
                ) as bar:
                    for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                        file.write(chunk)
                        digest.update(chunk)
                        received_bytes += len(chunk)
                        bar.update(len(chunk))
            if total_bytes is not None and received_bytes != total_bytes:
                raise failure(
                    f"the connection closed after {received_bytes} of {total_bytes} bytes"
                )
            actual = digest.hexdigest()
            if actual != sha256:
                raise WeightsChecksumError(
                    f"{prefix}the {received_bytes} bytes downloaded from {url} have sha256 "
                    f"{actual}, expected {sha256}; nothing was saved{suffix}",
                    path=str(path),
                    expected_sha256=sha256,
                    actual_sha256=actual,
                )
    except WeightsUnavailableError:
        raise
    except urllib.error.HTTPError as exc:
        exc.close()
        raise failure(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise failure(_describe(exc.reason, timeout_s)) from exc
    except (OSError, http.client.HTTPException) as exc:
        problem = _describe(exc, timeout_s)
        if received_bytes:
            problem += f" after {received_bytes} bytes"
        raise failure(problem) from exc
    return path


def _content_length(response: http.client.HTTPResponse) -> Optional[int]:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _describe(reason: object, timeout_s: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout_s:g} s (timeout)"
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    return str(reason)
