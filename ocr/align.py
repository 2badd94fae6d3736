"""Finding the page: ArUco corner markers → homography → the page warped to the template frame.

Marker ids fix the orientation, so a page photographed sideways or upside down lands upright.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ocr import layout

READ_PX_PER_MM = 4.0
READ_SIZE = (round(layout.PAGE_W_MM * READ_PX_PER_MM), round(layout.PAGE_H_MM * READ_PX_PER_MM))


@functools.lru_cache(maxsize=1)
def _detector() -> cv2.aruco.ArucoDetector:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    # One thresholding window (25 px) instead of three (3, 13, 23) or two (5, 25): the markers
    # in 75% of the two windows' time (6.1 → 4.5 ms a 1280 px photo); bench/ocr.py seeds 7–9
    # read as with two windows (silent errors, refusals, right within 0.05 pt; one hard photo
    # read that two refused), the same corners on all but a few photos (bench/ocr_same.py: 73
    # of 413 photos moved, 1 value, 6 flags of 8,508 fields).
    params.adaptiveThreshWinSizeMin, params.adaptiveThreshWinSizeMax = 25, 25
    params.adaptiveThreshWinSizeStep = 20
    # Contours shorter than 6% of the image's long side are no marker we could use (at the
    # 1.8 px/mm "too far" limit ours are 7% or more even on a 1600 px photo): skipping them
    # gave the very same corners on 525 bench photos in 90% of the time (default 3%).
    params.minMarkerPerimeterRate = 0.06
    return cv2.aruco.ArucoDetector(dictionary, params)


@dataclass(frozen=True)
class Alignment:
    homography: np.ndarray  # photo pixels → read-frame pixels
    markers: tuple[int, ...]  # ids found
    rotation: int  # how far the page is turned clockwise in the photo: 0, 90, 180 or 270
    px_per_mm: float = 0.0  # the photo's resolution on the page (its shorter-sided estimate)

    def inverse(self) -> np.ndarray:
        return np.linalg.inv(self.homography)


DETECT_LONG_SIDE = 800  # markers are found on a smaller copy, then refined at full size (640
# px found as many in 60% of the time, but their corners cost 0.5% of values on hard photos)


def _detect(gray: np.ndarray) -> dict[int, np.ndarray]:
    corners, ids, _rejected = _detector().detectMarkers(gray)
    found: dict[int, np.ndarray] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel(), strict=True):
        marker = int(marker_id)
        if marker in layout.MARKER_IDS and marker not in found:
            found[marker] = quad.reshape(4, 2).astype(np.float32)
    return found


def detect_markers(gray: np.ndarray) -> dict[int, np.ndarray]:
    """Our marker ids → their 4 corners (4×2, photo pixels); other ids and duplicates dropped."""
    scale = DETECT_LONG_SIDE / max(gray.shape[:2])
    if scale >= 0.9:
        return _detect(gray)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = _detect(small)
    if len(found) < 4:
        full = _detect(gray)
        if len(full) > len(found):
            return full
    if not found:
        return found
    points = np.concatenate([found[i] for i in sorted(found)]) / scale
    window = max(2, round(0.6 / scale))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05)
    refined = cv2.cornerSubPix(gray, points.reshape(-1, 1, 2).astype(np.float32),
                               (window, window), (-1, -1), criteria).reshape(-1, 4, 2)
    return {i: quad for i, quad in zip(sorted(found), refined, strict=True)}


def align(markers: dict[int, np.ndarray]) -> Alignment | None:
    """The homography from at least three markers (12 corners), or None."""
    if len(markers) < 3:
        return None
    template = layout.marker_corners()
    src = np.concatenate([markers[i] for i in sorted(markers)])
    dst = np.array(
        [p for i in sorted(markers) for p in template[i]], np.float32
    ) * READ_PX_PER_MM
    homography, _mask = cv2.findHomography(src, dst, 0)
    if homography is None or not np.isfinite(homography).all():
        return None
    try:
        inverse = np.linalg.inv(homography)
    except np.linalg.LinAlgError:
        return None
    # The page must come out as a plausible convex quadrilateral (not markers of two sheets).
    w, h = READ_SIZE
    page = cv2.perspectiveTransform(
        np.array([[[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]]), inverse
    )[0].astype(np.float32)
    if not cv2.isContourConvex(page) or cv2.contourArea(page) < 0.01 * w * h:
        return None
    # Orientation: where the page's "up" points in the photo.
    top = cv2.perspectiveTransform(np.array([[[420.0, 100.0], [420.0, 1000.0]]]), inverse)[0]
    dx, dy = top[0] - top[1]
    angle = (np.degrees(np.arctan2(dx, -dy)) + 360) % 360
    rotation = round(angle / 90.0) % 4 * 90
    top, right, bottom, left = np.linalg.norm(np.roll(page, -1, axis=0) - page, axis=1)
    scale = min((top + bottom) / 2 / layout.PAGE_W_MM, (left + right) / 2 / layout.PAGE_H_MM)
    return Alignment(homography, tuple(sorted(markers)), rotation, float(scale))


def warp(image: np.ndarray, alignment: Alignment, px_per_mm: float = READ_PX_PER_MM,
         rect_mm: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """The page (or the `rect_mm` part of it) in the template frame at `px_per_mm`."""
    matrix, size = _frame(alignment, px_per_mm, rect_mm)
    if image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8:
        return cv2.cvtColor(_warp_bgra(image, matrix, size), cv2.COLOR_BGRA2BGR)
    return cv2.warpPerspective(image, matrix, size, **_WARP_FLAGS)


def warp_page_bgra(image: np.ndarray, alignment: Alignment) -> np.ndarray:
    """`warp(image, alignment)` of a BGR photo as BGRA (alpha 255 wherever the photo reached),
    in this thread's scratch array: valid until the thread's next warp of a colour photo. The
    reader's page, which it reads, greys and draws on as is: no 3 MB copy back to 3 channels."""
    return _warp_bgra(image, *_frame(alignment, READ_PX_PER_MM, None))


