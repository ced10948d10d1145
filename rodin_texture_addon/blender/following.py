"""Following jobs (main thread): starting them, following them again after a reload, fetching
their results again, and letting them go."""

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..jobs import JobSnapshot, Phase
from ..rodin import TextureRequest, contract, files
from ..rodin.errors import RodinError
from . import bake_job, checks, export, preferences, pump, session, together
from .errors import UserError
from .properties import UNFINISHED

VARIANT_SEED_STEP = 7919  # a prime: the variants' seeds stay apart, whatever the first


def start_generation(
    context,
    objects,
    template: TextureRequest,
    seeds: list[int],
    apply_choice=None,
    variants: int = 1,
    apply: bool | None = None,
    upload_choice: export.UploadChoice | None = None,
) -> list[str]:
    """Export each object and submit one task per object, or ``variants`` tasks of it with
    other seeds to choose from (the first is the object's job; the others are downloaded beside
    it, into the history), or, with ``upload_choice.together``, one task of them all; a mesh
    over the limit is sent as ``upload_choice`` says (None: the panel's). All or nothing: a bad
    input refuses the whole batch before anything is sent or any object is changed. Results
    are applied when they arrive if ``apply`` says so (None: as the preferences say), as
    ``apply_choice`` (mode, bake options) says (None: the panel's, then).
    Waits for the proxies to be built: the window's operator builds them on a thread."""
    upload_choice = upload_choice or chosen_upload(context)
    generation = Generation.prepare(
        context, objects, template, seeds, apply_choice, variants, upload_choice
    )
    return generation.start(context, apply)


@dataclass
class _Model:
    """An upload's model: an ExportedModel, or a PendingProxy until it is built, of one object
    or of several textured together (``objects``)."""

    exported: "export.ExportedModel | export.PendingProxy"
    objects: list
    group: str = ""  # the variants' group, if the object has several tasks


@dataclass
class _Upload:
    """One task to submit: which of its variants, its model, request and folder."""

    variant: int
    model: _Model
    request: TextureRequest
    folder: Path

    @property
    def obj(self) -> bpy.types.Object:
        """Its object (the first of those textured together)."""
        return self.model.objects[0]


