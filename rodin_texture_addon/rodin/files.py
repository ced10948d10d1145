"""Safe local files from untrusted remote data: file names and streamed bodies."""

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import Cancelled, DownloadError

ProgressCallback = Callable[[int, int | None], None]

_UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def safe_file_name(name: str, fallback: str = "file") -> str:
    """A plain base name for a server-supplied name: no folders, no ``..``, no odd characters.

    ``"Pbr/base.obj"`` gives ``"base.obj"``; ``"../../x"`` gives ``"x"``; ``".."`` the fallback.
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE_CHARACTERS.sub("_", base).strip().strip(".")
    if not base or _WINDOWS_RESERVED.match(base):
        return fallback
    return base[:200]


def write_stream(
    chunks: Iterable[bytes],
    destination: Path,
    *,
    total: int | None,
    max_bytes: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Write chunks to ``destination`` through a temporary file renamed only when complete.

    Memory stays constant (one chunk at a time). Raises ``DownloadError`` when the body is
    larger than ``max_bytes`` or shorter than ``total``, ``Cancelled`` when ``cancel`` is set;
    in every failure the temporary file is removed and ``destination`` is left as it was.
    """
    if total is not None and total > max_bytes:
        raise DownloadError(f"{destination.name} is {total} bytes, over the {max_bytes}-byte limit")
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".part-", dir=destination.parent)
    written = 0
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"download of {destination.name} cancelled")
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadError(f"{destination.name} is over the {max_bytes}-byte limit")
                file.write(chunk)
                if progress is not None:
                    progress(written, total)
        if total is not None and written != total:
            raise DownloadError(f"{destination.name} was cut short: {written} of {total} bytes")
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
