"""The review queue an operator sorts through: filters by kind, TPS or region code and age,
counts per kind; every kind's details and the audit trail as sentences in the operator's
language, never the stored JSON; list pages answer a poll that finds nothing new with 304."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from bots import review
from relay.db import session_scope
from relay.models import AuditEntry, ReviewItem
from tests.support import converse
from tests.web_support import logged_in
from web.console import words

ITEMS = [  # kind, TPS, detail
    ("low_confidence", "3576011001001", {"fields": {"02": 0.41, "SAH": 0.6}}),
    ("failed_checks", "3576011001002", {"rules": ["sah_mismatch", "differs_from_typed"],
                                        "typed": "7KQ3MD"}),
    ("failed_checks", "3277011001001", {"rules": ["ssd_unexpected"],
                                        "warnings": {"ssd_unexpected": {"ssd": 300}}}),
    ("conflict", "3576011001003", {"source": "photo", "differs": ["01", "SAH"], "compare": [
        {"field": "01", "confirmed": 120, "photo": 121, "differs": True}]}),
    ("change_request", "3576011001001", {"source": "helpdesk", "receipt": "AB12CD",
                                         "changes": {"01": 100}, "before": {"01": 120},
                                         "message": "salah ketik", "checks": ["sah_mismatch"]}),
]


def _open_items() -> dict[str, int]:
    ids = {}
    with session_scope() as session:
        for kind, tps, detail in ITEMS:
            item = review.open_item(session, kind, tps_code=tps, contest_code="PPWP",
                                    detail=detail)
            ids[f"{kind}:{tps}"] = item.id
    return ids


def _listed(browser, **args: str) -> list[int]:
    page = browser.get("/console/review", query_string=args).get_data(as_text=True)
    return [int(n) for n in re.findall(r'href="/console/review/(\d+)"', page)]


def test_review_filters_by_kind_code_and_age_with_counts_per_kind(client) -> None:
    ids = _open_items()
    ani = logged_in(client)
    assert sorted(_listed(ani)) == sorted(ids.values())
    failed = [ids["failed_checks:3576011001002"], ids["failed_checks:3277011001001"]]
    assert sorted(_listed(ani, kind="failed_checks")) == sorted(failed)
    assert sorted(_listed(ani, code="3576")) == sorted(  # a regency's code
        v for k, v in ids.items() if ":3576" in k
    )
    assert _listed(ani, code="3576011001001", kind="low_confidence") == [
        ids["low_confidence:3576011001001"]
    ]
    assert _listed(ani, kind="no-such-kind") == _listed(ani)  # an unknown kind: all
    with session_scope() as session:
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == ids["conflict:3576011001003"])
            .values(created_at=datetime.now(UTC) - timedelta(minutes=45))
        )
    assert _listed(ani, older_than="30") == [ids["conflict:3576011001003"]]
    page = ani.get("/console/review", query_string={"code": "3576"}).get_data(as_text=True)
    # Counts per kind under the other filters (here: region 3576).
    assert "semua (4)" in page and "gagal pemeriksaan (1)" in page and "konflik (1)" in page
    assert "hapus saringan" in page
    ani.set_cookie("lang", "en")
    english = ani.get("/console/review").get_data(as_text=True)
    assert "failed checks (2)" in english and "all (5)" in english


def test_every_kind_of_item_is_explained_in_words(client) -> None:
    ids = _open_items()
    ani = logged_in(client)
    expected = {
        "low_confidence:3576011001001": ["Pembaca foto ragu pada 02 (keyakinan 41%).",
                                         "Pembaca foto ragu pada SAH (keyakinan 60%)."],
        "failed_checks:3576011001002": [
            "Aturan formulir tidak terpenuhi: SAH tidak sama dengan jumlah suara.",
            "Bacaan foto berbeda dengan data yang diketik petugas (7KQ3MD)."],
        "failed_checks:3277011001001": [
            "Peringatan: surat suara diterima tidak sama dengan DPT + 2%."],
        "conflict:3576011001003": [
            "Foto dari petugas lain terbaca berbeda dengan data terkonfirmasi pada: 01, SAH."],
        "change_request:3576011001001": [
            "Petugas meminta perubahan data AB12CD: 01 120 → 100.",
            "Angka baru belum lolos pemeriksaan formulir: SAH tidak sama dengan jumlah suara"],
    }
    for key, sentences in expected.items():
        page = ani.get(f"/console/review/{ids[key]}").get_data(as_text=True)
        for sentence in sentences:
            assert sentence in page, (key, sentence)
        assert "{&#34;" not in page and '{"' not in page  # no JSON
    # The label says what the details say: a typed tally's warning is not "a photo read".
    warning = ani.get(f"/console/review/{ids['failed_checks:3277011001001']}")
    assert "aturan atau peringatan formulir" in warning.get_data(as_text=True)
    assert "Bacaan foto tidak lolos" not in warning.get_data(as_text=True)
    ani.set_cookie("lang", "en")
    page = ani.get(f"/console/review/{ids['low_confidence:3576011001001']}")
    assert "The photo reader is unsure of 02 (41% sure)." in page.get_data(as_text=True)


def test_a_detail_nobody_planned_for_still_reads_as_words(client) -> None:
    with session_scope() as session:
        item = review.open_item(session, "low_confidence", tps_code="3576011001001",
                                contest_code="PPWP", detail={"page_count": 2, "notes": ["a", "b"]})
        item_id = item.id
    page = logged_in(client).get(f"/console/review/{item_id}").get_data(as_text=True)
    assert "page count: 2." in page and "notes: a, b." in page


def test_audit_sentences_in_both_languages(client) -> None:
    app = client.application
    changed = AuditEntry(
        actor="operator:budi", action="tally_changed", entity="submission", entity_id="1",
        detail={"receipt": "AB12CD", "before": {"votes": {"01": 120}, "sah": 255, "ts": 5},
                "after": {"votes": {"01": 100}, "sah": 235, "ts": 5}, "note": "foto"},
    )
    received = AuditEntry(
        actor="simulator:officer:3", action="tally_received", entity="submission",
        entity_id="2", detail={"receipt": "ZZ99ZZ", "values": "01=1 SAH=1 TS=0",
                               "source": "photo", "training": True},
    )
    unknown = AuditEntry(actor="system", action="something_new", entity="x", entity_id="1",
                         detail={"a": 1})
    with app.test_request_context(headers={"Accept-Language": "id"}):
        assert words.audit_sentence(changed) == (
            "Angka diubah: 01=120 SAH=255 TS=5 → 01=100 SAH=235 TS=5. Alasan: foto"
        )
        assert words.audit_sentence(received) == (
            "Data ZZ99ZZ diterima (foto): 01=1 SAH=1 TS=0. (latihan, simulator)"
        )
        assert words.audit_sentence(unknown) == "something new: a: 1"
        assert words.actor("operator:budi") == "budi"
        assert words.actor("officer:12") == "petugas #12"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert words.audit_sentence(changed).startswith("Numbers changed: 01=120")
        assert words.actor("officer:12") == "officer #12"


def test_no_console_template_prints_raw_json() -> None:
    folder = Path(__file__).resolve().parents[1] / "web" / "console" / "templates"
    for template in folder.rglob("*.html"):
        body = template.read_text()
        assert not re.search(r"tojson|pprint|\|\s*json", body), template.name


def test_an_unchanged_list_answers_a_poll_with_304(client) -> None:
    converse("081234567801", "BANTUAN formulir basah")
    ani = logged_in(client)
    for url in ("/console/tickets", "/console/review"):
        first = ani.get(url)
        tag = first.headers["ETag"]
        again = ani.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.data == b""
    tag = ani.get("/console/tickets").headers["ETag"]
    converse("081234567803", "BANTUAN tinta habis")
    fresh = ani.get("/console/tickets", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag
    assert "Daftar diperbarui otomatis tiap 20 detik" in fresh.get_data(as_text=True)
