"""What goes to the service and what comes back, checked: the texture request and its
validation, the submitted task, the status report, the listed result files and which of them is
the model. No network: the client (``client``) sends and receives these."""

import math
import struct
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from . import contract
from .contract import GeometryFormat, JobStatus, Material, Resolution
from .errors import InvalidInput, ServiceError
from .files import safe_file_name


@dataclass
class TextureRequest:
    """Everything one ``rodin_texture_only`` call sends. ``validate`` checks it all locally."""

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

    def validate(self) -> str:
        """Raise ``InvalidInput`` naming the first bad field; return the image type."""
        self.image_path = Path(self.image_path)
        self.model_path = Path(self.model_path)
        self.geometry_file_format = _enum_value(
            "geometry_file_format", GeometryFormat, self.geometry_file_format
        )
        self.material = _enum_value("material", Material, self.material)
        self.resolution = _enum_value("resolution", Resolution, self.resolution)
        if self.seed is not None and (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not contract.SEED_MIN <= self.seed <= contract.SEED_MAX
        ):
            raise InvalidInput(
                "seed",
                f"must be a whole number from {contract.SEED_MIN} to {contract.SEED_MAX}, "
                f"not {self.seed!r}",
            )
        if self.reference_scale is not None:
            _check_number("reference_scale", self.reference_scale, zero_allowed=False)
        if self.escore is not None:
            _check_number("escore", self.escore, zero_allowed=True)
        if self.texture_delight is not None and not isinstance(self.texture_delight, bool):
            raise InvalidInput("texture_delight", "must be true or false")
        if not isinstance(self.prompt, str):
            raise InvalidInput("prompt", "must be text")
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
        return image_type

    def form_fields(self) -> dict[str, str]:
        """The text fields, as the plain form values the service expects."""
        fields = {
            "geometry_file_format": GeometryFormat(self.geometry_file_format).value,
            "material": Material(self.material).value,
            "resolution": Resolution(self.resolution).value,
        }
        if self.prompt:
            fields["prompt"] = self.prompt
        if self.seed is not None:
            fields["seed"] = str(self.seed)
        if self.reference_scale is not None:
            fields["reference_scale"] = _number_text(self.reference_scale)
        if self.escore is not None:
            fields["escore"] = _number_text(self.escore)
        if self.texture_delight is not None:
            fields["texture_delight"] = "true" if self.texture_delight else "false"
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


def _enum_value(field_name: str, enum_type: type[Enum], value) -> Enum:
    """The enum member for a value, matched case-insensitively; the allowed values otherwise."""
    for member in enum_type:
        if value is member or (isinstance(value, str) and value.lower() == member.value.lower()):
            return member
    raise InvalidInput(field_name, f"{value!r} is not one of: {contract.allowed_values(enum_type)}")


def _check_number(field_name: str, value, *, zero_allowed: bool):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field_name, f"must be a number, not {value!r}")
    if zero_allowed and value < 0:
        raise InvalidInput(field_name, f"must be 0 or more, not {_number_text(value)}")
    if not zero_allowed and value <= 0:
        raise InvalidInput(field_name, f"must be greater than 0, not {_number_text(value)}")


def _number_text(value: float) -> str:
    """The number as a person wrote it. Blender's float properties hold 32 bits, so a 0.01 typed
    in Blender arrives as 0.009999999776482582: such a value is written as the shortest decimal
    with the same 32-bit value."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    single = struct.unpack("f", struct.pack("f", value))[0]
    if single == value:
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
                return text
    return repr(value)


def _read_head(field_name: str, path: Path, *, limit: int | None = None) -> bytes:
    """The first bytes of an input file, after checking it exists, is readable and fits."""
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
