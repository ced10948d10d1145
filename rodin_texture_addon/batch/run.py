"""The batch's Blender side: open each scene file, export its meshes, follow their tasks
through the shared ``JobManager`` (request budget, task slots, one dispatcher), and write each
textured result as a GLB and/or the file's results into a .blend.

Every task is in the journal (``journal``) the moment it is submitted, and an intent before
that, so a batch killed at any moment and run again submits nothing twice: see ``plan.plan``.
Runs headless (``bpy`` as a module or ``blender -b``); the add-on does not need to be enabled.
"""

import dataclasses
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import bpy

from ..blender import apply, export
from ..blender.operator_calls import select_only, selection_kept, supported_options, window_override
from ..jobs import JobManager, JobSnapshot, Phase, PollSchedule, RequestBudget
from ..jobs.ledger import APPLIED, Ledgers, LedgerWriter, TaskLedger
from ..rodin import ClientSettings, RodinClient, TextureRequest
from ..rodin.errors import InvalidInput
from .journal import AssetEntry, Journal
from .plan import (
    Action,
    BatchInputError,
    Outcome,
    ReferenceMap,
    Status,
    file_names,
    find_sources,
    input_hash,
    plan,
    summary_table,
    task_keys,
)

WORK_FOLDER = ".rodin-batch"
UPDATE_WAIT = 0.1

# What opens each kind of scene file (into an empty scene, except a .blend, which is opened).
IMPORTERS = {
    ".glb": lambda path: bpy.ops.import_scene.gltf(filepath=path),
    ".gltf": lambda path: bpy.ops.import_scene.gltf(filepath=path),
    ".fbx": lambda path: bpy.ops.import_scene.fbx(filepath=path),
    ".obj": lambda path: bpy.ops.wm.obj_import(filepath=path),
}


@dataclass
class BatchSettings:
    """Everything one batch run takes (the command line, parsed)."""

    inputs: list[Path]
    output: Path
    client: ClientSettings
    template: TextureRequest  # image_path and model_path are filled per asset
    history: Path  # the user's task ledger, which the add-on's History shows
    image: Path | None = None
    mapping: Path | None = None
    write_glb: bool = True
    write_blend: bool = False
    replace: bool = False
    upload: export.UploadChoice = field(default_factory=export.UploadChoice)
    requests_per_minute: float = 120.0
    budget_window: float = 60.0
    max_in_flight: int | None = None
    schedule: PollSchedule = field(default_factory=PollSchedule)
    journal: Path | None = None
    resubmit_unconfirmed: bool = False
    retry_failed: bool = False
    progress_interval: float = 10.0

    @property
    def work_folder(self) -> Path:
        return self.output / WORK_FOLDER


@dataclass
class Asset:
    """One mesh of one scene file, or (``--together``) its meshes sent as one, and what became
    of it. ``relative`` is the file's path as its outputs mirror it; ``name``, the journal's,
    is set once the mesh is exported. ``members`` are the meshes' names, and ``output_names``
    the names of their outputs."""

    source: Path
    relative: PurePosixPath
    object_name: str
    members: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    name: str = ""
    request: TextureRequest | None = None
    upload_folder: Path | None = None
    input_hash: str = ""
    outputs: list[Path] = field(default_factory=list)
    model_path: str = ""
    outcome: Outcome | None = None
    proxy: dict = field(default_factory=dict)  # the simplified copy sent, if one was
    box: tuple = ()  # the upload's world box, where a together result is fitted

    @property
    def label(self) -> str:
        """The file and the mesh; the file alone when it could not be read."""
        return f"{self.relative}::{self.object_name}" if self.object_name else str(self.relative)

    def finish(self, status: Status, detail: str = ""):
        self.outcome = Outcome(self.label, status, detail)


def run(settings: BatchSettings, log: Callable[[str], None] = print) -> int:
    """Texture every mesh of the inputs; print a summary; 0 when nothing failed, else 1."""
    sources = find_sources(settings.inputs)
    if not sources:
        raise BatchInputError("no .blend, .glb, .gltf, .fbx or .obj files in the inputs")
    references = ReferenceMap.load(settings.mapping, settings.image)
    if references.default is None and not references.entries:
        raise BatchInputError("give a reference image (--image) or a mapping file (--mapping)")
    with tempfile.TemporaryDirectory(prefix="rodin-batch-uploads-") as uploads:
        assets = [
            asset
            for source, relative in sources.items()
            for asset in _prepare(settings, source, relative, references, Path(uploads))
        ]
        exported = [asset for asset in assets if asset.request is not None]
        keys = task_keys([(asset.input_hash, asset.object_name) for asset in exported])
        for asset, key in zip(exported, keys, strict=True):
            asset.name = key
        meshes = sum(bool(asset.object_name) for asset in assets)
        log(f"{meshes} meshes in {len(sources)} files")
        settings.work_folder.mkdir(parents=True, exist_ok=True)
        # Held by one run at a time: a second run on the work folder stops before any submit.
        with Journal(settings.journal or settings.work_folder / "journal.jsonl") as journal:
            _Batch(settings, journal, assets, log).run()
    log(summary_table([asset.outcome for asset in assets]))
    return 1 if any(asset.outcome.status is Status.FAILED for asset in assets) else 0


