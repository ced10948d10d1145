"""The reference image as a file the client can upload."""

from pathlib import Path

import bpy
import numpy as np

from .runtime import UserError

# Formats the service takes; anything else is written out as PNG.
UPLOADABLE_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


def upload_path(image: bpy.types.Image | None, folder: Path) -> Path:
    """The image's own file when it is on disk, else a copy of its pixels written in ``folder``
    (the caller's to remove).

    Packed and generated images live only inside Blender; they are saved as a copy, so the
    image keeps its own path and format."""
    if image is None:
        raise UserError("Pick a reference image (or give image_path)")
    if image.source == "FILE" and not image.packed_file and image.filepath:
        path = Path(bpy.path.abspath(image.filepath, library=image.library))
        if path.is_file():
            return path
    if not image.has_data and not (image.packed_file or image.source == "GENERATED"):
        raise UserError(f"The image {image.name} has no pixels (its file is missing)")
    suffix = UPLOADABLE_FORMATS.get(image.file_format, ".png")
    path = folder / (bpy.path.clean_name(image.name) + suffix)
    _save_copy(image, path, "PNG" if suffix == ".png" else image.file_format)
    return path


def _save_copy(image: bpy.types.Image, path: Path, file_format: str) -> None:
    """Write ``image``'s pixels to ``path`` through a throw-away image, so the user's image keeps
    its path, format, source and packing (``Image.save(save_copy=True)`` needs Blender 4.4)."""
    width, height = image.size
    channels = image.channels
    pixels = np.empty(width * height * channels, np.float32)
    image.pixels.foreach_get(pixels)
    rgba = np.ones((width * height, 4), np.float32)
    rgba[:, :3] = pixels.reshape(-1, channels)[:, [0, 0, 0] if channels < 3 else [0, 1, 2]]
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
