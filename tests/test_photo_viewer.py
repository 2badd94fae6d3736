"""Evidence photos are shown upright and zoomable: the page found by its markers (as the
reader finds it), straightened and turned upright on the server (ocr.upright, cached by
relay.photo_view), on the public TPS page, in its API and in the console's review, where the
viewer opens zoomed on the number in question and marks the values that differ. Through
Telegram, real RQ workers and the real reader on the golden photos."""

from __future__ import annotations

import html
import re

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ocr import layout, qr
from ocr.templates import template_for
from ocr.upright import VIEW_PX_PER_MM, field_box, upright
from relay import photo_view
from relay.db import session_scope
from relay.models import ReviewItem, Submission
from tests.fakes import telegram_updates as tu
from tests.ocr_support import DATA as GOLDEN
from tests.support import drain
from tests.test_photo_evidence import DIFFERENT, TPS, USER, _confirm_by_text, _post, _send_photo
from tests.web_support import logged_in
from web import photo_viewer as web_photo_viewer

pytestmark = pytest.mark.usefixtures("media_dir")


def _qr_top_right(jpeg: bytes):
    """The form's QR code read where an upright page has it (top right), or None."""
    page = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    k = VIEW_PX_PER_MM
    x, y, side = layout.QR_X_MM - 3, layout.QR_Y_MM - 3, layout.QR_MM + 6
    crop = page[round(y * k):round((y + side) * k), round(x * k):round((x + side) * k)]
    return qr.decode(crop, k)


def test_an_upside_down_photo_comes_out_upright_and_straight() -> None:
    photo = (GOLDEN / "ppwp_upside_down.jpg").read_bytes()
    assert _qr_top_right(photo) is None  # as taken, the QR code is elsewhere
    shown = upright(photo)
    assert (shown.rectified, shown.rotation) == (True, 180)
    assert (shown.width, shown.height) == (1050, 1485)  # A4 at 5 px/mm
    found = _qr_top_right(shown.jpeg)
    assert found is not None and (found.tps_code, found.page) == (TPS, 1)
    assert (shown.contest, shown.tps_code, shown.page) == ("PPWP", TPS, 1)
    # A photo of something else is shown as taken (no markers to straighten it by).
    other = upright((GOLDEN / "not_a_form.jpg").read_bytes())
    assert (other.rectified, other.rotation, other.page) == (False, 0, None)


def test_the_rendering_is_cached_by_media_key(tmp_path, monkeypatch) -> None:
    from relay import media

    monkeypatch.setenv("PHOTO_CACHE_DIR", str(tmp_path / "cache"))
    key = media.save((GOLDEN / "ppwp_upside_down.jpg").read_bytes(), "image/jpeg")
    first = photo_view.upright_of(key)
    cached = sorted(p.suffix for p in (tmp_path / "cache").rglob("*.*"))
    assert cached == [".jpg", ".json"]
    media.store().path(key).unlink()  # served from the cache without the original
    again = photo_view.upright_of(key)
    assert again.jpeg == first.jpeg and again.meta == first.meta


def test_a_photo_gone_from_the_store_is_not_found(client, db, media_dir) -> None:
    from relay import media

    key = media.save((GOLDEN / "ppwp_upside_down.jpg").read_bytes(), "image/jpeg")
    media.store().path(key).unlink()
    with client.application.test_request_context():
        with pytest.raises(NotFound):
            web_photo_viewer.upright_response(key, public=True)


def _photo_tally(client, redis_conn, telegram, name: str) -> Submission:
    _post(client, tu.contact_update(91000, USER, "6281234567801"))
    drain(redis_conn)
    _send_photo(client, redis_conn, telegram, name)
    _post(client, tu.text_update(91001, USER, "YA"))
    drain(redis_conn)
    with session_scope() as session:
        tally = session.scalars(select(Submission).where(Submission.status == "confirmed")).one()
        session.expunge(tally)
    return tally


def test_the_public_page_shows_a_photo_tally_upright_labelled_as_a_photo(
    client, redis_conn, telegram
) -> None:
    tally = _photo_tally(client, redis_conn, telegram, "ppwp_upside_down.jpg")
    assert tally.source == "photo"
    page = html.unescape(client.get(f"/tps/{TPS}").get_data(as_text=True))
    start = page.index('id="tps-PPWP"')
    section = page[start:page.index("</section>", start)]
    upright_url = f"/tps/{TPS}/photo/{tally.id}/0/upright"
    assert f'<img class="pv-img" src="{upright_url}"' in section
    assert 'width="1050" height="1485"' in section
    assert f'href="/tps/{TPS}/photo/{tally.id}/0" class="pv-original"' in section
    assert "halaman diluruskan dari foto (diputar 180°)" in section
    assert 'aria-label="Perbesar"' in section and "photo-viewer.js" in page
    assert '<span class="source">dikirim sebagai foto</span>' in section  # not "SMS/teks"
    shown = client.get(upright_url)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert _qr_top_right(shown.data).tps_code == TPS

    api = client.get(f"/api/v1/tps/{TPS}").get_json()
    [ppwp] = [c for c in api["contests"] if c["contest"] == "PPWP"]
    assert ppwp["tally"]["source"] == "photo"
    assert ppwp["photos"] == [
        {"kind": "tally", "url": f"/tps/{TPS}/photo/{tally.id}/0", "upright_url": upright_url}
    ]
    # Only the published tally's photos, of that TPS.
    assert client.get(f"/tps/3576011001002/photo/{tally.id}/0/upright").status_code == 404
    assert client.get(f"/tps/{TPS}/photo/{tally.id}/1/upright").status_code == 404