class Generation:
    """A start made ready on the main thread (every object exported or read for its proxy,
    the image staged, the settings checked), then ``build_proxies`` (no bpy: a worker thread
    may run it), then ``submit`` on the main thread. A failure at any step removes every
    upload and submits nothing."""

    def __init__(self, uploads: list[_Upload], apply_choice, objects):
        self.uploads = uploads
        self.pointers = [obj.as_pointer() for obj in objects]  # known once an object is deleted
        self.models = list({id(upload.model): upload.model for upload in uploads}.values())
        self.apply_choice = apply_choice
        self.error = ""
        self.undo_steps = _undo_steps

    @classmethod
    def prepare(
        cls, context, objects, template, seeds, apply_choice, variants, upload_choice
    ) -> "Generation":
        session.get().client(context), results_folder(context)  # refused before any export
        for obj in objects:
            _refuse_if_busy(obj)
            building = checks.proxy_being_built(obj)
            if building:
                raise UserError(building)
        together = upload_choice.together and len(objects) > 1
        if together and variants > 1:
            raise UserError(checks.TOGETHER_HAS_NO_VARIANTS)
        groups = [list(objects)] if together else [[obj] for obj in objects]
        uploads, folders, image = [], [], None  # folders: every one made, to remove on failure
        try:
            for members, seed in zip(groups, seeds[: len(groups)], strict=True):
                mine = [new_upload_folder() for _ in range(variants)]
                folders += mine
                model_path = mine[0] / "model.glb"
                exported = export.export_upload(context, members, model_path, upload_choice)
                group = uuid.uuid4().hex if variants > 1 else ""
                model = _Model(exported, members, group)
                for variant, folder in enumerate(mine):
                    image = _stage(Path(template.image_path), folder / "reference", image)
                    request = dataclasses.replace(
                        template, image_path=image, model_path=model_path,
                        seed=variant_seed(seed, variant),
                    )  # fmt: skip
                    request.check_settings()
                    uploads.append(_Upload(variant, model, request, folder))
                if isinstance(exported, export.PendingProxy):
                    mode = _apply_mode(context, apply_choice)
                    checks.refuse_replacing_with_proxy(exported.name, mode)
        except BaseException as error:
            _remove(folders)
            if isinstance(error, export.ExportError | RodinError | UserError):
                raise UserError(str(error)) from None
            raise
        generation = cls(uploads, apply_choice, objects)
        checks.BUILDING_PROXIES.update(generation.pointers)
        return generation

    @property
    def pending_proxies(self) -> list[export.PendingProxy]:
        return [m.exported for m in self.models if isinstance(m.exported, export.PendingProxy)]

    def build_proxies(self) -> None:
        """Build each pending proxy; the first failure is kept in ``error`` for ``submit``
        (whatever it is: on a worker thread, an exception would be lost)."""
        for model in self.models:
            if isinstance(model.exported, export.PendingProxy) and not self.error:
                pending = model.exported
                try:
                    model.exported = pending.build()
                except export.ExportError as error:
                    self.error = str(error)
                except Exception as error:  # out of memory, say: said, not lost
                    self.error = f"The upload proxy of {pending.name} could not be made: {error}"

    def start(self, context, apply: bool | None = None) -> list[str]:
        """Build the proxies here and now, then submit."""
        self.build_proxies()
        return self.submit(context, apply)

    def discard(self) -> None:
        """Remove every upload: nothing of this start is submitted."""
        _remove([upload.folder for upload in self.uploads])
        self._done()

    def discard_after(self, builder: threading.Thread) -> None:
        """Discard a start whose proxies ``builder`` is still building (its wait was ended by
        Blender: a file opened, the window closed): at once for the panel, the uploads once
        the thread is done with them."""
        checks.BUILDING_PROXIES.difference_update(self.pointers)

        def once_built():
            if builder.is_alive():
                return 0.2
            self.discard()
            return None

        bpy.app.timers.register(once_built, first_interval=0.0, persistent=True)

    def _done(self) -> None:
        checks.BUILDING_PROXIES.difference_update(self.pointers)
        self.uploads = []

    def submit(self, context, apply: bool | None = None) -> list[str]:
        """Submit every task (the objects checked again: they may have changed meanwhile)."""
        try:
            if self.error:
                raise UserError(self.error)
            if self.undo_steps != _undo_steps:
                raise UserError(UNDONE)
            client, folder = session.get().client(context), results_folder(context)
            for upload in self.uploads:
                for obj in upload.model.objects:
                    _refuse_if_busy(obj)
                model = upload.model.exported.path
                if upload.variant:  # the same geometry: linked, not exported again
                    upload.request.model_path = _stage(
                        model, upload.folder / "model", staged_before=model
                    )
                upload.request.validate()
        except BaseException as error:
            self.discard()
            if isinstance(error, RodinError | UserError | ReferenceError):
                raise UserError(_gone(error)) from None
            raise
        return self._send(context, client, folder, apply)

    def _send(self, context, client, folder, apply) -> list[str]:
        runtime = session.get()
        job_ids = []
        for upload in self.uploads:
            obj, request, job_id = upload.obj, upload.request, uuid.uuid4().hex
            group, members = upload.model.group, upload.model.objects
            proxy = export.proxy_record(upload.model.exported)
            if upload.variant == 0:
                for member in members:
                    state = member.rodin_texture
                    state.job_id, state.owner = job_id, member.name
                    state.write(JobSnapshot(job_id, Phase.UPLOADING, message="Uploading"))
                    state.settings_json = settings_json(request)
                    state.result_folder = str(folder)
                    state.variant_group = group
                    state.proxy_json = json.dumps(proxy) if proxy else ""
                    if len(members) > 1:
                        record = together.record(members, upload.model.exported, member)
                        state.together_json = json.dumps(record)
                applies = applies_when_done(context) if apply is None else apply
                runtime.follow(job_id, obj, apply=applies, apply_choice=self.apply_choice)
            else:
                runtime.variant_jobs[job_id] = group  # no object of its own: only the history
            runtime.ledger_writer.expect(
                job_id,
                object_name=obj.name,
                file_path=bpy.data.filepath,
                file_id=session.file_id(create=True),
                settings=request.form_fields(),
                **({"group": group, "variant": upload.variant} if group else {}),
                **({"proxy": proxy} if proxy else {}),
                **({"together": [m.name for m in members]} if len(members) > 1 else {}),
            )
            runtime.manager.submit(job_id, client, request, folder, cleanup=upload.folder)
            job_ids.append(job_id)
        self._done()
        pump.ensure_pump()
        return job_ids


