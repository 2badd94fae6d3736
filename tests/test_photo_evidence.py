"""A photo of the C.Hasil sent after the officer confirmed the same tally by text: kept as
the tally's evidence and shown on the public TPS page (and in the API), not thrown away. A
photo with different numbers goes to review as ONE item showing both tallies field by field.
Through Telegram, real RQ workers and the real photo reader on the golden photos."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from sqlalchemy import func, select

from relay.db import session_scope
from relay.models import ReviewItem, Submission, TallyEvidence
from tests.conftest import TELEGRAM_SECRET
from tests.fakes import telegram_updates as tu
from tests.support import drain
from tests.web_support import logged_in

GOLDEN = Path(__file__).parent / "data" / "ocr"
USER = 555000333
PHONE = "6281234567801"  # kpps of TPS 3576011001001, whose PPWP form the golden photos show
TPS = "3576011001001"
SAME = f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5"  # what ppwp_clean.jpg shows
DIFFERENT = f"PPWP {TPS} 01=121 02=95 03=40 SAH=256 TS=5"
_updates = iter(range(90000, 99999))


def _post(client, update: dict) -> None:
    response = client.post(
        "/webhooks/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code == 200


def _confirm_by_text(client, redis_conn, telegram, tally: str) -> Submission:
    _post(client, tu.contact_update(next(_updates), USER, PHONE))
    _post(client, tu.text_update(next(_updates), USER, tally))
    drain(redis_conn)
    _post(client, tu.text_update(next(_updates), USER, "YA"))
    drain(redis_conn)
    with session_scope() as session:
        confirmed = session.scalars(
            select(Submission).where(Submission.status == "confirmed")
        ).one()
        session.expunge(confirmed)
    assert confirmed.source == "text"
    return confirmed


def _send_photo(client, redis_conn, telegram, name: str = "ppwp_clean.jpg") -> str:
    content = (GOLDEN / name).read_bytes()
    file_id = telegram.add_file(content, f"photos/{name}-{next(_updates)}")
    _post(client, tu.photo_update(next(_updates), USER, file_id=file_id,
                                  file_size=len(content)))
    drain(redis_conn)
    last = telegram.sent_messages(USER)[-1]
    return last.get("text") or last.get("caption") or ""


@pytest.mark.usefixtures("media_dir")
def test_photo_with_the_confirmed_numbers_is_kept_as_evidence(
    client, redis_conn, telegram
) -> None:
    confirmed = _confirm_by_text(client, redis_conn, telegram, SAME)
    answer = _send_photo(client, redis_conn, telegram)
    assert answer == (
        f"Foto PPWP TPS {TPS} cocok dengan data terkonfirmasi (kode {confirmed.receipt_code}) "
        "dan disimpan sebagai bukti. Terima kasih."
    )
    with session_scope() as session:
        [kept] = session.scalars(select(TallyEvidence)).all()
        assert (kept.submission_id, kept.page) == (confirmed.id, 1)
        # Not a second tally, not a conflict, nothing to review.
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        assert session.scalar(select(func.count()).select_from(ReviewItem)) == 0
        evidence_id = kept.id

    page = client.get(f"/tps/{TPS}").get_data(as_text=True)
    link = f"/tps/{TPS}/evidence/{evidence_id}"
    assert f'href="{link}"' in page and "foto bukti ditambahkan (petugas)" in page
    assert client.get(link).headers["Location"].startswith("/media/")  # a signed, expiring link
    image = client.get(link, follow_redirects=True)
    assert image.status_code == 200 and image.data == (GOLDEN / "ppwp_clean.jpg").read_bytes()
    assert client.get(f"/tps/3576011001002/evidence/{evidence_id}").status_code == 404

    api = client.get(f"/api/v1/tps/{TPS}").get_json()
    [ppwp] = [c for c in api["contests"] if c["contest"] == "PPWP"]
    assert [p for p in ppwp["photos"] if p["kind"] == "evidence"] == [
        {"kind": "evidence", "id": evidence_id, "page": 1, "url": link,
         "upright_url": f"{link}/upright", "received_at": ppwp["photos"][-1]["received_at"]}
    ]
    upright = client.get(f"{link}/upright")
    assert upright.status_code == 200 and upright.mimetype == "image/jpeg"
    assert upright.headers["X-Photo-Rectified"] == "1"
    assert client.get(f"/tps/3576011001002/evidence/{evidence_id}/upright").status_code == 404
    # The same photo again: still one piece of evidence.
    _send_photo(client, redis_conn, telegram)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(TallyEvidence)) == 1


@pytest.mark.usefixtures("media_dir")
def test_photo_with_other_numbers_is_one_review_item_field_by_field(
    client, redis_conn, telegram
) -> None:
    from bots.review import open_items

    confirmed = _confirm_by_text(client, redis_conn, telegram, DIFFERENT)
    answer = _send_photo(client, redis_conn, telegram)
    assert answer.startswith(f"PPWP TPS {TPS} sudah terkonfirmasi (kode {confirmed.receipt_code})")
    with session_scope() as session:
        [item] = open_items(session)  # one item, not one per problem
        photo = session.get_one(Submission, item.submission_id)
        assert (photo.source, photo.status) == ("photo", "rejected")
        assert photo.reason == "locked_conflict"
        assert item.kind == "change_request"  # the officer who confirmed it sent the photo
        assert item.other_submission_id == confirmed.id
        assert item.detail["differs"] == ["01", "SAH"]
        rows = {r["field"]: (r["confirmed"], r["photo"]) for r in item.detail["compare"]}
        assert rows["01"] == (121, 120) and rows["SAH"] == (256, 255)
        assert rows["02"] == (95, 95) and rows["DPT"] == (None, 287)
        assert session.scalar(select(func.count()).select_from(TallyEvidence)) == 0
        item_id = item.id

    logged_in(client)
    page = html.unescape(client.get(f"/console/review/{item_id}").get_data(as_text=True))
    assert "Foto dibandingkan dengan data terkonfirmasi, per kolom" in page
    table = page[page.index('id="field-by-field"'):page.index("</table>", page.index("field-by"))]
    assert (
        '<tr class="differs"><td class="mono">01</td><td>121</td>'
        '<td><mark class="differs" title="berbeda dengan tally">120</mark></td></tr>'
    ) in table
    assert '<tr class="same"><td class="mono">02</td><td>95</td><td>95</td></tr>' in table
    # The public page shows no evidence for a photo that disagrees.
    assert "/evidence/" not in client.get(f"/tps/{TPS}").get_data(as_text=True)