def test_the_review_opens_the_photo_zoomed_on_the_number_that_differs(
    client, redis_conn, telegram
) -> None:
    _confirm_by_text(client, redis_conn, telegram, DIFFERENT)
    _send_photo(client, redis_conn, telegram)
    logged_in(client)
    with session_scope() as session:
        from bots.review import open_items

        [item] = open_items(session)
        item_id, inbound_id = item.id, item.inbound_id
        template = template_for(session, "PPWP", TPS)
    page = html.unescape(client.get(f"/console/review/{item_id}").get_data(as_text=True))
    viewer = page[page.index("<figure"):page.index("</figure>")]
    assert 'data-focus="01"' in viewer  # the first value that differs
    for field in ("01", "SAH"):
        box = ",".join(str(round(v, 5)) for v in field_box(template.get_field(field).slot))
        assert f'class="pv-box pv-differs" data-field="{field}" data-box="{box}"' in viewer
        assert f'data-focus-field="{field}">Perbesar {field}</button>' in viewer
    assert 'data-field="02"' not in viewer  # the same on both: not marked
    upright_url = re.search(r'class="pv-img" src="([^"]+)"', viewer).group(1)
    assert upright_url == f"/console/media/{inbound_id}/0/upright"
    assert client.get(upright_url).headers["X-Photo-Rectified"] == "1"
    # The table marks the photo's differing value.
    assert '<mark class="differs" title="berbeda dengan tally">120</mark>' in page
    # Operators only.
    client.post("/console/logout", data={})
    client.delete_cookie("session")
    anonymous = client.application.test_client().get(upright_url)
    assert anonymous.status_code in (302, 401, 403)
    with session_scope() as session:
        assert session.get(ReviewItem, item_id).status == "open"


def test_a_doubtful_reading_opens_zoomed_on_the_first_doubted_number(
    client, redis_conn, telegram
) -> None:
    tally = _photo_tally(client, redis_conn, telegram, "ppwp_upside_down.jpg")
    with session_scope() as session:
        item = session.scalars(
            select(ReviewItem).where(ReviewItem.kind == "low_confidence")
        ).one()
        doubted, item_id = list(item.detail["fields"]), item.id
        template = template_for(session, "PPWP", TPS)
    assert item.submission_id == tally.id and doubted  # the reader doubted this page
    logged_in(client)
    page = html.unescape(client.get(f"/console/review/{item_id}").get_data(as_text=True))
    viewer = page[page.index("<figure"):page.index("</figure>")]
    assert f'data-focus="{doubted[0]}"' in viewer
    marked = re.findall(r'class="pv-box pv-doubt" data-field="([^"]+)" data-box="([^"]+)"', viewer)
    assert [field for field, _ in marked] == doubted
    for field, box in marked:
        assert box == ",".join(str(round(v, 5)) for v in field_box(template.get_field(field).slot))
    assert "pv-differs" not in viewer


def test_a_page_whose_qr_code_is_lost_gets_its_boxes_from_the_form_it_was_filed_under(
    demo, tmp_path, monkeypatch
) -> None:
    from relay import media

    monkeypatch.setenv("PHOTO_CACHE_DIR", str(tmp_path / "cache"))
    key = media.save((GOLDEN / "ppwp_qr_lost.jpg").read_bytes(), "image/jpeg")
    meta = photo_view.meta_of(key)
    assert meta["rectified"] and meta["contest"] is None  # straightened, QR unreadable
    with session_scope() as session:
        assert photo_view.field_boxes(session, meta) == {}
        boxes = photo_view.field_boxes(session, meta, ("PPWP", TPS))
        template = template_for(session, "PPWP", TPS)
    assert boxes["SAH"] == tuple(round(v, 5) for v in field_box(template.get_field("SAH").slot))
    assert set(boxes) == {f.key for f in template.fields_on(1)}


def test_a_missing_or_broken_photo_has_no_meta_but_a_bug_is_not_hidden(
    tmp_path, monkeypatch
) -> None:
    from relay import media

    monkeypatch.setenv("PHOTO_CACHE_DIR", str(tmp_path / "cache"))
    assert photo_view.meta_of("00/" + "0" * 64 + ".jpg") is None  # not stored
    assert photo_view.meta_of(media.save(b"\xff\xd8\xff not a JPEG", "image/jpeg")) is None
    with pytest.raises(TypeError):  # a caller's bug: no key at all
        photo_view.meta_of(None)  # type: ignore[arg-type]
