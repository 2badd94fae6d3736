"""The reader's stages one by one: markers and homography, darkness and bubbles, glyphs, the
numpy classifier, quality verdicts."""

from __future__ import annotations

import cv2
import numpy as np

from ocr import align, classifier, glyph, layout, marks, quality
from ocr.annotate import annotate
from ocr.reader import FieldReading
from ocr.render import TpsInfo, render_page
from tests.ocr_support import TPS, demo_templates

DPI = 4.0 * 25.4  # render straight at the reader's frame resolution


def _page_bgr() -> np.ndarray:
    image = render_page(demo_templates()["PPWP"], 1, TpsInfo(TPS), dpi=DPI).convert("RGB")
    return cv2.cvtColor(np.array(image), cv2.COLOR_RGB2BGR)


def _photo(page: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The page rotated by `angle` degrees and shrunk onto a grey table; and that transform."""
    h, w = page.shape[:2]
    out = (1100, 1100)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 0.8)
    m[:, 2] += np.array(out) / 2 - np.array([w / 2, h / 2])
    photo = cv2.warpAffine(page, m, out, borderValue=(90, 90, 90))
    return photo, np.vstack([m, [0, 0, 1]])


def test_markers_give_the_page_back_in_the_template_frame_whatever_its_rotation() -> None:
    page = _page_bgr()
    # getRotationMatrix2D turns counter-clockwise; `rotation` is clockwise.
    for angle, rotation in ((0, 0), (17, 0), (90, 270), (180, 180), (-95, 90)):
        photo, transform = _photo(page, angle)
        found = align.detect_markers(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
        assert sorted(found) == [0, 1, 2, 3], angle
        alignment = align.align(found)
        assert alignment is not None and alignment.rotation == rotation, angle
        assert abs(alignment.px_per_mm - 0.8 * align.READ_PX_PER_MM) < 0.05
        # A box centre maps back to where the template puts it (within 1 px = 0.25 mm).
        x, y, w, h = layout.digit_geometry(3)[2].box
        centre = np.array([[[(x + w / 2) * 4, (y + h / 2) * 4]]])
        in_photo = cv2.perspectiveTransform(centre, transform)
        back = cv2.perspectiveTransform(in_photo, alignment.homography)
        assert np.abs(back - centre).max() < 1.0, angle


def test_one_thresholding_window_finds_the_markers_of_a_shaded_page() -> None:
    """The detector thresholds once (a 25 px window): a page in steep uneven light, darker
    towards two corners, still gives its four markers."""
    params = align._detector().getDetectorParameters()
    assert params.adaptiveThreshWinSizeMin == params.adaptiveThreshWinSizeMax == 25
    page = _page_bgr()
    h, w = page.shape[:2]
    shade = np.minimum(np.linspace(0.35, 1.0, w)[None, :], np.linspace(1.0, 0.4, h)[:, None])
    photo, _ = _photo((page * shade[..., None]).astype(np.uint8), 9)
    photo = cv2.resize(photo, (1280, 1280), interpolation=cv2.INTER_LINEAR)  # the 800 px copy
    assert sorted(align.detect_markers(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))) == [0, 1, 2, 3]


def test_three_markers_still_align_and_two_do_not() -> None:
    found = align.detect_markers(cv2.cvtColor(_photo(_page_bgr(), 5)[0], cv2.COLOR_BGR2GRAY))
    assert align.align({k: found[k] for k in (0, 1, 2)}) is not None
    assert align.align({k: found[k] for k in (0, 2)}) is None


def test_darkness_ignores_dropout_print_and_shadow_but_not_ink() -> None:
    page = _page_bgr()
    f = demo_templates()["PPWP"].fields[0]
    digit = f.digits()[2]
    cx, cy = (np.array(digit.bubbles[7]) * 4).round().astype(int)
    cv2.circle(page, (int(cx), int(cy)), 5, (150, 60, 40), -1)  # a blue mark on bubble 7
    shade = np.linspace(0.45, 1.0, page.shape[1])[None, :, None]
    dark = marks.darkness((page * shade).astype(np.uint8)[:, :, 2])
    fills = marks.bubble_fills(dark, np.array(digit.bubbles))
    assert fills.argmax() == 7 and fills[7] > 0.8
    assert np.delete(fills, 7).max() < 0.1  # printed rings and digits vanish
    _glyphs, ink, _ = marks.field_marks(dark, [f])
    assert ink.max() < glyph.BLANK_SHARE  # empty boxes stay empty under the shadow


def _inked_photo_page() -> tuple[np.ndarray, list]:
    """A photographed PPWP page (tilted, shaded) with pen strokes in boxes and bubbles, warped
    back to the template frame as the reader does; and the page's fields."""
    page = _page_bgr()
    fields = list(demo_templates()["PPWP"].fields_on(1))
    rng = np.random.default_rng(5)
    for f in fields[::2]:
        for digit in f.digits()[1:]:
            x, y, w, h = (np.array(digit.box) * 4).round().astype(int)
            pts = rng.integers([x, y], [x + w, y + h], size=(4, 2))
            cv2.polylines(page, [pts.reshape(-1, 1, 2)], False, (120, 40, 20), 3)
            cx, cy = (np.array(digit.bubbles[int(rng.integers(10))]) * 4).round().astype(int)
            cv2.circle(page, (int(cx), int(cy)), 5, (150, 60, 40), -1)
    shade = np.linspace(0.5, 1.0, page.shape[1])[None, :, None]
    photo, _ = _photo((page * shade).astype(np.uint8), 13)
    alignment = align.align(align.detect_markers(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)))
    assert alignment is not None
    return align.warp(photo, alignment), fields


