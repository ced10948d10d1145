"""The add-on's live parts: the job manager, the main-thread pump, resuming, headless waiting.

Data flows one way: an operator exports and starts jobs; worker threads post snapshots; the
pump (a ``bpy.app.timers`` function on the main thread) writes them onto objects; finished
results are applied by a one-shot timer (or, headless, by ``wait_for``).
"""

import contextlib
import dataclasses
import json
import math
import queue
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

import bpy
from bpy.app.handlers import persistent

from ..jobs import JobManager, JobSnapshot, Phase
from ..rodin import RodinClient, TextureRequest, contract, files
from ..rodin.errors import RodinError
from . import apply, bake, bake_job, export, preferences, translations
from .properties import APPLY_MODE_ITEMS, BAKE_MATERIAL_ITEMS, BAKE_SIZE_ITEMS, UNFINISHED
from .screen import redraw_sidebars

PUMP_INTERVAL = 0.2
# Seconds of writing one tick may spend; what is left waits for the next tick, so a tick stays
# short however many jobs post at once (each job's latest snapshot keeps its place in line).
PUMP_BUDGET = 0.001
HEADLESS_POLL_INTERVAL = 0.05
# A redraw of the sidebar for a job's progress alone waits at least this long after the last
# (in software OpenGL one costs tens of milliseconds); a change of stage redraws at once.
PROGRESS_REDRAW_INTERVAL = 0.5
# Blender's timers fire only with an event loop; in background mode the headless loop
# (``wait_for``) calls what a timer would.
TIMERS_FIRE = not bpy.app.background


class UserError(Exception):
    """A mistake the user can fix; its text is shown as it is."""


# Errors whose text is meant for the user: operators report them instead of a traceback.
USER_FACING_ERRORS = (UserError, RodinError, export.ExportError, apply.ApplyError)


class Runtime:
    """What lives while the add-on is enabled; created on first use, so an idle add-on starts
    no threads."""

    def __init__(self):
        self.manager = JobManager()
        self.budget = self.manager.budget
        self.clients: dict[tuple, RodinClient] = {}
        self.object_names: dict[str, str] = {}
        self.unwritten: dict[str, JobSnapshot] = {}  # the latest snapshot per job, in line
        # The last snapshot written for each job of this session, to write again after an undo
        # (Blender's undo takes the objects back to a step the job has moved past).
        self.written: dict[str, JobSnapshot] = {}
        self.apply_when_done: set[str] = set()
        # How a job's result is applied when its operator chose it: (apply mode, bake options).
        self.apply_choices: dict[str, tuple] = {}
        self.finished: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.balance: str = ""
        # The balance request in flight, if any: the pump runs until its answer is drawn.
        self.balance_fetch: threading.Thread | None = None
        self.last_redraw = 0.0
        self.redraw_due = False  # progress arrived that the sidebar does not show yet

    def client(self, context) -> RodinClient:
        """One client per account and service settings, shared by that account's jobs. Refused
        while the service may not be reached, so no request can start then."""
        reason = why_offline(context)
        if reason:
            raise UserError(reason)
        settings = preferences.client_settings(context)
        self.budget.per_minute = preferences.get(context).requests_per_minute
        key = (settings.api_key, settings.base_url, settings.ca_bundle, settings.proxy_url)
        if key not in self.clients:
            self.clients[key] = RodinClient(
                settings,
                request_gate=self.manager.request_gate,
                retry_notice=self.manager.retry_notice,
            )
        return self.clients[key]

    def shutdown(self):
        self.manager.shutdown()
        for client in self.clients.values():
            client.close()


_runtime: Runtime | None = None


def get() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


def shutdown():
    global _runtime, _balance_asked
    _balance_asked = False
    for timer in (pump, finish_done_jobs, _fetch_balance_now):
        if bpy.app.timers.is_registered(timer):
            bpy.app.timers.unregister(timer)
    bake_job.shutdown()
    if _runtime is not None:
        _runtime.shutdown()
        _runtime = None


# --- checks that say why something cannot run -------------------------------------------------


def why_offline(context) -> str:
    if not bpy.app.online_access:
        return "Online access is off: allow it in Preferences > System > Network"
    if not preferences.api_key(context):
        return "No API key: set it in the add-on preferences (or RODIN_API_KEY)"
    return preferences.key_problem(context)


