"""Following jobs (main thread): starting them, following them again after a reload, fetching
their results again, and letting them go."""

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import bpy

from ..jobs import JobSnapshot, Phase
from ..rodin import TextureRequest, contract, files
from ..rodin.errors import RodinError
from . import bake_job, checks, export, preferences, pump, session
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
) -> list[str]:
    """Export each object and submit one task per object, or ``variants`` tasks of it with
    other seeds to choose from (the first is the object's job; the others are downloaded beside
    it, into the history). All or nothing: a bad input refuses the whole batch before anything
    is sent or any object is changed. Results are applied when they arrive if ``apply`` says so
    (None: as the preferences say), as ``apply_choice`` (mode, bake options) says (None: the
    panel's, then)."""
    runtime = session.get()
    client = runtime.client(context)
    folder = results_folder(context)
    for obj in objects:
        state = obj.rodin_texture
        bake_job.refuse_if_baking(obj)
        if state.job_id and runtime.manager.is_running(state.job_id):
            raise UserError(f"{obj.name} already has a texture job running")
        if state.phase in UNFINISHED and state.task_uuid:
            raise UserError(f"{obj.name} has an unfinished task: resume it or clear it first")
    uploads, staged, image = [], [], None
    try:
        for obj, seed in zip(objects, seeds, strict=True):
            model = None
            for variant in range(variants):
                uploads.append(Path(tempfile.mkdtemp(dir=preferences.user_folder("uploads"))))
                if model is None:
                    model = export.export_geometry_glb(context, obj, uploads[-1] / "model.glb").path
                if variant:  # the same geometry: linked, not exported again
                    model = _stage(model, uploads[-1] / "model", staged_before=model)
                image = _stage(Path(template.image_path), uploads[-1] / "reference", image)
                request = dataclasses.replace(
                    template,
                    image_path=image,
                    model_path=model,
                    seed=variant_seed(seed, variant),
                )
                request.validate()
                staged.append((obj, variant, request, uploads[-1]))
    except BaseException as error:
        for upload in uploads:
            shutil.rmtree(upload, ignore_errors=True)
        if isinstance(error, export.ExportError | RodinError | UserError):
            raise UserError(str(error)) from None
        raise
    job_ids, groups = [], {obj.name: uuid.uuid4().hex if variants > 1 else "" for obj in objects}
    for obj, variant, request, upload_folder in staged:
        job_id = uuid.uuid4().hex
        group = groups[obj.name]
        if variant == 0:
            state = obj.rodin_texture
            state.job_id, state.owner = job_id, obj.name
            state.write(JobSnapshot(job_id, Phase.UPLOADING, message="Uploading"))
            state.settings_json = settings_json(request)
            state.result_folder = str(folder)
            state.variant_group = group
            applies = applies_when_done(context) if apply is None else apply
            runtime.follow(job_id, obj, apply=applies, apply_choice=apply_choice)
        else:
            runtime.variant_jobs.add(job_id)  # no object of its own: only the history shows it
        runtime.ledger_writer.expect(
            job_id,
            object_name=obj.name,
            file_path=bpy.data.filepath,
            settings=request.form_fields(),
            **({"group": group, "variant": variant} if group else {}),
        )
        runtime.manager.submit(job_id, client, request, folder, cleanup=upload_folder)
        job_ids.append(job_id)
    pump.ensure_pump()
    return job_ids


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
    """Forget the object's job and stop following it; its task stays in the service."""
    reason = checks.why_not_cleared(obj)
    if reason:
        raise UserError(reason)
    job_id = obj.rodin_texture.job_id
    runtime = session.current()
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