def chosen_upload(context, together=None, use_proxy=None, proxy_detail=None) -> export.UploadChoice:
    """How meshes are sent (together or not, and when over the limit): each value given (not
    None), else the panel's."""
    settings = context.scene.rodin_texture_settings
    together = settings.together if together is None else together
    if not isinstance(together, bool):
        raise UserError(f"together: must be True or False, not {together!r}")
    use_proxy = settings.use_proxy if use_proxy is None else use_proxy
    detail = settings.proxy_detail if proxy_detail is None else proxy_detail
    if not isinstance(use_proxy, bool):
        raise UserError(f"use_proxy: must be True or False, not {use_proxy!r}")
    whole = isinstance(detail, int) and not isinstance(detail, bool)
    lowest = export.MIN_PROXY_DETAIL
    if not whole or not lowest <= detail <= 100:
        raise UserError(
            f"proxy_detail: must be a whole number from {lowest} to 100, not {detail!r}"
        )
    return export.UploadChoice(use_proxy, detail / 100, together)


def _refuse_if_busy(obj) -> None:
    runtime = session.get()
    state = obj.rodin_texture
    bake_job.refuse_if_baking(obj)
    if state.job_id and runtime.manager.is_running(state.job_id):
        raise UserError(f"{obj.name} already has a texture job running")
    if state.phase in UNFINISHED and state.task_uuid:
        raise UserError(f"{obj.name} has an unfinished task: resume it or clear it first")


def _gone(error: BaseException) -> str:
    if isinstance(error, ReferenceError):
        return "An object to texture was deleted meanwhile: nothing was submitted"
    return str(error)


UNDONE = (
    "Undo was used while the upload was made ready: nothing was submitted; press Generate again"
)
_undo_steps = 0  # undo and redo steps taken: a start made ready before one is not sent


def note_undo_step() -> None:
    """An undo or redo: the scene a start was made ready from may be gone."""
    global _undo_steps
    _undo_steps += 1


def _apply_mode(context, apply_choice) -> str:
    return apply_choice[0] if apply_choice else context.scene.rodin_texture_settings.apply_mode


def new_upload_folder() -> Path:
    return Path(tempfile.mkdtemp(dir=preferences.user_folder("uploads")))


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def variant_seed(seed, variant: int):
    """The seed of a variant: the first keeps the chosen one as given (a seed out of range is
    refused by the request's validation, not wrapped), the others are spread from it."""
    if variant == 0:
        return seed
    return (seed + variant * VARIANT_SEED_STEP) % (contract.SEED_MAX + 1)


def _stage(source: Path, folder: Path, staged_before: Path | None = None) -> Path:
    """A copy of ``source`` in ``folder`` of a job's upload, which the job removes once its
    submit is over: a temporary copy of a Blender image can then go at once, and a file edited
    meanwhile changes no job. A file staged for another job is hard-linked instead (copied
    where the file system has no links), so several jobs copy it once."""
    staged = folder / source.name
    problem = files.not_a_file_problem(source)
    if problem:
        raise UserError(problem)
    folder.mkdir(parents=True)
    if staged_before is not None:
        with contextlib.suppress(OSError):
            os.link(staged_before, staged)
            return staged
    try:
        shutil.copyfile(staged_before or source, staged)
    except OSError as error:
        raise UserError(f"Cannot read {source.name}: {error.strerror}") from None
    return staged


def applies_when_done(context) -> bool:
    """Whether results are applied as they arrive: always headless, else as the user chose."""
    return bpy.app.background or preferences.get(context).auto_import


def results_folder(context) -> Path:
    """The folder new results go to, made if missing; UserError when it cannot hold them."""
    setting = preferences.get(context).results_folder
    if setting.startswith("//") and not bpy.data.filepath:
        raise UserError(
            f"The results folder {setting} is relative to the .blend file: save the file "
            "first, or choose a full path in the add-on's preferences"
        )
    folder = preferences.results_folder(context)
    problem = files.folder_problem(folder)
    if problem:
        raise UserError(f"Results folder: {problem}; choose another in the add-on's preferences")
    return folder