def why_cannot_generate(context) -> str:
    """Why the panel's Generate button cannot run now (empty: it can)."""
    reason = why_offline(context)
    if reason:
        return reason
    try:
        target_meshes(context)
    except UserError as error:
        return str(error)
    if context.scene.rodin_texture_settings.image is None:
        return "Pick a reference image"
    return ""


def is_following(job_id: str) -> bool:
    """Whether a job is running in this session, or has ended with its last word not yet
    written onto its object (without starting the runtime to find out)."""
    if _runtime is None or not job_id:
        return False
    last = _runtime.written.get(job_id)
    return _runtime.manager.is_running(job_id) or (last is not None and last.phase in UNFINISHED)


def why_not_followed(context, obj) -> str:
    """Why an unfinished job stored on the object is not being followed (empty: it is, or it
    is finished): a file opened offline or without a key, or the add-on restarted mid-job."""
    state = obj.rodin_texture
    if state.phase not in UNFINISHED or is_following(state.job_id):
        return ""
    if not state.task_uuid:
        return "Interrupted before the service confirmed the task"
    return why_offline(context) or "nothing follows it now: press Resume Jobs"


def how_to_apply(
    context, apply_mode=None, bake_size=None, bake_material=None, unwrap_missing_uvs=None
) -> tuple[str, bake.BakeOptions]:
    """The apply mode and bake options: each value given (not None), else the panel's."""
    settings = context.scene.rodin_texture_settings
    for name, value, items in (
        ("apply_mode", apply_mode, APPLY_MODE_ITEMS),
        ("bake_size", bake_size, BAKE_SIZE_ITEMS),
        ("bake_material", bake_material, BAKE_MATERIAL_ITEMS),
    ):
        allowed = [item[0] for item in items]
        if value is not None and value not in allowed:
            raise UserError(f"{name}: must be one of {', '.join(allowed)}, not {value!r}")

    def chosen(value, panel_value):
        return panel_value if value is None else value

    options = bake.bake_options(
        chosen(bake_size, settings.bake_size),
        chosen(bake_material, settings.bake_material),
        chosen(unwrap_missing_uvs, settings.unwrap_missing_uvs),
    )
    return chosen(apply_mode, settings.apply_mode), options


def target_meshes(context) -> list[bpy.types.Object]:
    """The selected meshes, else the active object; refuses what cannot be textured."""
    selected = [obj for obj in context.selected_objects if obj.type == "MESH"]
    if selected:
        return selected
    active = context.active_object
    if active is None:
        raise UserError("Select a mesh to texture")
    if active.type != "MESH":
        raise UserError(f"{active.name} is {export.kind_of(active)}, not a mesh")
    return [active]


# --- starting jobs (main thread) ------------------------------------------------------------


def start_generation(
    context, objects, template: TextureRequest, seeds: list[int], apply_choice=None
) -> list[str]:
    """Export each object and submit one task per object. All or nothing: a bad input refuses
    the whole batch before anything is sent or any object is changed. ``apply_choice`` (mode,
    bake options) is how results are applied when they arrive (default: the panel's, then)."""
    runtime = get()
    client = runtime.client(context)
    folder = results_folder(context)
    for obj in objects:
        state = obj.rodin_texture
        bake_job.refuse_if_baking(obj)
        if state.job_id and runtime.manager.is_running(state.job_id):
            raise UserError(f"{obj.name} already has a texture job running")
        if state.phase in UNFINISHED and state.task_uuid:
            raise UserError(f"{obj.name} has an unfinished task: resume it or clear it first")
    uploads, staged = [], []
    try:
        for obj, seed in zip(objects, seeds, strict=True):
            uploads.append(Path(tempfile.mkdtemp(dir=preferences.user_folder("uploads"))))
            exported = export.export_geometry_glb(context, obj, uploads[-1] / "model.glb")
            image = _stage_image(Path(template.image_path), uploads[-1])
            request = dataclasses.replace(
                template, image_path=image, model_path=exported.path, seed=seed
            )
            request.validate()
            staged.append((obj, request, uploads[-1]))
    except BaseException as error:
        for folder in uploads:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, export.ExportError | RodinError | UserError):
            raise UserError(str(error)) from None
        raise
    job_ids = []
    for obj, request, upload_folder in staged:
        job_id = uuid.uuid4().hex
        state = obj.rodin_texture
        state.job_id, state.owner = job_id, obj.name
        state.write(JobSnapshot(job_id, Phase.UPLOADING, message="Uploading"))
        state.settings_json = settings_json(request)
        state.result_folder = str(folder)
        runtime.object_names[job_id] = obj.name
        if applies_when_done(context):
            runtime.apply_when_done.add(job_id)
        if apply_choice is not None:
            runtime.apply_choices[job_id] = apply_choice
        runtime.manager.submit(job_id, client, request, folder, cleanup=upload_folder)
        job_ids.append(job_id)
    ensure_pump()
    return job_ids


