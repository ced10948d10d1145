"""An image's size in pixels, read from its header alone (PNG, JPEG, WebP): a reference image
too large to send is refused before anything is uploaded, without decoding it."""

import struct
from typing import BinaryIO

JPEG_SIZE_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
MAX_JPEG_SEGMENTS = 1000


def image_size(file: BinaryIO, image_type: str) -> tuple[int, int] | None:
    """(width, height) from the header of an image of ``image_type`` (as ``sniff_image_type``
    names it), or None when the header does not say."""
    file.seek(0)
    if image_type == "png":
        head = file.read(24)
        return struct.unpack(">II", head[16:24]) if head[12:16] == b"IHDR" else None
    if image_type == "jpeg":
        return _jpeg_size(file)
    if image_type == "webp":
        return _webp_size(file.read(30))
    return None


def _jpeg_size(file: BinaryIO) -> tuple[int, int] | None:
    """The frame's size, from the first start-of-frame segment (segments before it skipped)."""
    file.seek(2)
    for _ in range(MAX_JPEG_SEGMENTS):
        marker = file.read(2)
        while len(marker) == 2 and marker[0] == 0xFF and marker[1] == 0xFF:  # fill bytes
            marker = marker[1:] + file.read(1)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        length_bytes = file.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if marker[1] in JPEG_SIZE_MARKERS:
            frame = file.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        file.seek(length - 2, 1)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None