def job_folder(context, state) -> Path:
    """Where a stored job's files go: the folder it started with while it can hold them, else
    the current results folder, where the job then moves."""
    if state.result_folder and not files.folder_problem(Path(state.result_folder)):
        return Path(state.result_folder)
    folder = results_folder(context)
    state.result_folder = str(folder)
    return folder


def resume_job(context, obj, apply: bool | None = None) -> str:
    """Follow an object's submitted task again (never submits anything); its result is applied
    when it arrives if ``apply`` says so (None: as the preferences say)."""
    return _follow(context, obj, download=False, apply=apply)


def download_job(context, obj) -> str:
    """Fetch an object's task's result again through fresh links, then apply it as the panel
    says (whatever was chosen when it was submitted)."""
    return _follow(context, obj, download=True)


def _follow(context, obj, *, download: bool, apply: bool | None = None) -> str:
    """Resume and Download Again: the same path, but for the first step and the answer to
    whether the result is applied. A job already followed is left as it runs (resume) or
    refused (download)."""
    state = obj.rodin_texture
    if session.copied_job(obj):
        state.forget()
    if not state.task_uuid and download:
        raise UserError(f"{obj.name} has no task to download")
    if not state.task_uuid:
        raise UserError(f"{obj.name} has no submitted task to resume")
    runtime = session.get()
    if download:
        bake_job.refuse_if_baking(obj)
        if state.job_id and runtime.manager.is_running(state.job_id):
            raise UserError(f"{obj.name}'s job is still running")
    state.job_id, state.owner = state.job_id or uuid.uuid4().hex, obj.name
    job_id = state.job_id
    if not runtime.manager.is_running(job_id):
        # What was chosen at submit is not this start's: Download Again applies as the panel
        # says, a resume as the preferences do.
        if apply is None:
            apply = download or applies_when_done(context)
        runtime.follow(job_id, obj, apply=apply)
        runtime.ledger_writer.expect(job_id, task_uuid=state.task_uuid)
        folder = job_folder(context, state)
        runtime.manager.follow(
            job_id, runtime.client(context), folder, state.snapshot(), download=download
        )
    pump.ensure_pump()
    return job_id


def refuse_if_followed(obj) -> None:
    """Before another task is put on ``obj``: refused while its own job is followed."""
    state = obj.rodin_texture
    if state.job_id and session.is_following(state.job_id):
        raise UserError(f"{obj.name} has a texture job running: wait for it or clear it first")


def take_task(obj, phase: Phase, message: str, **task) -> None:
    """Give ``obj`` a new job for a task submitted earlier (``task``: what the job's snapshot
    knows of it: its ids, files, times) in place of the job it had; refused while that one is
    followed."""
    refuse_if_followed(obj)
    state = obj.rodin_texture
    state.forget()
    state.job_id, state.owner = uuid.uuid4().hex, obj.name
    state.write(JobSnapshot(state.job_id, phase, message=message, **task))


def clear_job(obj) -> None:
    """Forget the object's job and stop following it, unless other objects textured together
    with it still show it; its task stays in the service."""
    reason = checks.why_not_cleared(obj)
    if reason:
        raise UserError(reason)
    job_id = obj.rodin_texture.job_id
    runtime = session.current()
    if len(together.members(obj)) > 1:
        obj.rodin_texture.forget()  # the others keep the task, and it stays followed for them
        return
    if runtime is not None and not runtime.manager.stop_following(job_id):
        raise UserError(checks.UPLOAD_NOT_CONFIRMED)
    if runtime is not None:
        runtime.followed.pop(job_id, None)
    obj.rodin_texture.forget()


def unfinished_objects() -> list[bpy.types.Object]:
    """The objects with a submitted task not yet finished, copies left out. Only reads: the
    panel asks while it draws, where Blender lets nothing be written."""
    return [
        obj
        for obj in bpy.data.objects
        if obj.rodin_texture.phase in UNFINISHED
        and obj.rodin_texture.task_uuid
        and not session.copied_job(obj)
    ]


def settings_json(request: TextureRequest) -> str:
    return json.dumps(request.form_fields(), sort_keys=True)
