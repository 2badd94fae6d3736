# ruff: noqa: E501  (page texts read best unbroken, as in web/i18n.py)
"""Every rule code a review item can store in detail["rules"] (or detail["checks"]), in words:
the typed tally's rules and warnings (bots.tally_rules), the photo reader's checks
(ocr.formrules, ocr.reader) and the review's own codes (jobs.photo). Phrased as what is wrong,
in the form's vocabulary (as bots/messages.py tells the officer); read by web.rule_words."""

from __future__ import annotations

# code → what failed; `_SS` and friends keep one phrasing per row of the form.
_SS = {"id": "surat suara digunakan (SS)", "en": "the ballots used (SS)"}
_PHP = {"id": "pengguna hak pilih (PHP)", "en": "the voters who voted (PHP)"}
_SSD = {"id": "surat suara diterima (SSD)", "en": "the ballots received (SSD)"}
# one rule, typed (bots.tally_rules) and read from a photo (ocr.formrules): one phrasing
_OVER_AVAILABLE = {
    "id": "SAH + TS melebihi surat suara tersedia (SSD, atau DPT + 2%)",
    "en": "SAH + TS exceeds the ballots available (SSD, or DPT + 2%)",
}
_BALLOTS_RECEIVED = {
    "id": f"{_SSD['id']} tidak sama dengan SSR + SSTD + SS",
    "en": f"{_SSD['en']} are not SSR + SSTD + SS",
}

RULE_TEXTS: dict[str, dict[str, str]] = {
    # the typed tally (bots.tally_rules), and codes kept by older review items
    "unknown_ballot": {"id": "nomor urut tidak ada di surat suara", "en": "a ballot number not on the ballot"},
    "not_party_contest": {"id": "pemilihan ini tidak punya calon partai (NN.K)", "en": "this contest has no party candidates (NN.K)"},
    "unknown_candidate": {"id": "calon tidak ada di daftar dapil ini", "en": "a candidate not on this dapil's list"},
    "missing_ballot": {"id": "nomor urut tidak diisi", "en": "a ballot number missing"},
    "missing_candidates": {"id": "suara partai atau calonnya belum diisi", "en": "a party's or its candidates' votes missing"},
    "missing_sah": {"id": "SAH tidak diisi", "en": "SAH missing"},
    "missing_ts": {"id": "TS tidak diisi", "en": "TS missing"},
    "missing_rows": {"id": "ada baris formulir yang kosong", "en": "rows of the form are missing"},
    "sah_mismatch": {"id": "SAH tidak sama dengan jumlah suara", "en": "SAH differs from the sum of the votes"},
    "used_mismatch": {
        "id": f"SAH + TS, {_SS['id']} dan {_PHP['id']} tidak sama",
        "en": f"SAH + TS, {_SS['en']} and {_PHP['en']} differ",
    },
    "over_list": {
        "id": "pengguna hak pilih suatu daftar melebihi pemilih terdaftarnya (PDPT > DPT, PDPTb > DPTb, PDPK > DPK atau PDIS > DIS)",
        "en": "more voters on a list than registered on it (PDPT > DPT, PDPTb > DPTb, PDPK > DPK or PDIS > DIS)",
    },
    "voters_sum": {
        "id": f"PDPT + PDPTb + PDPK tidak sama dengan {_PHP['id']}",
        "en": f"PDPT + PDPTb + PDPK is not {_PHP['en']}",
    },
    "ballots_sum": _BALLOTS_RECEIVED,
    "over_ballots": _OVER_AVAILABLE,
    "over_registered": {"id": "SAH + TS melebihi pemilih terdaftar", "en": "SAH + TS above the registered voters"},
    # warnings of the typed tally: worth a look, never a refusal
    "dpt_unexpected": {"id": "DPT pada formulir tidak sama dengan DPT terdaftar TPS", "en": "DPT on the form differs from the TPS's registered voters"},
    "ssd_unexpected": {"id": "surat suara diterima tidak sama dengan DPT + 2%", "en": "ballots received differ from DPT + 2%"},
    # the photo reader's checks (ocr.formrules); party_NN_total and the bounds: RULE_PATTERNS
    "sum_equals_sah": {"id": "jumlah suara tidak sama dengan SAH", "en": "the votes do not add up to SAH"},
    "sum_equals_sah_at_least": {
        "id": "suara yang terbaca (belum semua) sudah melebihi SAH",
        "en": "the votes read (not all of them) already exceed SAH",
    },
    "sah_plus_ts_equals_ballots": {
        "id": f"SAH + TS tidak sama dengan {_SS['id']}",
        "en": f"SAH + TS is not {_SS['en']}",
    },
    "ballots_equal_voters": {
        "id": f"{_SS['id']} tidak sama dengan {_PHP['id']}",
        "en": f"{_SS['en']} differ from {_PHP['en']}",
    },
    "sah_plus_ts_total": {
        "id": "SAH + TS tidak sama dengan jumlah yang tertulis (JML)",
        "en": "SAH + TS is not the total written on the form (JML)",
    },
    "registered_total": {
        "id": "DPT + DPTb + DPK tidak sama dengan jumlah pemilih yang tertulis (JML)",
        "en": "DPT + DPTb + DPK is not the total of voters written on the form (JML)",
    },
    "voters_by_list": {
        "id": f"PDPT + PDPTb + PDPK tidak sama dengan {_PHP['id']}",
        "en": f"PDPT + PDPTb + PDPK is not {_PHP['en']}",
    },
    "pdpt_within_dpt": {"id": "pengguna hak pilih DPT (PDPT) melebihi DPT", "en": "more voters from the DPT (PDPT) than on the DPT"},
    "pdptb_within_dptb": {"id": "pengguna hak pilih DPTb (PDPTb) melebihi DPTb", "en": "more voters from the DPTb (PDPTb) than on the DPTb"},
    "pdpk_within_dpk": {"id": "pengguna hak pilih DPK (PDPK) melebihi DPK", "en": "more voters from the DPK (PDPK) than on the DPK"},
    "pdis_within_dis": {
        "id": "pemilih disabilitas yang memilih (PDIS) melebihi yang terdaftar (DIS)",
        "en": "more disabled voters voted (PDIS) than are registered (DIS)",
    },
    "ballots_received": _BALLOTS_RECEIVED,
    "within_available": _OVER_AVAILABLE,
    "within_registered": {"id": "suara atau pemilih yang terbaca melebihi DPT", "en": "the votes or voters read exceed the DPT"},
    # the page itself (ocr.reader)
    "qr_read": {"id": "kode QR tidak terbaca", "en": "the QR code could not be read"},
    "printed_tps_matches_qr": {"id": "kode TPS tercetak berbeda dengan kode QR", "en": "the printed TPS code differs from the QR code"},
    # the review's own codes (jobs.photo)
    "rules_of_the_form": {"id": "aturan formulir C.Hasil", "en": "the C.Hasil form's rules"},
    "differs_from_typed": {"id": "berbeda dari data yang diketik", "en": "differs from the typed tally"},
}

# Codes with a number in them: (pattern, texts); the pattern's groups fill the texts.
RULE_PATTERNS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        r"party_(?P<party>\d+)_total",
        {
            "id": "jumlah suara partai {party} (suara partai + calon) tidak sama dengan totalnya",
            "en": "party {party}'s votes (party + candidates) do not add up to its total",
        },
    ),
    (
        r"party_(?P<party>\d+)_total_at_least",
        {
            "id": "bagian suara partai {party} yang terbaca (belum semua) sudah melebihi totalnya",
            "en": "the parts of party {party}'s votes read (not all of them) already exceed its total",
        },
    ),
)