# --- reading the inputs ---------------------------------------------------------------------


class UnreadableSource(Exception):
    """A scene file Blender could not open or import."""


def load_source(path: Path) -> list[str]:
    """Open a scene file as the current scene; the names of its mesh objects, sorted."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".blend":
            outcome = bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
        else:
            bpy.ops.wm.read_homefile(use_empty=True)
            outcome = IMPORTERS[suffix](str(path))
    except RuntimeError as error:  # how bpy.ops reports an operator's error
        raise UnreadableSource(_first_line(str(error))) from None
    if "FINISHED" not in outcome:
        raise UnreadableSource("Blender's importer gave up on it")
    return sorted(obj.name for obj in bpy.context.scene.objects if obj.type == "MESH")


def _first_line(text: str) -> str:
    """An operator error's first line, without Blender's "Error: " prefix."""
    line = text.strip().splitlines()[0] if text.strip() else "no reason given"
    return line.removeprefix("Error: ")


def _prepare(
    settings: BatchSettings,
    source: Path,
    relative: PurePosixPath,
    references: ReferenceMap,
    uploads: Path,
) -> list[Asset]:
    """Export the file's meshes for upload and hash what each would send. Refuses the whole
    batch (before anything is sent or written) when a setting or an image is not acceptable."""
    try:
        mesh_names = load_source(source)
    except UnreadableSource as error:
        unreadable = Asset(source, relative, "")
        unreadable.finish(Status.FAILED, f"could not read it: {error}")
        return [unreadable]
    assets = []
    outputs = file_names(mesh_names, "mesh")
    images = {name: references.image_for(relative, name) for name in mesh_names}
    groups = [[name] for name in mesh_names]
    textured = [name for name in mesh_names if images[name] is not None]
    if settings.upload.together and len(textured) > 1:
        groups = [[name] for name in mesh_names if images[name] is None] + [textured]
    for members in groups:
        object_name = export.joined_name(members)
        asset = Asset(source, relative, object_name, members, [outputs[m] for m in members])
        assets.append(asset)
        image = images[members[0]]
        if image is None:
            asset.finish(Status.SKIPPED, "no reference image for it in the mapping")
            continue
        if len({images[member] for member in members}) > 1:
            asset.finish(
                Status.FAILED,
                "the mapping gives these meshes different images, but --together sends them "
                "as one: give them one image, or leave --together out",
            )
            continue
        asset.upload_folder = Path(tempfile.mkdtemp(dir=uploads))
        try:
            exported = export.export_upload(
                bpy.context,
                [bpy.data.objects[member] for member in members],
                asset.upload_folder / "model.glb",
                settings.upload,
            )
            if isinstance(exported, export.PendingProxy):
                if settings.replace:
                    raise export.ExportError(
                        f"{object_name} would be sent as a simplified proxy, which --replace "
                        "would put in place of the mesh: leave --replace out"
                    )
                exported = exported.build()
        except export.ExportError as error:
            shutil.rmtree(asset.upload_folder, ignore_errors=True)
            asset.finish(Status.FAILED, str(error))
            continue
        request = dataclasses.replace(settings.template, image_path=image, model_path=exported.path)
        try:
            request.validate()
        except InvalidInput as error:
            raise BatchInputError(f"{asset.label}: {error}") from None
        asset.request, asset.proxy = request, export.proxy_record(exported)
        asset.box = (exported.bbox_min, exported.bbox_max)
        asset.input_hash = input_hash(
            exported.path.read_bytes(), image.read_bytes(), request.form_fields()
        )
    return assets


def _folder(settings: BatchSettings, name: str) -> Path:
    folder = settings.work_folder / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def output_paths(settings: BatchSettings, asset: Asset) -> list[Path]:
    """A GLB for each of the asset's meshes, then the file's .blend, as asked."""
    paths = []
    if settings.write_glb:
        folder = output_folder(settings, asset.relative)
        paths += [folder / f"{name}.glb" for name in asset.output_names]
    if settings.write_blend:
        paths.append(blend_path(settings, asset.relative))
    return paths


def output_folder(settings: BatchSettings, relative: PurePosixPath) -> Path:
    """A file's outputs go in a folder of their own at its path under the inputs, named with
    its suffix (``props/a.glb`` in ``props/a_glb``, ``props/a.obj`` in ``props/a_obj``) so that
    files of one name do not share it, and no folder looks like a scene file."""
    return settings.output / relative.parent / f"{relative.stem}_{relative.suffix[1:]}"


def blend_path(settings: BatchSettings, relative: PurePosixPath) -> Path:
    return output_folder(settings, relative) / f"{relative.stem}.blend"


# --- the run --------------------------------------------------------------------------------


class _Batch:
    def __init__(self, settings: BatchSettings, journal: Journal, assets: list[Asset], log):
        self.settings, self.journal, self.assets, self.log = settings, journal, assets, log
        self.by_name = {asset.name: asset for asset in assets if asset.name}
        budget = RequestBudget(
            settings.requests_per_minute,
            window=settings.budget_window,
            margin=settings.budget_window / 60.0,
        )
        self.history = LedgerWriter(TaskLedger(settings.history), source="batch")
        self.manager = JobManager(
            settings.schedule,
            budget=budget,
            max_in_flight=settings.max_in_flight,
            ledger=Ledgers(journal, self.history),
        )
        self.client = RodinClient(
            settings.client,
            request_gate=self.manager.request_gate,
            retry_notice=self.manager.retry_notice,
        )
        self.results = _folder(settings, "results")
        self.running: set[str] = set()
        self.phases: dict[str, Phase] = {}
        self.stop_reported = False

    def run(self):
        try:
            for asset in self.assets:
                if asset.outcome is None:
                    self._start(asset)
            self._follow()
        finally:
            self.manager.shutdown()
            self.client.close()

    def _start(self, asset: Asset):
        asset.outputs = output_paths(self.settings, asset)
        entry = self.journal.entry(asset.name)
        action = plan(
            entry,
            asset.input_hash,
            outputs_exist=all(path.is_file() for path in asset.outputs),
            resubmit_unconfirmed=self.settings.resubmit_unconfirmed,
            retry_failed=self.settings.retry_failed,
        )
        where = {"object_name": asset.object_name, "file_path": str(asset.source)}
        if action is Action.SUBMIT:
            self.journal.expect(
                asset.name, asset.input_hash, asset.request.form_fields(), asset.label
            )
            proxy = {"proxy": asset.proxy} if asset.proxy else {}
            together = {"together": asset.members} if len(asset.members) > 1 else {}
            fields = asset.request.form_fields()
            self.history.expect(asset.name, settings=fields, **where, **proxy, **together)
            self.manager.submit(
                asset.name, self.client, asset.request, self.results, asset.upload_folder
            )  # the manager removes the upload's folder once it is sent
            self.running.add(asset.name)
        elif action in (Action.RESUME, Action.DOWNLOAD):
            download = action is Action.DOWNLOAD
            snapshot = _snapshot(entry)
            self.history.expect(asset.name, task_uuid=entry.task_uuid, **where)
            self.manager.follow(asset.name, self.client, self.results, snapshot, download=download)
            self.running.add(asset.name)
            self.log(f"{asset.label}: {action.value} task {entry.task_uuid}")
        elif action is Action.WRITE:
            asset.model_path = entry.model_path
        elif action is Action.ALREADY_DONE:
            asset.finish(Status.SKIPPED, "already done in an earlier run")
        elif action is Action.UNCONFIRMED:
            asset.finish(
                Status.FAILED,
                "an earlier run stopped after sending its submit and before the answer came: "
                "the service may have taken (and charged) it, so it was not sent again; check "
                "the account, then rerun with --resubmit-unconfirmed to submit it anyway",
            )
        else:
            asset.finish(
                Status.FAILED,
                f"the service failed it in an earlier run ({entry.message}); "
                "--retry-failed submits it again",
            )

    def _follow(self):
        """Take the workers' snapshots until every task has ended, writing each file's
        outputs as soon as all of its meshes are finished."""
        last_progress = time.monotonic()
        self._write_finished_sources()
        for snapshot in self.manager.drain(self.running, wait=UPDATE_WAIT):
            if snapshot is not None:
                self._take(snapshot)
            if time.monotonic() - last_progress >= self.settings.progress_interval:
                last_progress = time.monotonic()
                self.log(self._progress_line())
        self._write_finished_sources()

    def _take(self, snapshot: JobSnapshot):
        asset = self.by_name[snapshot.job_id]
        self.phases[asset.name] = snapshot.phase
        if snapshot.phase is Phase.DONE:
            self.running.discard(asset.name)
            asset.model_path = snapshot.model_path
            self.log(f"{self._counter()} {asset.label}: downloaded")
            self._write_finished_sources()
        elif snapshot.phase is Phase.FAILED:
            self.running.discard(asset.name)
            detail = snapshot.message + (f" ({snapshot.hint})" if snapshot.hint else "")
            asset.finish(Status.FAILED, detail)
            self.log(f"{self._counter()} {asset.label}: failed: {detail}")
            self._report_stop()
            self._write_finished_sources()
        elif snapshot.message == "Submitted":
            self.log(f"{self._counter()} {asset.label}: submitted as {snapshot.task_uuid}")

    def _apply(self, asset: Asset) -> list:
        """The asset's result over its meshes (the file just loaded): one object per mesh."""
        objects = [bpy.data.objects[member] for member in asset.members]
        choices = {"replace": self.settings.replace, "from_proxy": bool(asset.proxy)}
        model = Path(asset.model_path)
        if len(objects) == 1:
            return [apply.apply_result(bpy.context, objects[0], model, **choices)]
        parts = [(obj, obj.matrix_world.copy()) for obj in objects]  # as when it was sent
        return apply.apply_joined(bpy.context, parts, asset.box, model, **choices)

    def _report_stop(self):
        refusal = self.manager.lasting_refusal
        if refusal is None or self.stop_reported:
            return
        self.stop_reported = True
        self.log(
            f"STOPPED SUBMITTING: {refusal} {refusal.hint} "
            f"Tasks already submitted ({len(self.running)}) are still followed and downloaded."
        )

    def _counter(self) -> str:
        ended = sum(asset.outcome is not None or bool(asset.model_path) for asset in self.assets)
        return f"[{ended}/{len(self.assets)}]"

    def _progress_line(self) -> str:
        counts = Counter(self.phases.get(name, Phase.UPLOADING) for name in self.running)
        phases = ", ".join(f"{count} {phase.value}" for phase, count in sorted(counts.items()))
        return f"{self._counter()} running: {phases or 'none'}"

    def _write_finished_sources(self):
        """Write the outputs of every file whose meshes have all ended."""
        by_source: dict[Path, list[Asset]] = {}
        for asset in self.assets:
            by_source.setdefault(asset.source, []).append(asset)
        for assets in by_source.values():
            ready = [asset for asset in assets if asset.outcome is None and asset.model_path]
            if ready and all(asset.outcome is not None or asset.model_path for asset in assets):
                self._write_source(ready)

    def _write_source(self, assets: list[Asset]):
        """Write these meshes' outputs (all of one file, ``assets[0].source``)."""
        try:
            load_source(assets[0].source)
            for asset in assets:
                shown = self._apply(asset)
                if self.settings.write_glb:  # the GLBs come first among the outputs
                    for result, path in zip(shown, asset.outputs, strict=False):
                        write_textured_glb(result, path)
            if self.settings.write_blend:
                save_blend(blend_path(self.settings, assets[0].relative))
        except (apply.ApplyError, RuntimeError, OSError, KeyError) as error:
            for asset in assets:
                asset.finish(Status.FAILED, f"could not write the result: {error}")
            return
        for asset in assets:
            self.journal.written(asset.name, asset.outputs)
            task_uuid = self.journal.entry(asset.name).task_uuid
            if task_uuid:  # its result is in the outputs: nothing left to recover
                self.history.ledger.note(APPLIED, task_uuid, applied_to=str(asset.outputs[0]))
            asset.finish(Status.DONE, ", ".join(str(path) for path in asset.outputs))


