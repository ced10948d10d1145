"""The reference image as a file the client can upload."""

from pathlib import Path

import bpy
import numpy as np

from ..rodin import contract
from .errors import UserError

# Formats the service takes; anything else is written out as PNG.
UPLOADABLE_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


def upload_path(image: bpy.types.Image | None, folder: Path) -> Path:
    """The image's own file when it is on disk in a format the service takes, else a copy of
    its pixels written in ``folder`` (the caller's to remove).

    Packed and generated images live only inside Blender, and EXR, HDR, TIFF, BMP and the other
    formats Blender reads are not the service's: they are saved as a copy (as PNG, high dynamic
    range tone-mapped), so the image keeps its own path and format."""
    if image is None:
        raise UserError("Pick a reference image (or give image_path)")
    path = Path(bpy.path.abspath(image.filepath, library=image.library))
    on_disk = image.source == "FILE" and not image.packed_file and image.filepath
    if on_disk and path.is_file():
        if _service_takes(path) or 0 in image.size:  # not even Blender reads it: the client
            return path  # says which formats the service takes
    elif not image.has_data and not (image.packed_file or image.source == "GENERATED"):
        raise UserError(f"The image {image.name} has no pixels (its file is missing)")
    suffix = UPLOADABLE_FORMATS.get(image.file_format, ".png")
    copy = folder / (bpy.path.clean_name(image.name) + suffix)
    _save_copy(image, copy, "PNG" if suffix == ".png" else image.file_format)
    return copy


def file_upload_path(path: Path, folder: Path) -> Path:
    """``path`` when the service takes it as it is (or it is no image at all: the client says
    so), else a PNG copy written in ``folder``, as for an image picked in the panel."""
    if not path.is_file() or _service_takes(path):
        return path
    try:
        image = bpy.data.images.load(str(path), check_existing=False)
    except RuntimeError:  # not an image Blender reads either
        return path
    try:
        return upload_path(image, folder)
    finally:
        bpy.data.images.remove(image)


def _service_takes(path: Path) -> bool:
    with path.open("rb") as file:
        return contract.sniff_image_type(file.read(12)) is not None


def tone_mapped(rgb: np.ndarray) -> np.ndarray:
    """Scene-linear colours brought into 0-1 for an 8-bit file: unchanged where none is over 1,
    else Reinhard's curve with white at the brightest 0.1 %."""
    white = float(np.percentile(rgb, 99.9)) if rgb.size else 0.0
    if white <= 1.0:
        return rgb
    return rgb * (1.0 + rgb / white**2) / (1.0 + rgb)


def _save_copy(image: bpy.types.Image, path: Path, file_format: str) -> None:
    """Write ``image``'s pixels to ``path`` through a throw-away image, so the user's image keeps
    its path, format, source and packing (``Image.save(save_copy=True)`` needs Blender 4.4)."""
    width, height = image.size
    channels = image.channels
    pixels = np.empty(width * height * channels, np.float32)
    image.pixels.foreach_get(pixels)
    rgba = np.ones((width * height, 4), np.float32)
    rgba[:, :3] = pixels.reshape(-1, channels)[:, [0, 0, 0] if channels < 3 else [0, 1, 2]]
    if image.is_float:
        rgba[:, :3] = tone_mapped(rgba[:, :3])
    if channels in (2, 4):
        rgba[:, 3] = pixels.reshape(-1, channels)[:, -1]
    copy = bpy.data.images.new(
        "rodin-upload-copy", width, height, alpha=True, float_buffer=image.is_float
    )
    try:
        copy.colorspace_settings.name = image.colorspace_settings.name
        copy.pixels.foreach_set(rgba.ravel())
        copy.filepath_raw = str(path)
        copy.file_format = file_format
        copy.save()
    finally:
        bpy.data.images.remove(copy)
