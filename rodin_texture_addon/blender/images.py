"""The reference image as a file the client can upload."""

from pathlib import Path

import bpy

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
    suffix = UPLOADABLE_FORMATS.get(image.file_format)
    original_format = image.file_format
    if suffix is None:
        image.file_format, suffix = "PNG", ".png"
    path = folder / (bpy.path.clean_name(image.name) + suffix)
    try:
        image.save(filepath=str(path), save_copy=True)
    finally:
        image.file_format = original_format
    return path
