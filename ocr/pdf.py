"""A minimal PDF writer for palette page images: lossless (Flate), small, and streamed.

Pillow writes palette images to PDF as ASCII hex (17 MB an A4 page at 300 dpi) and RGB as JPEG
(blurs QR modules); a printed form wants neither, so each page becomes one Indexed image here.
Pages are written as they come, so a whole regency's forms fit in one file in constant memory.
A page of at most four colours (the forms' palette) is packed at 2 bits a pixel: a quarter of the
bytes to compress, which is most of the time a page takes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image


def pack(image: Image.Image) -> tuple[int, bytes]:
    """(bits per pixel, rows as PDF wants them): 2 bits, rows padded to a whole byte, the
    leftmost pixel in the high bits, when every index is below 4; else 8 bits."""
    index = np.asarray(image, dtype=np.uint8)
    if index.max(initial=0) >= 4:
        return 8, index.tobytes()
    height, width = index.shape
    padded = np.zeros((height, -(-width // 4) * 4), np.uint8)
    padded[:, :width] = index
    quads = padded.reshape(height, -1, 4)
    packed = (quads[..., 0] << 6) | (quads[..., 1] << 4) | (quads[..., 2] << 2) | quads[..., 3]
    return 2, packed.astype(np.uint8).tobytes()


def write_pdf(pages: Iterable[Image.Image], path: Path, dpi: float) -> int:
    """Write mode-"P" `pages` to `path` at `dpi`; returns the number of pages."""
    offsets: dict[int, int] = {}
    kids: list[int] = []
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

        def put(number: int, body: bytes) -> None:
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

        next_number = 3  # 1 catalog, 2 page tree (written last)
        for image in pages:
            if image.mode != "P":
                raise ValueError("pages must be palette images")
            width, height = image.size
            palette = (image.getpalette() or [])[:768]
            bits, raw = pack(image)
            data = zlib.compress(raw, 6)
            xobject, content, page = next_number, next_number + 1, next_number + 2
            next_number += 3
            put(
                xobject,
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                b"/ColorSpace [/Indexed /DeviceRGB %d <%s>] /BitsPerComponent %d "
                b"/Filter /FlateDecode /Length %d >>\nstream\n"
                % (width, height, len(palette) // 3 - 1, bytes(palette).hex().encode(), bits,
                   len(data))
                + data
                + b"\nendstream",
            )
            w_pt, h_pt = width * 72.0 / dpi, height * 72.0 / dpi
            stream = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (w_pt, h_pt)
            put(content, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
            put(
                page,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
                b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                % (w_pt, h_pt, xobject, content),
            )
            kids.append(page)
        put(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        put(2, b"<< /Type /Pages /Kids [%s] /Count %d >>"
            % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % next_number)
        for number in range(1, next_number):
            out.write(b"%010d 00000 n \n" % offsets[number])
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                  % (next_number, xref))
    return len(kids)
