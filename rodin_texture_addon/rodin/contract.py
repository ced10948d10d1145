"""The Rodin texture-only API contract: one source of truth for its names, enums and limits.

Facts come from ``shared/rodin-api.md``; everything else imports them from here.
"""

from enum import Enum, StrEnum

DEFAULT_BASE_URL = "https://api.hyper3d.com/api/v2"

SUBMIT_ENDPOINT = "rodin_texture_only"
STATUS_ENDPOINT = "status"
DOWNLOAD_ENDPOINT = "download"
BALANCE_ENDPOINT = "check_balance"

CREDITS_PER_TASK = 0.5
MAX_MODEL_BYTES = 10 * 1024 * 1024
# The service documents no limit for the reference image [guess]: this add-on sends at most
# this many pixels (a 4K texture gains nothing from more), refusing larger ones before upload.
MAX_IMAGE_PIXELS = 50_000_000
SEED_MIN, SEED_MAX = 0, 65535
DEFAULT_REFERENCE_SCALE = 1.0
DEFAULT_ESCORE = 3.5

# Pacing of /status, from the newer docs.
FIRST_STATUS_DELAY = 5.0
MAX_STATUS_INTERVAL = 30.0
GENERATION_DEADLINE = 20 * 60.0
# Signed result links expire after 10 minutes; results are kept 7 days.
LINK_LIFETIME = 10 * 60.0
RESULT_RETENTION = 7 * 24 * 3600.0


class Material(StrEnum):
    PBR = "PBR"
    SHADED = "Shaded"


class Resolution(StrEnum):
    BASIC = "Basic"
    HIGH = "High"


class GeometryFormat(StrEnum):
    GLB = "glb"
    USDZ = "usdz"
    FBX = "fbx"
    OBJ = "obj"
    STL = "stl"


class JobStatus(StrEnum):
    WAITING = "Waiting"
    GENERATING = "Generating"
    DONE = "Done"
    FAILED = "Failed"
    CANCELED = "Canceled"


# Values of the ``error`` field that mean success (Deemos' own samples disagree).
SUCCESS_ERROR_VALUES = (None, "", "OK")

# Image types the service takes, recognised by their first bytes, not by their names.
IMAGE_SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "webp": (b"RIFF",),  # plus "WEBP" at offset 8, checked in sniff_image_type
}
IMAGE_MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
MODEL_MIME_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".obj": "model/obj",
    ".fbx": "application/octet-stream",
    ".stl": "model/stl",
    ".usdz": "model/vnd.usdz+zip",
}


def sniff_image_type(head: bytes) -> str | None:
    """The image type of a file from its first 12 bytes, or None when it is not one we accept."""
    if head.startswith(IMAGE_SIGNATURES["png"]):
        return "png"
    if head.startswith(IMAGE_SIGNATURES["jpeg"]):
        return "jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    return None


def allowed_values(enum_type: type[Enum]) -> str:
    return ", ".join(member.value for member in enum_type)
