"""What to tell the officer when a photo cannot be read: one retake hint per error code.

Indonesian (default) and English, short enough for one chat bubble. `{contest}`, `{tps}` and
`{expected}` are filled in where the code needs them (wrong TPS, wrong contest).
"""

from __future__ import annotations

HINTS: dict[str, dict[str, str]] = {
    "too_large": {
        "id": "Foto terlalu besar. Kirim sebagai foto biasa (bukan file), maksimal 20 MB.",
        "en": "The photo is too large. Send it as a normal photo (not a file), 20 MB at most.",
    },
    "too_many_pixels": {
        "id": "Ukuran gambar tidak wajar. Foto ulang formulir dengan kamera HP.",
        "en": "The image size is not plausible. Take a new photo of the form with the phone "
        "camera.",
    },
    "not_an_image": {
        "id": "File ini bukan foto yang bisa dibaca (JPEG/PNG). Foto ulang formulir C.Hasil.",
        "en": "This file is not a readable photo (JPEG/PNG). Take a photo of the C.Hasil form.",
    },
    "no_form_found": {
        "id": "Formulir C.Hasil tidak terlihat di foto. Foto seluruh halaman dari atas, "
        "keempat kotak hitam di sudut harus tampak.",
        "en": "No C.Hasil form found in the photo. Photograph the whole page from above, "
        "with all four black corner squares visible.",
    },
    "not_our_form": {
        "id": "Ini bukan formulir C.Hasil dari TPS Relay (kode QR-nya milik dokumen lain). "
        "Foto formulir C.Hasil yang dicetak untuk TPS Anda.",
        "en": "This is not a TPS Relay C.Hasil form (its QR code belongs to another document). "
        "Photograph the C.Hasil form printed for your TPS.",
    },
    "page_cropped": {
        "id": "Halaman terpotong: kotak hitam di sudut tidak terlihat semua. Mundurkan HP "
        "sedikit dan foto ulang seluruh halaman.",
        "en": "The page is cut off: not all black corner squares are visible. Move the phone "
        "back a little and photograph the whole page.",
    },
    "too_far": {
        "id": "Formulir terlalu kecil di foto. Dekatkan HP sampai halaman memenuhi layar, "
        "lalu foto ulang.",
        "en": "The form is too small in the photo. Move the phone closer until the page fills "
        "the screen, and retake.",
    },
    "too_blurred": {
        "id": "Foto buram. Pegang HP dengan stabil, ketuk layar untuk fokus, lalu foto ulang.",
        "en": "The photo is blurred. Hold the phone steady, tap the screen to focus, and retake.",
    },
    "too_dark": {
        "id": "Foto terlalu gelap. Foto di tempat terang atau nyalakan lampu, tanpa bayangan.",
        "en": "The photo is too dark. Move to a brighter place or switch on a light, "
        "avoiding shadows.",
    },
    "qr_unreadable": {
        "id": "Kode QR di pojok kanan atas tidak terbaca. Pastikan tidak tertutup atau "
        "silau, lalu foto ulang.",
        "en": "The QR code at the top right cannot be read. Make sure it is not covered or "
        "glaring, and retake.",
    },
    "unknown_form": {
        "id": "Formulir ini tidak dikenal ({contest}). Gunakan formulir C.Hasil dari PPS.",
        "en": "This form is not known ({contest}). Use the C.Hasil form from the PPS.",
    },
    "outdated_form": {
        "id": "Formulir {contest} ini versi lama. Minta formulir terbaru ke PPS atau kirim "
        "hasil lewat SMS.",
        "en": "This {contest} form is an old version. Ask the PPS for the current form or send "
        "the tally by SMS.",
    },
    "wrong_tps": {
        "id": "Formulir ini untuk TPS {tps}, bukan TPS Anda ({expected}). Periksa formulirnya.",
        "en": "This form is for TPS {tps}, not your TPS ({expected}). Please check the form.",
    },
    "wrong_contest": {
        "id": "Ini formulir {contest}, bukan {expected} yang dipilih. Kirim foto formulir "
        "{expected}, atau pilih {contest}.",
        "en": "This is the {contest} form, not {expected} as chosen. Send the {expected} form, "
        "or choose {contest}.",
    },
}


def hint(code: str, language: str = "id", **params: object) -> str:
    """The retake hint for `code`; unknown codes fall back to the generic no-form text."""
    texts = HINTS.get(code, HINTS["no_form_found"])
    text = texts.get(language, texts["id"])
    defaults = {"contest": "?", "tps": "?", "expected": "?"}
    return text.format(**{**defaults, **params})


# A page of a multi-page form was read; the form is not complete yet.
PAGE_TEXTS: dict[str, dict[str, str]] = {
    "pages_missing": {
        "id": "Halaman {page}/{pages} formulir {contest} TPS {tps} terbaca. Masih kurang "
        "halaman {missing}: kirim fotonya, hasil diperiksa setelah semua halaman masuk.",
        "en": "Page {page}/{pages} of the {contest} form of TPS {tps} read. Still missing "
        "page(s) {missing}: send their photos; the tally is checked once every page is in.",
    },
}


def page_text(code: str, language: str = "id", **params: object) -> str:
    texts = PAGE_TEXTS[code]
    return texts.get(language, texts["id"]).format(**params)