def _stage_image(image: Path, upload_folder: Path) -> Path:
    """A copy of the reference image in the job's upload folder, which the job removes once its
    submit is over: a temporary copy of a Blender image can then go at once, and a file edited
    meanwhile changes no job."""
    staged = upload_folder / "reference" / image.name
    staged.parent.mkdir()
    try:
        shutil.copyfile(image, staged)
    except OSError as error:
        raise UserError(f"Cannot read the image {image.name}: {error.strerror}") from None
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


def resume_job(context, obj) -> str:
    """Follow an object's submitted task again (never submits anything)."""
    state = obj.rodin_texture
    if copied_job(obj):
        state.forget()
    if not state.task_uuid:
        raise UserError(f"{obj.name} has no submitted task to resume")
    runtime = get()
    job_id = _claim_job_id(obj)
    if not runtime.manager.is_running(job_id):
        runtime.apply_choices.pop(job_id, None)  # chosen for a submit this no longer follows
        runtime.apply_when_done.discard(job_id)
        if applies_when_done(context):
            runtime.apply_when_done.add(job_id)
        runtime.manager.resume(
            job_id,
            runtime.client(context),
            job_folder(context, state),
            state.snapshot(),
            state.settings.get("geometry_file_format", contract.GeometryFormat.GLB),
        )
    ensure_pump()
    return job_id


def download_job(context, obj) -> str:
    """Fetch an object's finished task again through fresh links, then apply it as the panel
    says (whatever was chosen when it was submitted)."""
    state = obj.rodin_texture
    if copied_job(obj):
        state.forget()
    if not state.task_uuid:
        raise UserError(f"{obj.name} has no task to download")
    bake_job.refuse_if_baking(obj)
    runtime = get()
    if state.job_id and runtime.manager.is_running(state.job_id):
        raise UserError(f"{obj.name}'s job is still running")
    job_id = _claim_job_id(obj)
    runtime.apply_choices.pop(job_id, None)
    runtime.apply_when_done.add(job_id)
    runtime.manager.download(
        job_id,
        runtime.client(context),
        job_folder(context, state),
        state.snapshot(),
        state.settings.get("geometry_file_format", contract.GeometryFormat.GLB),
    )
    ensure_pump()
    return job_id


def _claim_job_id(obj) -> str:
    """The object's job id (a new one if it has none), remembered for the pump's look-ups."""
    state = obj.rodin_texture
    state.job_id, state.owner = state.job_id or uuid.uuid4().hex, obj.name
    get().object_names[state.job_id] = obj.name
    return state.job_id


def why_not_cleared(obj) -> str:
    """Why the object's job cannot be forgotten now (empty: it can), without starting the
    runtime."""
    if bake_job.running(obj) is not None:
        return f"{obj.name}'s result is being baked: wait for it, or cancel it"
    state = obj.rodin_texture
    if state.phase is Phase.UPLOADING and is_following(state.job_id):
        return "The upload may become a paid task: wait until the service confirms it"
    return ""


def clear_job(obj) -> None:
    """Forget the object's job and stop following it; its task stays in the service."""
    reason = why_not_cleared(obj)
    if reason:
        raise UserError(reason)
    job_id = obj.rodin_texture.job_id
    if _runtime is not None and not _runtime.manager.stop_following(job_id):
        raise UserError("The upload may become a paid task: wait until the service confirms it")
    if _runtime is not None:
        _runtime.written.pop(job_id, None)
    obj.rodin_texture.forget()


def copied_job(obj) -> bool:
    """Whether the job stored on ``obj`` came with it from another object (a copy carries every
    property): another object carrying it has the name it was started on (``owner``), or, when
    none has (renamed since), comes before it."""
    state = obj.rodin_texture
    if not state.job_id or state.owner == obj.name:
        return False
    holders = [o for o in bpy.data.objects if o.rodin_texture.job_id == state.job_id]
    rightful = next((o for o in holders if o.rodin_texture.owner == o.name), holders[0])
    return rightful != obj


