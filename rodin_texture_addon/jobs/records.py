"""Files of JSON records, one a line, that survive crashes: what the batch journal and the task
ledger share. A record is written with one ``write`` and fsync'd; a crash mid-write leaves a
torn last line, which readers drop."""

import json
import os
from pathlib import Path


def parse_record(line: bytes) -> dict:
    """The line's record; for a torn record with a whole one joined on (``{"as{"asset": ...}``),
    the whole one. Raises ``ValueError`` for a line that holds no whole record."""
    try:
        record = json.loads(line)
    except ValueError:
        start = line.find(b'{"', 1)
        while start > 0:
            try:
                record = json.loads(line[start:])
                break
            except ValueError:
                start = line.find(b'{"', start + 1)
        else:
            raise
    if not isinstance(record, dict):
        raise ValueError("not a record")
    return record


def complete_lines(data: bytes) -> tuple[list[bytes], int]:
    """The non-blank complete lines of ``data``, and where they end (a torn last line after)."""
    complete = data.rfind(b"\n") + 1
    return [line for line in data[:complete].splitlines() if line.strip()], complete


def encode(record: dict) -> bytes:
    return (json.dumps(record, sort_keys=True) + "\n").encode()


def fsync_folder(folder: Path):
    """Make a new file's name durable (its folder entry), where the system allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def lock(fd: int, *, wait: bool) -> None:
    """Take the file's exclusive lock (the system releases it when the process dies); without
    ``wait``, ``OSError`` when another process holds it."""
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
