"""A tally's numbers are public only once a person made them so (confirmed now, or confirmed
before it was replaced): a photo reading still awaiting the officer's YA whose sums fail, a
refused tally and a tally replaced before anyone confirmed it keep their rows in the TPS's
history (code, time, source, status, events) with their numbers withheld, on the page in
both languages and in /api/v1/tps (`published: false`, number fields null); their photos
are not served. KPU's Sirekap published OCR misreads as impossible totals."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Submission
from tests.support import drain
from tests.test_console_approvals import operator_client
from tests.test_console_review import KPPS, approved_by_supervisor, item_id_in, sms
from tests.test_photo_flow import send_photo
from tests.web_support import post_form

TPS = "3576011001001"  # KPPS's TPS, whose PPWP form the golden photos show
# DPD (four candidates): each tally has numbers no other tally of the TPS has.
CHANGED_THEN_REPLACED = f"DPD {TPS} 01=131 02=41 03=37 04=23 SAH=232 TS=6"
CORRECTION = {"v1": "132", "v2": "41", "v3": "37", "v4": "23", "sah": "233", "ts": "6"}
ONCE_CONFIRMED = f"DPD {TPS} 01=142 02=41 03=37 04=23 SAH=243 TS=6"
ACCEPTED = f"DPD {TPS} 01=153 02=41 03=37 04=23 SAH=254 TS=6"
REFUSED = f"DPD {TPS} 01=164 02=41 03=37 04=23 SAH=265 TS=6"
# ppwp_sums_wrong.jpg: 01=120 02=95 03=47 SAH=255 (the votes add up to 262), PHP=SS=260,
# SSD=293 (DPT 287 is the TPS's registered voters, public anyway).
WITHHELD = {
    "photo": ("47", "120", "255", "260", "293"),
    "superseded": ("131", "132", "232", "233"),  # as sent and as an operator corrected it
    "refused": ("164", "265"),
}
PUBLISHED = {"once_confirmed": ("142", "243"), "confirmed": ("153", "254")}
NUMBER_FIELDS = ("votes", "own_votes", "candidate_votes", "sections", "sah", "ts")
PHRASES = {
    "id": {
        "pending": "belum dipublikasikan: menunggu konfirmasi petugas",
        "rejected": "tidak dipublikasikan: ditolak, tidak pernah dikonfirmasi",
        "superseded": "tidak dipublikasikan: diganti sebelum dikonfirmasi",
    },
    "en": {
        "pending": "not published: awaiting the officer&#39;s confirmation",
        "rejected": "not published: refused, never confirmed",
        "superseded": "not published: replaced before it was confirmed",
    },
}
STATUS = {
    "id": {"pending": "menunggu YA", "rejected": "ditolak", "superseded": "diganti"},
    "en": {"pending": "awaiting YA", "rejected": "rejected", "superseded": "replaced"},
}


def _tally(**where: object) -> Submission:
    with session_scope() as session:
        found = session.scalars(select(Submission).filter_by(**where)).one()
        session.expunge(found)
    return found


@pytest.fixture
def tallies(client, redis_conn, telegram, media_dir) -> dict[str, Submission]:
    """Through the real flows: SMS through the gateway, an operator's correction of a pending
    tally, YA, a conflicting resend accepted by one operator and approved by another, a
    conflict left refused, and last a photo whose sums do not hold."""
    sms(client, redis_conn, KPPS, CHANGED_THEN_REPLACED)
    first = _tally(sah=232)
    ani = operator_client(client.application, "ani")
    url = f"/console/submissions/{first.id}"
    post_form(ani, f"{url}/change", {**CORRECTION, "note": "foto C.Hasil"}, url)
    assert _tally(id=first.id).sah == 233  # corrected while pending: still not public
    sms(client, redis_conn, KPPS, ONCE_CONFIRMED, "YA", ACCEPTED)
    item_id = item_id_in(ani.get("/console/review").get_data(as_text=True))
    post_form(ani, f"/console/review/{item_id}/accept", {"note": "C.Hasil asli"})
    approved_by_supervisor(client)
    drain(redis_conn)
    sms(client, redis_conn, KPPS, REFUSED)
    send_photo(client, redis_conn, telegram, "ppwp_sums_wrong.jpg", 9300)
    found = {
        "superseded": _tally(id=first.id),
        "once_confirmed": _tally(sah=243),
        "confirmed": _tally(sah=254),
        "refused": _tally(sah=265),
        "photo": _tally(contest_code="PPWP"),
    }
    states = {k: (s.status, s.reason) for k, s in found.items()}
    assert states == {
        "superseded": ("superseded", None),
        "once_confirmed": ("superseded", "replaced_by_operator"),
        "confirmed": ("confirmed", "accepted_by_operator"),
        "refused": ("rejected", "locked_conflict"),
        "photo": ("pending", "checks_failed"),
    }, states
    assert found["photo"].source == "photo"
    return found


def _shown(body: str, number: str) -> bool:
    """`number` standing alone (not part of a longer number, code, hash or decimal)."""
    return re.search(rf"(?<![0-9A-Za-z.]){number}(?![0-9A-Za-z.])", body) is not None


def _without_footer(page: str) -> str:
    """The page less its audit-head footer (a hash and a count that move with every entry)."""
    return re.sub(r'<footer class="audit-head".*?</footer>', "", page, flags=re.S)


def _row(page: str, receipt: str) -> str:
    [row] = [r for r in re.findall(r"<tr>.*?</tr>", page, flags=re.S) if receipt in r]
    return row


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_tps_page_withholds_numbers_nobody_confirmed(client, tallies, lang: str) -> None:
    page = _without_footer(
        client.get(f"/tps/{TPS}", headers={"Accept-Language": lang}).get_data(as_text=True)
    )
    for name, numbers in WITHHELD.items():
        leaked = [n for n in numbers if _shown(page, n)]
        assert not leaked, (name, leaked)
    for name in WITHHELD:  # each row stays, with its status and why its numbers are not shown
        tally = tallies[name]
        row = _row(page, tally.receipt_code)
        assert f"<td>{STATUS[lang][tally.status]}</td>" in row, row
        assert PHRASES[lang][tally.status] in row, row
        assert "SAH=" not in row, row
    for name, numbers in PUBLISHED.items():  # confirmed, or confirmed before it was replaced
        row = _row(page, tallies[name].receipt_code)
        assert all(_shown(row, n) for n in numbers), (name, row)
        assert not any(p in row for p in PHRASES[lang].values()), row


def test_the_api_marks_unpublished_tallies_and_nulls_their_numbers(client, tallies) -> None:
    response = client.get(f"/api/v1/tps/{TPS}")
    body = response.get_data(as_text=True)
    for name, numbers in WITHHELD.items():
        leaked = [n for n in numbers if _shown(body, n)]
        assert not leaked, (name, leaked)
    contests = {c["contest"]: c for c in response.get_json()["contests"]}
    history = {h["receipt"]: h for c in ("PPWP", "DPD") for h in contests[c]["history"]}
    keys = set(history[tallies["confirmed"].receipt_code])
    for name, tally in tallies.items():
        entry = history[tally.receipt_code]
        assert set(entry) == keys and "published" in keys  # the same interface for every tally
        assert (entry["status"], entry["source"]) == (tally.status, tally.source)
        assert entry["received_at"]
        if name in WITHHELD:
            assert entry["published"] is False
            assert all(entry[field] is None for field in NUMBER_FIELDS), entry
        else:
            assert entry["published"] is True
            assert entry["votes"]["01"] == int(PUBLISHED[name][0])
            assert entry["sah"] == int(PUBLISHED[name][1])
    assert contests["DPD"]["tally"]["published"] is True
    assert contests["DPD"]["tally"]["sah"] == 254
    assert (contests["PPWP"]["tally"], contests["PPWP"]["photos"]) == (None, [])


def test_the_photo_of_an_unconfirmed_reading_is_not_served(client, tallies) -> None:
    photo = tallies["photo"]
    for path in (f"/tps/{TPS}/photo/{photo.id}/0", f"/tps/{TPS}/photo/{photo.id}/0/upright"):
        assert client.get(path).status_code == 404, path


def test_no_other_public_page_shows_unconfirmed_numbers(client, tallies) -> None:
    """The region pages, their JSON and both CSV exports read confirmed tallies only."""
    village = TPS[:10]
    pages = [
        f"/results/DPD/{village}",
        f"/results/PPWP/{village}",
        f"/api/v1/results/DPD/{village}",
        f"/api/v1/results/PPWP/{village}",
        f"/export/DPD.csv?region={village}",
        f"/export/PPWP.csv?region={village}",
        f"/export/DPD/tps.csv?region={village}",
        f"/export/PPWP/tps.csv?region={village}",
    ]
    for path in pages:
        body = _without_footer(client.get(path).get_data(as_text=True))
        leaked = [n for numbers in WITHHELD.values() for n in numbers if _shown(body, n)]
        assert not leaked, (path, leaked)
    published = client.get(f"/export/DPD/tps.csv?region={village}").get_data(as_text=True)
    assert _shown(published, "254")  # the confirmed tally's SAH: the check can see numbers
