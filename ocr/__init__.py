"""Reading photos of the tally form (C.Hasil): printable forms, alignment, digits, bubbles.

Public API: `ocr.reader.read_photo(data, lookup)` → `ReadResult` (one page);
`ocr.assemble.assemble(template, pages, registered)` → the whole form from its pages, with the
rules across pages (`ocr.formrules`) and the pages still missing; `ocr.templates.template_for`
and `DbLookup`/`StaticLookup` (the `FormLookup` the reader needs); `ocr.hints.hint(code, lang)`;
`ocr.render` for printable forms. See DESIGN §7.
"""

import os

# OpenCV's own decompression-bomb limit, effective only if this runs before `import cv2`; the
# reader checks the pixel count from the header with Pillow first in any case (ocr.photo).
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", "50000000")
