"""The batch command's bookkeeping, without Blender: which files, which reference image for
which asset, what to do with each asset given the journal, and the closing summary."""

import csv
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from ..rodin.files import safe_file_name
from .journal import AssetEntry, AssetState

SOURCE_SUFFIXES = (".blend", ".glb", ".gltf", ".fbx", ".obj")


class BatchInputError(Exception):
    """A mistake in the batch's inputs, found before anything is sent."""


def find_sources(inputs: list[Path]) -> dict[Path, PurePosixPath]:
    """The scene files among ``inputs`` (folders searched recursively), each once, sorted, with
    the path its outputs mirror: relative to the folder all the inputs are in, so that files of
    the same name in different folders stay apart, and a moved input folder keeps its names."""
    found: dict[Path, Path] = {}
    roots = []
    for given in inputs:
        path = Path(os.path.abspath(given))
        if path.is_dir():
            roots.append(path)
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.suffix.lower() in SOURCE_SUFFIXES:
                    found.setdefault(file.resolve(), file)
        elif path.is_file():
            if path.suffix.lower() not in SOURCE_SUFFIXES:
                raise BatchInputError(
                    f"{given}: not a scene file (one of {', '.join(SOURCE_SUFFIXES)})"
                )
            roots.append(path.parent)
            found.setdefault(path.resolve(), path)
        else:
            raise BatchInputError(f"{given}: no such file or folder")
    try:
        common = Path(os.path.commonpath(roots))
    except ValueError:
        raise BatchInputError("inputs on different drives: run once for each drive") from None
    return {
        source: PurePosixPath(found[source].relative_to(common).as_posix())
        for source in sorted(found)
    }


def file_names(names: list[str], fallback: str) -> dict[str, str]:
    """A file name for each name, no two the same even where case is ignored: its safe form,
    numbered from the second on when two come out the same (in the order given)."""
    taken: set[str] = set()
    chosen = {}
    for name in names:
        base = candidate = safe_file_name(name, fallback)
        number = 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate.casefold())
        chosen[name] = candidate
    return chosen


def task_keys(meshes: list[tuple[str, str]]) -> list[str]:
    """The journal's name for each mesh, given as (input hash, object name): what it sends and
    its name, not where its file is, so that a moved or renamed file is still recognised.
    Identical meshes (copies of one file) are told apart by their order."""
    seen: Counter[tuple[str, str]] = Counter()
    keys = []
    for mesh in meshes:
        keys.append(f"{mesh[1]}::{mesh[0]}#{seen[mesh]}")
        seen[mesh] += 1
    return keys


class ReferenceMap:
    """Which reference image each asset uses: a mapping file's entry, else the default image.

    The mapping is a JSON object or a two-column CSV (asset, image). An asset is matched by
    ``folder/file.ext::Object`` (its path as the summary shows it), ``folder/file.ext``, then
    the same without folders, then by the object's name; relative image paths are relative to
    the mapping file."""

    def __init__(self, default: Path | None = None, entries: dict[str, Path] | None = None):
        self.default = Path(default) if default else None
        self.entries = entries or {}

    @classmethod
    def load(cls, mapping: Path | None, default: Path | None) -> "ReferenceMap":
        if mapping is None:
            return cls(default)
        mapping = Path(mapping)
        try:
            text = mapping.read_text(encoding="utf-8")
        except OSError as exc:
            raise BatchInputError(f"{mapping}: cannot read the mapping ({exc.strerror})") from None
        if mapping.suffix.lower() == ".json":
            try:
                pairs = json.loads(text)
            except ValueError as exc:
                raise BatchInputError(f"{mapping}: not valid JSON ({exc})") from None
            if not isinstance(pairs, dict) or not all(
                isinstance(value, str) for value in pairs.values()
            ):
                raise BatchInputError(f"{mapping}: expected an object of asset: image path")
            rows = list(pairs.items())
        else:
            rows = [row for row in csv.reader(text.splitlines()) if row and row[0].strip()]
            if any(len(row) != 2 for row in rows):
                raise BatchInputError(f"{mapping}: each CSV line must be: asset,image")
            if rows and rows[0][0].strip().lower() == "asset":
                rows = rows[1:]  # a header line
        entries = {key.strip(): mapping.parent / value.strip() for key, value in rows}
        missing = sorted({str(path) for path in entries.values() if not path.is_file()})
        if missing:
            raise BatchInputError(f"{mapping}: image not found: {', '.join(missing)}")
        return cls(default, entries)

    def image_for(self, source: PurePosixPath, object_name: str) -> Path | None:
        """``source`` is the file's path as ``find_sources`` gives it."""
        names = (f"{source}::{object_name}", str(source))
        names += (f"{source.name}::{object_name}", source.name, object_name)
        for key in names:
            if key in self.entries:
                return self.entries[key]
        return self.default


def input_hash(model: bytes, image: bytes, settings: dict) -> str:
    """What identifies a submit's inputs: the uploaded geometry, the image and the settings."""
    digest = hashlib.sha256()
    for part in (model, image, json.dumps(settings, sort_keys=True).encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class Action(StrEnum):
    """What the batch does with an asset, given what the journal says."""

    SUBMIT = "submit"
    RESUME = "resume"  # submitted earlier: poll it, never submit again
    DOWNLOAD = "download"  # finished earlier but its files are gone: fresh links, no credits
    WRITE = "write"  # downloaded earlier: only write the outputs
    ALREADY_DONE = "already done"
    UNCONFIRMED = "unconfirmed"
    FAILED_BEFORE = "failed before"


def plan(
    entry: AssetEntry,
    current_hash: str,
    *,
    outputs_exist: bool,
    resubmit_unconfirmed: bool = False,
    retry_failed: bool = False,
) -> Action:
    """The one place that decides whether an asset may cost a credit again."""
    if entry.state is AssetState.NEW or entry.input_hash != current_hash:
        return Action.SUBMIT
    if entry.state is AssetState.UNCONFIRMED:
        return Action.SUBMIT if resubmit_unconfirmed else Action.UNCONFIRMED
    if entry.state is AssetState.FAILED:
        return Action.SUBMIT if retry_failed else Action.FAILED_BEFORE
    if entry.state is AssetState.SUBMITTED:
        return Action.RESUME
    if entry.state is AssetState.WRITTEN and outputs_exist:
        return Action.ALREADY_DONE
    if entry.model_path and Path(entry.model_path).is_file():
        return Action.WRITE
    return Action.DOWNLOAD


class Status(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    asset: str
    status: Status
    detail: str = ""


def summary_table(outcomes: list[Outcome]) -> str:
    """The closing table: one line an asset (failures first), then the counts."""
    order = {Status.FAILED: 0, Status.SKIPPED: 1, Status.DONE: 2}
    rows = sorted(outcomes, key=lambda outcome: (order[outcome.status], outcome.asset))
    width = max([len("asset"), *(len(outcome.asset) for outcome in rows)])
    lines = [f"{'asset':<{width}}  {'result':<7}  detail", f"{'-' * width}  -------  ------"]
    lines += [f"{o.asset:<{width}}  {o.status.value:<7}  {o.detail}" for o in rows]
    counts = {status: sum(o.status is status for o in outcomes) for status in Status}
    lines.append(", ".join(f"{counts[status]} {status.value}" for status in Status))
    return "\n".join(lines)
