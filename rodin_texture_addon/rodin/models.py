"""What goes to the service and what comes back, checked: the texture request and its
validation, the submitted task, the status report, the listed result files and which of them is
the model. No network: the client (``client``) sends and receives these."""

from dataclasses import dataclass
from pathlib import Path

from . import contract
from .contract import GeometryFormat, JobStatus, Material, Resolution
from .errors import InvalidInput, ServiceError
from .files import not_a_file_problem, safe_file_name
from .image_header import image_size
from .texture_settings import REQUEST_SETTINGS


@dataclass
class TextureRequest:
    """Everything one ``rodin_texture_only`` call sends: the two files, and a field for each
    setting of ``texture_settings.REQUEST_SETTINGS`` (None: not sent). ``validate`` checks it
    all locally."""

    image_path: Path
    model_path: Path
    prompt: str = ""
    seed: int | None = None
    reference_scale: float | None = None
    escore: float | None = None
    geometry_file_format: GeometryFormat | str = GeometryFormat.GLB
    material: Material | str = Material.PBR
    resolution: Resolution | str = Resolution.BASIC
    texture_delight: bool | None = None

    def check_settings(self) -> None:
        """Raise ``InvalidInput`` naming the first bad setting (the files are not read)."""
        for setting in REQUEST_SETTINGS:
            setattr(self, setting.name, setting.check(getattr(self, setting.name)))

    def validate(self) -> str:
        """Raise ``InvalidInput`` naming the first bad field; return the image type."""
        self.image_path = Path(self.image_path)
        self.model_path = Path(self.model_path)
        self.check_settings()
        model_head = _read_head("model", self.model_path, limit=contract.MAX_MODEL_BYTES)
        if self.model_path.suffix.lower() == ".glb" and not model_head.startswith(b"glTF"):
            raise InvalidInput("model", f"{self.model_path.name} is not a binary glTF (GLB) file")
        image_type = contract.sniff_image_type(_read_head("image", self.image_path))
        if image_type is None:
            raise InvalidInput(
                "image",
                f"{self.image_path.name} is not a PNG, JPEG or WebP image "
                "(checked by its content, not its name)",
            )
        _check_image_size(self.image_path, image_type)
        return image_type

    def form_fields(self) -> dict[str, str]:
        """The text fields, as the plain form values the service expects (of a validated
        request)."""
        fields = {}
        for setting in REQUEST_SETTINGS:
            value = setting.form_value(getattr(self, setting.name))
            if value is not None:
                fields[setting.name] = value
        return fields


@dataclass(frozen=True)
class SubmittedTask:
    task_uuid: str
    subscription_key: str
    job_uuids: tuple[str, ...]
    submit_time: str = ""
    consumed: float | None = None


@dataclass(frozen=True)
class JobState:
    uuid: str
    status: str
    queue_length: int | None = None


@dataclass(frozen=True)
class StatusReport:
    """The answer of ``/status``: done only when every job is Done, failed when any job fails."""

    jobs: tuple[JobState, ...]

    @property
    def done(self) -> bool:
        return bool(self.jobs) and all(job.status == JobStatus.DONE.value for job in self.jobs)

    @property
    def failure(self) -> str | None:
        """Why the task failed, or None while it has not."""
        known = {status.value for status in JobStatus}
        for job in self.jobs:
            if job.status == JobStatus.FAILED.value:
                return "the service reported the generation as Failed (it gives no reason)"
            if job.status == JobStatus.CANCELED.value:
                return "the service cancelled the generation"
            if job.status not in known:
                return f"the service reported an unknown status {job.status!r}"
        return None

    @property
    def phase(self) -> JobStatus:
        """The least advanced phase among the jobs (Waiting when no job is listed yet)."""
        statuses = {job.status for job in self.jobs}
        if not statuses or JobStatus.WAITING.value in statuses:
            return JobStatus.WAITING
        if statuses == {JobStatus.DONE.value}:
            return JobStatus.DONE
        return JobStatus.GENERATING

    @property
    def queue_length(self) -> int | None:
        lengths = [job.queue_length for job in self.jobs if job.queue_length is not None]
        return max(lengths) if lengths else None


@dataclass(frozen=True)
class ResultFile:
    """One listed file. ``file_name`` is its local name: the server's ``name`` (or the one
    given) reduced to a safe base name; ``list_results`` makes those unique in a listing."""

    url: str
    name: str
    file_name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "file_name", safe_file_name(self.file_name or self.name))


def choose_model_file(
    files: list[ResultFile], geometry_format: GeometryFormat | str
) -> ResultFile | None:
    """The returned model: the first file of the requested format that is not a preview."""
    suffix = "." + GeometryFormat(geometry_format).value
    for result in files:
        name = result.file_name.lower()
        if name.endswith(suffix) and "preview" not in name:
            return result
    return None


def choose_preview(files: list[ResultFile]) -> ResultFile | None:
    return next((result for result in files if "preview" in result.file_name.lower()), None)


def job_state(job) -> JobState:
    """One job of a ``/status`` answer."""
    if not isinstance(job, dict):
        raise ServiceError("the status answer has a job that is not an object")
    queue_length = job.get("queue_length")
    return JobState(
        uuid=str(job.get("uuid") or ""),
        status=str(job.get("status")),
        queue_length=queue_length if isinstance(queue_length, int) else None,
    )


def _check_image_size(path: Path, image_type: str) -> None:
    with path.open("rb") as file:
        size = image_size(file, image_type)
    if size is None or size[0] * size[1] <= contract.MAX_IMAGE_PIXELS:
        return
    width, height = size
    raise InvalidInput(
        "image",
        f"{path.name} is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
        f"the service documents no limit, and this add-on sends at most "
        f"{contract.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels: scale the image down (the texture "
        "made is at most 4096 pixels a side)",
    )


def _read_head(field_name: str, path: Path, *, limit: int | None = None) -> bytes:
    """The first bytes of an input file, after checking it exists, is readable and fits."""
    problem = not_a_file_problem(path)
    if problem:
        raise InvalidInput(field_name, problem)
    if not path.is_file():
        raise InvalidInput(field_name, f"file not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(field_name, f"{path.name} is empty")
    if limit is not None and size > limit:
        raise InvalidInput(
            field_name,
            f"{path.name} is {size / 2**20:.1f} MB; the service takes at most "
            f"{limit / 2**20:.0f} MB",
        )
    try:
        with path.open("rb") as file:
            return file.read(12)
    except OSError as exc:
        raise InvalidInput(field_name, f"cannot read {path.name}: {exc.strerror}") from None