def forget_copied_jobs() -> None:
    """Clear the jobs that came with copies of objects (Shift-D, copy and paste), and note
    the new name of an object renamed since its job started."""
    for obj in bpy.data.objects:
        state = obj.rodin_texture
        if state.job_id and state.owner != obj.name:
            if copied_job(obj):
                state.forget()
            else:
                state.owner = obj.name


def unfinished_objects() -> list[bpy.types.Object]:
    forget_copied_jobs()
    return [
        obj
        for obj in bpy.data.objects
        if obj.rodin_texture.phase in UNFINISHED and obj.rodin_texture.task_uuid
    ]


def settings_json(request: TextureRequest) -> str:
    return json.dumps(request.form_fields(), sort_keys=True)


# --- the main-thread pump -------------------------------------------------------------------


def ensure_pump():
    _run_on_main_thread(pump)


def _run_on_main_thread(function):
    """Register a timer for ``function`` unless one is registered: Blender keeps duplicates,
    and ``shutdown`` unregisters each timer once."""
    if TIMERS_FIRE and not bpy.app.timers.is_registered(function):
        bpy.app.timers.register(function, first_interval=0.0, persistent=True)


def pump(budget: float = PUMP_BUDGET) -> float | None:
    """Write the workers' latest snapshots onto objects, for about ``budget`` seconds (at least
    one snapshot); the rest waits for the next tick. Cheap: no network, no disk, no import."""
    runtime = _runtime
    if runtime is None:
        return None
    deadline = time.perf_counter() + budget
    while True:
        try:
            snapshot = runtime.manager.updates.get_nowait()
        except queue.Empty:
            break
        runtime.unwritten[snapshot.job_id] = snapshot
    taken = 0
    stage_changed = False
    for job_id in list(runtime.unwritten):
        if taken and time.perf_counter() > deadline:
            break
        taken += 1
        snapshot = runtime.unwritten.pop(job_id)
        obj = find_job_object(job_id)
        if obj is None:
            continue
        state = obj.rodin_texture
        stage_changed |= (state.status, state.message) != (snapshot.phase.value, snapshot.message)
        state.write(snapshot)
        runtime.written[job_id] = snapshot
        if snapshot.phase is Phase.DONE:
            runtime.finished.put(job_id)
            _run_on_main_thread(finish_done_jobs)
    balance_arrived = runtime.balance_fetch is not None and not runtime.balance_fetch.is_alive()
    if balance_arrived:
        runtime.balance_fetch = None
    runtime.redraw_due |= bool(taken)
    now = time.monotonic()
    if (
        stage_changed
        or balance_arrived
        or (runtime.redraw_due and now - runtime.last_redraw >= PROGRESS_REDRAW_INTERVAL)
    ):
        runtime.last_redraw, runtime.redraw_due = now, False
        redraw_sidebars()
    busy = (
        runtime.manager.running_count
        or not runtime.manager.updates.empty()
        or runtime.unwritten
        or runtime.redraw_due
        or runtime.balance_fetch is not None
    )
    return PUMP_INTERVAL if busy else None


def finish_done_jobs(every: bool = not TIMERS_FIRE) -> float | None:
    """Load the previews of finished jobs and apply the results that were asked for.

    Runs as a timer (or from the headless loop), not in the pump: it reads files. As a timer,
    one job a call, so results arriving together are imported one main-loop turn apart."""
    runtime = _runtime
    while runtime is not None:
        try:
            job_id = runtime.finished.get_nowait()
        except queue.Empty:
            break
        obj = find_job_object(job_id)
        if obj is None:
            continue
        state = obj.rodin_texture
        _load_preview(state)
        if job_id in runtime.apply_when_done:
            runtime.apply_when_done.discard(job_id)
            try:
                apply_job(bpy.context, obj, *runtime.apply_choices.pop(job_id, ()))
            except USER_FACING_ERRORS as error:
                state.status = Phase.FAILED.value
                state.message = f"Could not apply the result: {error}"
                if isinstance(error, apply.BrokenResult):
                    state.hint = "The downloaded file is broken: press Download Again"
                else:
                    state.hint = "The result is downloaded: fix the cause, then press Apply Result"
            except Exception as error:  # a bug: this job says so, the console has the traceback,
                traceback.print_exc()  # and the other finished jobs go on
                state.status = Phase.FAILED.value
                state.message = f"Could not apply the result: internal error: {error!r}"
                state.hint = "The result is downloaded: press Apply Result to try again"
        if not every:
            break
    redraw_sidebars()
    return 0.0 if runtime is not None and not runtime.finished.empty() else None