def test_page_marks_are_exactly_the_marks_of_the_whole_page_darkness() -> None:
    """The reader works out darkness only where it reads it; every glyph, ink share and bubble
    fill must be bit for bit what the whole page's darkness gives."""
    page, fields = _inked_photo_page()
    red = page[:, :, 2]
    fast = marks.page_marks(red, fields)
    whole = marks.field_marks(marks.darkness(red), fields)
    assert fast[1].max() > glyph.BLANK_SHARE and fast[2].max() > 0.5  # there is ink to read
    for got, want in zip(fast, whole, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_a_colour_warp_gives_the_pixels_of_opencvs_own_three_channel_warp() -> None:
    """align.warp goes through 4 channels for speed: the page must be the same pixels."""
    photo, _ = _photo(_page_bgr(), 13)
    alignment = align.align(align.detect_markers(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)))
    assert alignment is not None
    first = align.warp(photo, alignment)
    kept = first.copy()
    for px_per_mm, rect in ((align.READ_PX_PER_MM, None), (6.0, (140.0, 2.0, 42.0, 40.0)),
                            (align.READ_PX_PER_MM, None)):
        x, y = rect[:2] if rect else (0.0, 0.0)
        scale = px_per_mm / align.READ_PX_PER_MM
        shift = np.array([[scale, 0, -x * px_per_mm], [0, scale, -y * px_per_mm], [0, 0, 1]])
        got = align.warp(photo, alignment, px_per_mm, rect)
        want = cv2.warpPerspective(photo, shift @ alignment.homography, got.shape[1::-1],
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=0)
        assert got.shape == want.shape and np.array_equal(got, want)
    assert np.array_equal(first, kept)  # the scratch arrays never show through a page returned


