"""Strict checks of a ``rodin_texture_only`` submit, as the real service makes them."""

import io
import json
from typing import NamedTuple

from flask import Request, jsonify
from PIL import Image

from .glb import Mesh
from .results import load_model

TEXT_FIELDS = (
    "prompt",
    "seed",
    "reference_scale",
    "escore",
    "geometry_file_format",
    "material",
    "resolution",
    "texture_delight",
)
FILE_FIELDS = ("image", "model")
CHOICES = {
    "geometry_file_format": ("glb", "usdz", "fbx", "obj", "stl"),
    "material": ("PBR", "Shaded"),
    "resolution": ("Basic", "High"),
    "texture_delight": ("true", "false"),
}
DEFAULTS = {"geometry_file_format": "glb", "material": "PBR", "resolution": "Basic"}
MAX_MODEL_BYTES = 10 * 1024 * 1024
SEED_MIN, SEED_MAX = 0, 65535
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")


class ApiError(Exception):
    """An application error answer: ``{"error": code, "message": message}`` with a status."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status

    def response(self):
        answer = jsonify(error=self.code, message=self.message)
        answer.status_code = self.status
        return answer


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_REQUEST", message, 400)


class Submission(NamedTuple):
    """A submit that passed every check."""

    settings: dict[str, str]
    image_bytes: bytes
    image_name: str
    image: Image.Image
    model_bytes: bytes
    model_name: str
    mesh: Mesh

    def choice(self, field: str) -> str:
        return self.settings.get(field, DEFAULTS[field])


def check_submit(request: Request) -> Submission:
    """The submit's parts, checked in a fixed order; raises ApiError naming the first problem."""
    if request.mimetype != "multipart/form-data":
        raise invalid(f"the body must be multipart/form-data, not {request.mimetype or 'empty'}")
    for name in TEXT_FIELDS:
        if name in request.files:
            raise invalid(f"{name} must be a plain form field, not a file part")
    for name in FILE_FIELDS:
        if name in request.form:
            raise invalid(f"{name} must be a file part, not a text field")
        if len(request.files.getlist(name)) != 1:
            raise invalid(f"{name} is required: exactly one file part")
    settings = request.form.to_dict()
    for field, allowed in CHOICES.items():
        if field in settings and settings[field] not in allowed:
            raise invalid(f"{field} must be one of {', '.join(allowed)}, not {settings[field]!r}")
    if "seed" in settings:
        seed = js_number("seed", settings["seed"])
        if not (float(seed).is_integer() and SEED_MIN <= seed <= SEED_MAX):
            raise invalid(
                f"seed must be a whole number from {SEED_MIN} to {SEED_MAX}, "
                f"not {settings['seed']!r}"
            )
    for field in ("reference_scale", "escore"):
        if field in settings:
            js_number(field, settings[field])

    model = request.files["model"]
    model_bytes = model.read()
    if len(model_bytes) > MAX_MODEL_BYTES:
        raise invalid(f"model is larger than 10 MB ({len(model_bytes)} bytes)")
    image = request.files["image"]
    image_bytes = image.read()
    try:
        picture = Image.open(io.BytesIO(image_bytes))
        picture.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise invalid("image is not a readable PNG, JPEG or WebP image") from None
    if picture.format not in IMAGE_FORMATS:
        raise invalid(f"image must be a PNG, JPEG or WebP image, not {picture.format}")
    try:
        mesh = load_model(model_bytes)
    except ValueError as exc:
        raise invalid(f"model is not a usable GLB or OBJ file: {exc}") from None
    return Submission(
        settings, image_bytes, image.filename, picture, model_bytes, model.filename, mesh
    )


def js_number(field: str, text: str) -> float:
    """A numeric field parsed as the service's Node backend does (JSON.parse): text that is not
    JSON is an HTTP 500 with V8's SyntaxError message; JSON that is not a number is a 400."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            message = f"Unexpected non-whitespace character after JSON at position {exc.pos}"
        elif exc.pos >= len(text.rstrip()):
            message = "Unexpected end of JSON input"
        else:
            message = f"Unexpected token '{text[exc.pos]}', \"{text}\" is not valid JSON"
        raise ApiError("UNKNOWN", message, 500) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{field} must be a number, not {text!r}")
    return value


def _no_constant(name: str):
    """JSON.parse knows no NaN or Infinity."""
    raise json.JSONDecodeError("Expecting value", name, 0)
