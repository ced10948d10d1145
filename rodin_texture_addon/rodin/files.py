"""Safe local files from untrusted remote data: file names, streamed bodies, the folders they
go to."""

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import Cancelled, DownloadError

ProgressCallback = Callable[[int, int | None], None]

MAX_NAME_LENGTH = 200
_UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
# What counts as an extension, kept when a name is cut or numbered (a short last suffix).
_EXTENSION = re.compile(r"(?<=.)\.[^.\s]{1,16}$")


def safe_file_name(name: str, fallback: str = "file") -> str:
    """A plain base name for a server-supplied name: no folders, no ``..``, no odd characters.

    ``"Pbr/base.obj"`` gives ``"base.obj"``; ``"../../x"`` gives ``"x"``; ``".."`` the fallback.
    Long names are cut to ``MAX_NAME_LENGTH`` with their extension kept.
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE_CHARACTERS.sub("_", base).strip().strip(".")
    if not base or _WINDOWS_RESERVED.match(base):
        return fallback
    return _fitted(*_split_extension(base))


def unique_file_names(names: Iterable[str]) -> list[str]:
    """The names, numbered ``name (2).ext`` where one repeats, so that files of one listing
    never overwrite each other (compared without case, as Windows and macOS do)."""
    taken, unique = set(), []
    for name in names:
        stem, extension = _split_extension(name)
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = _fitted(stem, extension, f" ({number})")
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    return (name[: match.start()], match.group()) if match else (name, "")


def _fitted(stem: str, extension: str, tag: str = "") -> str:
    """``stem + tag + extension``, the stem cut so the whole fits in ``MAX_NAME_LENGTH``."""
    return stem[: MAX_NAME_LENGTH - len(tag) - len(extension)] + tag + extension


def not_a_file_problem(path: Path) -> str:
    """Why ``path``, which exists, cannot be read as a file ("" when it can, or is missing):
    found without opening it, which for a pipe would wait for a writer."""
    if path.exists() and not path.is_file():
        return f"{path.name} is not a file (a folder, a pipe or a device): choose a file"
    return ""


def folder_problem(folder: Path) -> str:
    """Why files cannot be written in ``folder`` (empty when they can), found by making the
    folder if it is missing and writing a temporary file in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:
        return f"{folder} is a file, not a folder"
    except OSError as error:
        return f"cannot write in {folder}: {error.strerror or error}"
    return ""


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

    Memory stays constant (one chunk at a time). ``total`` is the expected size when known.
    Raises ``DownloadError`` when the body grows past ``max_bytes`` (counted as it streams, so a
    body without a length or a compressed one is held to it too) or differs from ``total``,
    ``Cancelled`` when ``cancel`` is set before the file is in place; in every failure the
    temporary file is removed and ``destination`` is left as it was.
    """
    if total is not None and total > max_bytes:
        raise DownloadError(f"{destination.name} is {total} bytes, over the {max_bytes}-byte limit")

    def check_cancel():
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"download of {destination.name} cancelled")

    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".part-", dir=destination.parent)
    written = 0
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                check_cancel()
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadError(f"{destination.name} is over the {max_bytes}-byte limit")
                file.write(chunk)
                if progress is not None:
                    progress(written, total)
        check_cancel()
        if total is not None and written != total:
            raise DownloadError(f"{destination.name} was cut short: {written} of {total} bytes")
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