def _load_preview(state) -> None:
    """Load a job's preview picture, if it has one on disk, for the panel to show."""
    if state.preview_path and Path(state.preview_path).is_file():
        apply.load_preview(Path(state.preview_path))


def preview_image(path: str) -> bpy.types.Image | None:
    """The loaded preview image of a result, if any (drawing must not load files)."""
    if not path:
        return None
    return next((image for image in bpy.data.images if image.filepath == path), None)


def balance_text() -> str:
    return _runtime.balance if _runtime is not None else ""


def apply_job(
    context, obj, mode: str | None = None, bake_options: bake.BakeOptions | None = None
) -> bpy.types.Object:
    """Put the object's downloaded result in the scene, linked both ways with its source; or,
    in mode ``ORIGINAL``, bake it onto the object's own UVs (with a window, as Blender's
    background bake job: the object has its material when ``bake_job`` says it is done). Mode
    and options default to the panel's. With a window, the change is one undo step."""
    state = obj.rodin_texture
    if not state.model_path or not Path(state.model_path).is_file():
        raise UserError(f"{obj.name} has no downloaded result to apply")
    bake_job.refuse_if_baking(obj)
    panel_mode, panel_options = how_to_apply(context)
    mode = mode or panel_mode
    model = Path(state.model_path)
    try:
        if mode == "ORIGINAL":
            material = state.settings.get("material", contract.Material.PBR)
            options = bake_options or panel_options
            if TIMERS_FIRE:
                bake_job.start(context, obj, model, material, options, on_success=_baked)
            else:
                bake.apply_to_original(context, obj, model, material, options)
            return obj
        result = apply.apply_result(
            context, obj, model, replace=mode == "REPLACE", in_place=not bpy.app.background
        )
    except apply.ApplyError:
        raise
    except RuntimeError as error:  # a Blender operator's failure (import, bake, unwrap, ...)
        step = "baking it onto the original" if mode == "ORIGINAL" else f"importing {model.name}"
        raise apply.ApplyError(f"Blender failed while {step}: {error}") from error
    if result is not obj:
        result.rodin_texture.source_object = obj
        state.result_object = result
    _push_undo_step(obj)
    return result


def _baked(source) -> None:
    """The window's bake is done: the original, textured now, is what shows."""
    pair = source.rodin_texture.result_object
    if pair is not None:
        apply.show_result(bpy.context.view_layer, source, pair, shown=False)
    _push_undo_step(source)


def _push_undo_step(obj) -> None:
    """With a window, one undo step for an applied result (timers make none of their own,
    and a bake's operator ends before the bake does)."""
    if not bpy.app.background:
        bpy.ops.ed.undo_push(message=translations.iface(f"Apply Rodin texture to {obj.name}"))


def find_job_object(job_id: str) -> bpy.types.Object | None:
    runtime = get()
    obj = bpy.data.objects.get(runtime.object_names.get(job_id, ""))
    if obj is not None and obj.rodin_texture.job_id == job_id:
        return obj
    for obj in bpy.data.objects:
        if obj.rodin_texture.job_id == job_id and not copied_job(obj):
            runtime.object_names[job_id] = obj.name
            obj.rodin_texture.owner = obj.name
            return obj
    return None


# --- headless ---------------------------------------------------------------------------------


def wait_for(job_ids: list[str], timeout: float | None = None, log=print) -> None:
    """Run jobs to completion on this thread (background mode, where timers never fire)."""
    runtime = get()
    deadline = None if timeout is None else time.monotonic() + timeout
    shown: dict[str, str] = {}
    while True:
        pump()
        finish_done_jobs()
        for job_id in job_ids:
            obj = find_job_object(job_id)
            if obj is None:
                continue
            line = describe(obj)
            if shown.get(job_id) != line:
                shown[job_id] = line
                log(f"Rodin: {obj.name}: {line}")
        running = [job_id for job_id in job_ids if runtime.manager.is_running(job_id)]
        if not running and runtime.manager.updates.empty():
            pump(budget=math.inf)
            finish_done_jobs()
            return
        if deadline is not None and time.monotonic() > deadline:
            raise UserError("timed out waiting for the texture jobs")
        time.sleep(HEADLESS_POLL_INTERVAL)


