"""Safe decoding: byte and pixel limits, decompression bombs, non-images, EXIF orientation."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from ocr.photo import WORK_LONG_SIDE, PhotoError, decode_photo


def _jpeg(width: int, height: int, **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(out, "JPEG", **save)
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge image: the decompression-bomb shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _code(data: bytes, **kw: int) -> str:
    with pytest.raises(PhotoError) as refused:
        decode_photo(data, **kw)
    return refused.value.code


def test_refuses_over_the_byte_limit_before_looking_inside() -> None:
    assert _code(b"\xff\xd8" + b"\0" * 2000, max_bytes=1000) == "too_large"


def test_refuses_a_decompression_bomb_from_its_header() -> None:
    bomb = _png_header_only(30000, 30000)
    assert len(bomb) < 2000
    assert _code(bomb) == "too_many_pixels"
    assert _code(_jpeg(300, 300), max_pixels=50_000) == "too_many_pixels"


@pytest.mark.parametrize("data", [b"", b"hello, not a photo", b"GIF89a" + b"\0" * 40])
def test_refuses_what_is_not_a_photo(data: bytes) -> None:
    assert _code(data) == "not_an_image"


def test_refuses_a_truncated_jpeg_that_opencv_cannot_decode() -> None:
    assert _code(_jpeg(200, 100)[:200]) == "not_an_image"


def test_large_photos_come_out_at_the_working_size() -> None:
    image = decode_photo(_jpeg(4000, 3000))
    assert max(image.shape[:2]) == WORK_LONG_SIDE and image.shape[2] == 3


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = decode_photo(_jpeg(200, 100, exif=exif.tobytes()))
    assert image.shape[:2] == (200, 100)
    plain = decode_photo(cv2.imencode(".png", np.zeros((10, 30, 3), np.uint8))[1].tobytes())
    assert plain.shape[:2] == (10, 30)
