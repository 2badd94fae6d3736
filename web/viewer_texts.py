"""Texts of the photo viewer (web/templates/web/photo_viewer.html): Indonesian first."""

from __future__ import annotations

VIEWER_TEXTS: dict[str, dict[str, str]] = {
    "pv_role": {"id": "penampil foto", "en": "photo viewer"},
    "pv_keys": {
        "id": "Tombol + dan − memperbesar dan memperkecil, 0 kembali utuh, panah menggeser.",
        "en": "Keys + and − zoom in and out, 0 fits the page, arrows move.",
    },
    "pv_tools": {"id": "Perbesar foto", "en": "Zoom the photo"},
    "pv_zoom_in": {"id": "Perbesar", "en": "Zoom in"},
    "pv_zoom_out": {"id": "Perkecil", "en": "Zoom out"},
    "pv_fit": {"id": "Utuh", "en": "Whole page"},
    "pv_zoom_on": {"id": "Perbesar {field}", "en": "Zoom on {field}"},
    "pv_original": {"id": "Foto asli", "en": "Original photo"},
    "pv_rectified": {
        "id": "halaman diluruskan dari foto",
        "en": "page straightened from the photo",
    },
    "pv_turned": {"id": "diputar {degrees}°", "en": "turned {degrees}°"},
    "pv_as_taken": {"id": "foto apa adanya", "en": "photo as taken"},
    "pv_mark_doubt": {"id": "angka diragukan pembaca", "en": "number the reader doubts"},
    "pv_mark_differs": {"id": "berbeda dengan tally", "en": "differs from the tally"},
    "pv_zoom_level": {"id": "Perbesaran {n}×", "en": "Zoom {n}×"},
    "pv_tally_photo": {
        "id": "Foto yang dibaca menjadi tally ini",
        "en": "The photo this tally was read from",
    },
}