def _snapshot(entry: AssetEntry) -> JobSnapshot:
    return JobSnapshot(
        entry.asset,
        Phase.WAITING,
        task_uuid=entry.task_uuid,
        subscription_key=entry.subscription_key,
        job_uuids=entry.job_uuids,
        submitted_at=entry.submitted_at,
        submitted=True,
    )


# --- writing the outputs --------------------------------------------------------------------

TEXTURED_GLB_OPTIONS = {
    "export_format": "GLB",
    "use_selection": True,
    "export_apply": True,
    "export_yup": True,
    "export_materials": "EXPORT",
    "export_image_format": "AUTO",
    "export_animations": False,
    "export_cameras": False,
    "export_lights": False,
    "will_save_settings": False,
}


def write_textured_glb(obj, path: Path):
    """``obj`` alone, with its material and textures, as a GLB written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial.glb")
    view_layer = bpy.context.view_layer
    with selection_kept(view_layer), window_override(bpy.context):
        select_only(view_layer, {obj}, obj)
        bpy.ops.export_scene.gltf(
            filepath=str(partial),
            **supported_options(bpy.ops.export_scene.gltf, TEXTURED_GLB_OPTIONS),
        )
    os.replace(partial, path)


def save_blend(path: Path):
    """The current scene (with its results) as a .blend, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial.blend")
    bpy.ops.wm.save_as_mainfile(filepath=str(partial), copy=True, check_existing=False)
    os.replace(partial, path)