def failures(job_ids: list[str]) -> list[str]:
    """``object: why`` for each of the jobs that did not end done."""
    failed = []
    for job_id in job_ids:
        obj = find_job_object(job_id)
        if obj is not None and obj.rodin_texture.phase is not Phase.DONE:
            failed.append(f"{obj.name}: {translations.rpt(describe(obj))}")
    return failed


def describe(obj) -> str:
    """One line for a job's state, as the panel and the headless log show it."""
    state = obj.rodin_texture
    phase = state.phase
    if phase is Phase.UPLOADING:
        return f"uploading {state.progress:.0%}"
    if phase is Phase.DOWNLOADING:
        return f"downloading {state.progress:.0%}"
    if phase is Phase.WAITING and state.queue_length >= 0:
        return f"waiting (queue {state.queue_length})"
    if phase is Phase.FAILED:
        return f"failed: {state.message}"
    return phase.value


# --- balance ----------------------------------------------------------------------------------


_balance_asked = False


def fetch_balance_once(context) -> None:
    """The panel's first draw with online access and a key asks for the balance, once, on a
    worker thread (never on register or file load); a timer starts it, outside the draw."""
    global _balance_asked
    if _balance_asked or why_offline(context):
        return
    _balance_asked = True
    if TIMERS_FIRE:
        bpy.app.timers.register(_fetch_balance_now, first_interval=0.0)


def _fetch_balance_now():
    with contextlib.suppress(UserError):  # out of reach since the draw: the panel says why
        refresh_balance(bpy.context)
    return None


def refresh_balance(context) -> threading.Thread:
    """Ask for the balance on a worker thread; the panel shows it when it arrives."""
    runtime = get()
    client = runtime.client(context)

    def fetch():
        try:
            runtime.balance = f"{client.balance():g} credits"
        except RodinError as error:
            runtime.balance = f"unavailable ({error})"

    thread = threading.Thread(target=fetch, name="rodin-balance", daemon=True)
    runtime.balance_fetch = thread
    thread.start()
    ensure_pump()
    return thread


# --- undo ---------------------------------------------------------------------------------------


@persistent
def keep_jobs_through_undo(*_args):
    """Undo and redo restore the objects as they were at a step, jobs' states too: write back
    what each job of this session last reported, so undoing an applied result removes the
    result, not the task (its id, its downloaded files)."""
    forget_copied_jobs()
    if _runtime is None:
        return
    for obj in bpy.data.objects:
        snapshot = _runtime.written.get(obj.rodin_texture.job_id)
        if snapshot is not None:
            obj.rodin_texture.write(snapshot)
    redraw_sidebars()


# --- copies ----------------------------------------------------------------------------------

_objects_seen = 0


@persistent
def forget_jobs_of_new_copies(*_args):
    """After a change that added objects (a copy made now carries its original's job)."""
    global _objects_seen
    if len(bpy.data.objects) > _objects_seen:
        forget_copied_jobs()
    _objects_seen = len(bpy.data.objects)


# --- file load --------------------------------------------------------------------------------


@persistent
def resume_after_load(*_args):
    """After a file opens: reset steps that cannot survive a restart, resume submitted tasks.

    The network calls run on worker threads, so opening a file never waits on them."""
    forget_copied_jobs()
    for obj in bpy.data.objects:
        state = obj.rodin_texture
        if state.phase is Phase.DONE:
            _load_preview(state)  # images nothing uses are not saved with the file
        interrupted = state.phase is Phase.EXPORTING or (
            state.phase is Phase.UPLOADING and not state.task_uuid
        )
        # After File > Revert during an upload, the upload still goes on: it is not interrupted.
        if interrupted and not is_following(state.job_id):
            state.status = Phase.FAILED.value
            state.message = "Interrupted before the service confirmed the task"
            state.hint = "Generate again (nothing was charged unless the upload had finished)"
    if why_offline(bpy.context):
        return  # the panel says why they are not followed
    for obj in unfinished_objects():
        try:
            resume_job(bpy.context, obj)
        except USER_FACING_ERRORS as error:  # a bad Service URL, say: opening goes on; the
            print(f"Rodin: {obj.name} not resumed: {error}")  # panel says it is not followed