def test_the_readers_bgra_page_is_the_bgr_page_for_every_stage_that_uses_it() -> None:
    """The reader keeps its page in 4 channels (no copy back to 3): the same colours, the same
    quality verdict and marker figures, the same marks and the very same annotated JPEG."""
    page, fields = _inked_photo_page()
    photo, _ = _photo(_page_bgr(), 13)
    alignment = align.align(align.detect_markers(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)))
    assert alignment is not None
    bgr = align.warp(photo, alignment)
    bgra = align.warp_page_bgra(photo, alignment)
    assert bgra.shape == (*bgr.shape[:2], 4) and np.array_equal(bgra[:, :, :3], bgr)
    found = align.detect_markers(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    for image in (bgr, cv2.GaussianBlur(bgr, (0, 0), 3), (bgr * 0.2).astype(np.uint8)):
        four = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
        assert np.array_equal(quality._every_fourth(four), four[::4, ::4])
        assert quality.page_problem(four, found) == quality.page_problem(image, found)
        assert quality.marker_stats(four, found) == quality.marker_stats(image, found)
    readings = [FieldReading(f.key, f.code, f.ballot_number, 7 * i % 300, 0.9, i % 3 == 0)
                for i, f in enumerate(fields)]
    four = cv2.cvtColor(page, cv2.COLOR_BGR2BGRA)
    for got, want in zip(marks.page_marks(four[:, :, 2], fields),
                         marks.page_marks(page[:, :, 2], fields), strict=True):
        assert np.array_equal(got, want)
    assert annotate(four, fields, readings) == annotate(page, fields, readings)


def test_glyph_normalisation_centres_and_scales_the_ink_like_mnist() -> None:
    crop = np.zeros((38, 30), np.float32)
    cv2.line(crop, (20, 4), (22, 32), 0.9, 3)
    g = glyph.normalize(crop)
    assert g.shape == (28, 28) and g.max() == 1.0
    ys, xs = np.nonzero(g > 0.3)
    assert ys.max() - ys.min() + 1 in (19, 20, 21)
    assert abs(np.average(xs, weights=g[ys, xs]) - 14) < 1.5
    speck = np.zeros((38, 30), np.float32)
    speck[10:13, 10:13] = 0.9
    assert (glyph.normalize(speck) > 0.3).sum() < 40  # a speck is not blown up into a stroke
    assert glyph.ink_share(speck) < glyph.BLANK_SHARE


def _naive_logits(model: classifier.Model, x: np.ndarray) -> np.ndarray:
    def conv(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:  # a: C,H,W
        c_out, _c_in, k, _ = w.shape
        h, wd = a.shape[1] - k + 1, a.shape[2] - k + 1
        out = np.zeros((c_out, h, wd), np.float32)
        for i in range(h):
            for j in range(wd):
                out[:, i, j] = (w * a[None, :, i : i + k, j : j + k]).sum(axis=(1, 2, 3)) + b
        return np.maximum(out, 0)

    def pool(a: np.ndarray) -> np.ndarray:
        c, h, w = a.shape
        return a[:, : h // 2 * 2, : w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))

    a = pool(conv(x[None], model.c1w, model.c1b))
    a = pool(conv(a, model.c2w, model.c2b)).reshape(-1)
    a = np.maximum(model.f1w @ a + model.f1b, 0)
    return model.f2w @ a + model.f2b


def test_numpy_forward_pass_matches_a_plain_convolution() -> None:
    model = classifier.load()
    assert model.c1w.shape[1:] == (1, 3, 3) and model.f2w.shape[0] == classifier.N_CLASSES
    rng = np.random.default_rng(3)
    x = rng.random((2, 28, 28)).astype(np.float32)
    fast = model.logits(x)
    for i in range(2):
        assert np.allclose(fast[i], _naive_logits(model, x[i]), atol=1e-3)
    p = model.probabilities(x)
    assert np.allclose(p.sum(axis=1), 1.0) and model.temperature > 0


def _im2col_logits(model: classifier.Model, glyphs: np.ndarray) -> np.ndarray:
    """The plain im2col forward (sliding windows, bias and ReLU before the pooling)."""
    from numpy.lib.stride_tricks import sliding_window_view

    def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:  # x: N, H, W, C
        windows = sliding_window_view(x, (3, 3), axis=(1, 2))  # N, H, W, C, 3, 3
        n, h, wd = windows.shape[:3]
        out = windows.reshape(n * h * wd, -1) @ w.reshape(len(w), -1).T + b
        return np.maximum(out, 0.0).reshape(n, h, wd, -1)

    def pool(x: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

    x = pool(conv(glyphs[..., None], model.c1w, model.c1b))
    x = pool(conv(x, model.c2w, model.c2b)).transpose(0, 3, 1, 2).reshape(len(glyphs), -1)
    return np.maximum(x @ model.f1w.T + model.f1b, 0.0) @ model.f2w.T + model.f2b


def test_the_forward_pass_gives_the_very_floats_of_a_plain_im2col() -> None:
    """Channels first, pooling before bias and ReLU, the second convolution only where pooled:
    a reorganisation, not an approximation (the reader's probabilities must not move).

    Equal up to float rounding, not bit for bit: OpenBLAS picks its kernel (and so the order of
    a dot product's additions) by the matrices' shapes and the CPU, and the two forwards multiply
    differently shaped matrices (on an AVX-512 machine they differ by ~1e-6). An approximation
    would differ by orders of magnitude more."""
    model = classifier.load()
    crops = []
    for text in "0123456789X7":
        crop = np.zeros((38, 30), np.uint8)
        cv2.putText(crop, text, (4, 32), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 230, 3, cv2.LINE_AA)
        crops.append(glyph.normalize(crop.astype(np.float32) / 255))
    noise = np.random.default_rng(5).random((40, 28, 28)).astype(np.float32)
    glyphs = np.concatenate([np.stack(crops), noise])
    fast, plain = model.logits(glyphs), _im2col_logits(model, glyphs)
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5)
    assert np.array_equal(fast.argmax(axis=1), plain.argmax(axis=1))


def test_the_trained_model_reads_cleanly_drawn_digits_x_and_nothing() -> None:
    model = classifier.load()
    crops = []
    for text in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"):
        crop = np.zeros((38, 30), np.uint8)
        cv2.putText(crop, text, (4, 32), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 230, 3, cv2.LINE_AA)
        crops.append(glyph.normalize(crop.astype(np.float32) / 255))
    best = model.probabilities(np.stack(crops)).argmax(axis=1)
    assert (best == np.arange(11)).sum() >= 9  # printed shapes are not handwriting, but close


def test_quality_verdicts_from_the_markers() -> None:
    page = _page_bgr()
    found = align.detect_markers(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY))
    assert quality.page_problem(page, found) is None
    assert quality.page_problem(cv2.GaussianBlur(page, (0, 0), 3), found) == "too_blurred"
    assert quality.page_problem((page * 0.2).astype(np.uint8), found) == "too_dark"


def _marker_stats_by_sorting(page: np.ndarray, found: dict[int, np.ndarray]
                             ) -> tuple[float, float]:
    """quality.marker_stats as np.percentile computes it (what its histograms stand in for)."""
    sharp, contrast = [], []
    for marker_id, (x, y, w, h) in layout.marker_rects().items():
        if marker_id not in found:
            continue
        s = align.READ_PX_PER_MM
        patch = page[max(0, round((y - 2) * s)) : round((y + h + 2) * s),
                     max(0, round((x - 2) * s)) : round((x + w + 2) * s)]
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY).astype(np.float32)
        lo, hi = np.percentile(patch, (5, 95))
        steps = np.concatenate([np.abs(np.diff(patch, axis=0)).ravel(),
                                np.abs(np.diff(patch, axis=1)).ravel()])
        contrast.append(hi - lo)
        sharp.append(float(np.percentile(steps, 99.5)) / max(hi - lo, 1.0))
    return float(np.median(sharp)), float(np.median(contrast))


def test_percentiles_from_histograms_are_numpys_very_floats() -> None:
    """quality.Histogram gives np.percentile's answer, in its type, for each way the reader
    asks (uint8 with one q; float32 with one q, or among several) without sorting."""
    rng = np.random.default_rng(7)
    for trial in range(400):
        values = rng.integers(0, int(rng.integers(1, 256)) + 1, int(rng.integers(1, 5000)))
        u8 = values.astype(np.uint8)
        f32 = u8.astype(np.float32)
        h = quality.Histogram(u8[: len(u8) // 2], u8[len(u8) // 2 :])
        for q in (0, 5, 37.3, 90, 95, 99.5, 100):
            for want, got in ((np.percentile(u8, q), h.percentile(q)),
                              (np.percentile(f32, q), h.percentile(q, np.float32)),
                              (np.percentile(f32, (q, 50))[0],
                               h.percentile(q, np.float32, several=True))):
                assert type(got) is type(want) and got == want, (trial, q)
    page = _page_bgr()
    found = align.detect_markers(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY))
    for image in (page, cv2.GaussianBlur(page, (0, 0), 2), (page * 0.4).astype(np.uint8)):
        assert quality.marker_stats(image, found) == _marker_stats_by_sorting(image, found)


def test_the_kept_grid_of_one_layout_never_serves_another() -> None:
    """ocr.marks keeps each page layout's geometry: pages with other fields, one after the
    other, still read exactly what their whole darkness gives."""
    page, fields = _inked_photo_page()
    red = page[:, :, 2]
    whole = marks.darkness(red)
    for subset in (fields[::2], fields, fields[1::3], fields[::2]):
        for got, want in zip(marks.page_marks(red, subset), marks.field_marks(whole, subset),
                             strict=True):
            assert got.shape[0] == len(subset) and np.array_equal(got, want)