def _frame(alignment: Alignment, px_per_mm: float,
           rect_mm: tuple[float, float, float, float] | None) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo → output homography and the output size of a warp."""
    x, y, w, h = rect_mm or (0.0, 0.0, layout.PAGE_W_MM, layout.PAGE_H_MM)
    scale = px_per_mm / READ_PX_PER_MM
    shift = np.array(
        [[scale, 0, -x * px_per_mm], [0, scale, -y * px_per_mm], [0, 0, 1]], np.float64
    )
    return shift @ alignment.homography, (round(w * px_per_mm), round(h * px_per_mm))


_WARP_FLAGS = {"flags": cv2.INTER_LINEAR, "borderMode": cv2.BORDER_CONSTANT, "borderValue": 0}


def _warp_bgra(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # OpenCV warps 4 channels in about half the time of 3, to the same pixels; the 4-channel
    # copies go to per-thread scratch arrays (fresh 5 MB arrays cost page faults per page).
    bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA, dst=_scratch("photo", image.shape[:2]))
    return cv2.warpPerspective(bgra, matrix, size, dst=_scratch("page", size[::-1]),
                               **_WARP_FLAGS)


_SCRATCH = threading.local()


def _scratch(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A 4-channel uint8 array of `shape` for this thread, reused while the size stays."""
    arrays: dict[str, np.ndarray] = _SCRATCH.__dict__.setdefault("arrays", {})
    array = arrays.get(name)
    if array is None or array.shape[:2] != tuple(shape):
        array = arrays[name] = np.empty((*shape, 4), np.uint8)
    return array


def visible(alignment: Alignment, photo_shape: tuple[int, ...],
            rects_mm: list[tuple[float, float, float, float]], margin_px: float = 2.0) -> bool:
    """True when every rectangle of the page lies inside the photo."""
    if not rects_mm:
        return True
    corners = []
    for x, y, w, h in rects_mm:
        corners += [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]
    pts = np.array([corners], np.float64) * READ_PX_PER_MM
    photo = cv2.perspectiveTransform(pts, alignment.inverse())[0]
    height, width = photo_shape[:2]
    return bool(
        (photo[:, 0] >= margin_px).all()
        and (photo[:, 1] >= margin_px).all()
        and (photo[:, 0] <= width - 1 - margin_px).all()
        and (photo[:, 1] <= height - 1 - margin_px).all()
    )
