"""Photos in object storage: the S3 store against a real S3-protocol server (moto's server
mode, started by the tests on 127.0.0.1, boto3 unmocked) and the local directory behind the
same interface; signed links that work, expire and refuse tampering; the photo pipeline
(Telegram photo → worker fetches → reads → console and public page show it) with
MEDIA_URL=s3://…; and a store that is down leaves the photo retryable, never lost."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from relay import media
from relay.db import session_scope
from relay.media_store import LocalStore, MediaMissing, sign
from relay.models import InboundMessage, Submission
from tests.conftest import TELEGRAM_SECRET
from tests.fakes import telegram_updates as tu
from tests.s3_support import ACCESS_KEY, REGION, MotoServer
from tests.support import drain
from tests.web_support import logged_in

GOLDEN = Path(__file__).parent / "data" / "ocr"
CLEAN = (GOLDEN / "ppwp_clean.jpg").read_bytes()
USER = 555000444
PHONE = "6281234567801"  # kpps of TPS 3576011001001, whose PPWP form the golden photos show
TPS = "3576011001001"


# --- the S3 store ------------------------------------------------------------------------


def test_s3_store_keeps_photos_in_the_bucket_under_the_prefix(s3_media) -> None:
    server, bucket = s3_media
    key = media.save(CLEAN, "image/jpeg")
    assert key == media.key_for(CLEAN, "image/jpeg") and key.endswith(".jpg")
    stored = server.client().get_object(Bucket=bucket, Key=f"photos/{key}")
    assert stored["Body"].read() == CLEAN and stored["ContentType"] == "image/jpeg"
    assert media.load(key) == CLEAN
    assert media.exists(key)
    assert media.save(CLEAN, "image/jpeg") == key  # content-addressed: once is enough
    missing = media.key_for(b"never stored", "image/png")
    assert not media.exists(missing)
    with pytest.raises(MediaMissing):
        media.load(missing)
    assert media.describe(key) == f"s3://{bucket}/photos/{key}"


def test_s3_presigned_link_serves_the_photo_expires_and_needs_its_signature(
    s3_media, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bucket = s3_media
    monkeypatch.setenv("MEDIA_LINK_TTL", "120")
    key = media.save(CLEAN, "image/jpeg")
    link = media.signed_link(key)
    assert link.startswith(f"{server.url}/{bucket}/photos/{key}?")
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    [credential] = query["X-Amz-Credential"]  # signed with our key, for the store's region
    assert credential.startswith(ACCESS_KEY + "/") and f"/{REGION}/s3/" in credential
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.content == CLEAN
    assert fetched.headers["Content-Type"] == "image/jpeg"
    # The bucket is private: the same object without the signature is refused. (moto does
    # not check a presigned signature or its expiry; AWS, MinIO and Ceph do, with the
    # X-Amz-Expires asserted above.)
    assert requests.get(link.split("?")[0], timeout=10).status_code == 403
    # Twilio is handed the presigned URL itself.
    from relay.config import load_settings

    assert media.public_link(load_settings(), key).startswith(f"{server.url}/{bucket}/")


def test_s3_links_can_point_at_a_public_address(s3_media, monkeypatch) -> None:
    """Workers may reach the store on an internal address; links use S3_PUBLIC_ENDPOINT_URL."""
    _server, bucket = s3_media
    monkeypatch.setenv("S3_PUBLIC_ENDPOINT_URL", "https://photos.relay.example.org")
    key = media.save(CLEAN, "image/jpeg")
    assert media.signed_link(key).startswith(f"https://photos.relay.example.org/{bucket}/")
    assert media.link_origin() == "https://photos.relay.example.org"


def test_a_media_url_of_no_known_store_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("MEDIA_URL", "ftp://photos")
    with pytest.raises(media.MediaConfigError):
        media.save(CLEAN, "image/jpeg")


# --- the local store ---------------------------------------------------------------------


def test_local_store_links_are_signed_and_expire(client, media_dir: Path) -> None:
    key = media.save(CLEAN, "image/jpeg")
    assert (media_dir / key).read_bytes() == CLEAN
    link = media.signed_link(key)
    assert link.startswith(f"/media/{key}?exp=")
    served = client.get(link)
    assert served.status_code == 200 and served.data == CLEAN and served.mimetype == "image/jpeg"
    query = parse_qs(urlsplit(link).query)
    expires, signature = query["exp"][0], query["sig"][0]
    # Tampered: a later expiry with the same signature, the signature on another photo, none.
    assert client.get(f"/media/{key}?exp={int(expires) + 3600}&sig={signature}").status_code == 403
    other = media.save(b"\x89PNG\r\n\x1a\n" + b"0" * 32, "image/png")
    assert client.get(f"/media/{other}?exp={expires}&sig={signature}").status_code == 403
    assert client.get(f"/media/{key}").status_code == 403
    # Expired: signed with the app's own secret, for a moment already past.
    store = media.store()
    assert isinstance(store, LocalStore)
    past = int(time.time()) - 1
    secret = client.application.config["SECRET_KEY"]
    assert client.get(f"/media/{key}?exp={past}&sig={sign(secret, key, past)}").status_code == 403
    short = media.signed_link(key, expires_in=1)
    assert client.get(short).status_code == 200
    time.sleep(2.1)
    assert client.get(short).status_code == 403
    assert client.get("/media/../../etc/passwd?exp=9999999999&sig=x").status_code in (403, 404)


def test_local_links_are_not_served_while_photos_are_in_s3(client, s3_media) -> None:
    key = media.save(CLEAN, "image/jpeg")
    assert client.get(f"/media/{key}?exp=9999999999&sig=x").status_code == 404


# --- the pipeline with MEDIA_URL=s3://… ----------------------------------------------------


def _post(client, update: dict) -> None:
    response = client.post(
        "/webhooks/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code == 200


def test_photo_pipeline_with_photos_in_s3(client, redis_conn, telegram, s3_media) -> None:
    server, bucket = s3_media
    _post(client, tu.contact_update(9500, USER, PHONE))
    file_id = telegram.add_file(CLEAN, "photos/s3-pipeline.jpg")
    _post(client, tu.photo_update(9501, USER, file_id=file_id, file_size=len(CLEAN)))
    drain(redis_conn)
    ack, reading = telegram.sent_messages(USER)[1:]
    assert ack["text"].startswith("Foto diterima dan disimpan")
    assert reading["caption"].startswith("Dibaca dari foto PPWP TPS 3576011001001:")
    assert reading["photo"][:3] == b"\xff\xd8\xff"  # the annotated page, read back from S3
    key = media.key_for(CLEAN, "image/jpeg")
    listed = server.client().list_objects_v2(Bucket=bucket)["Contents"]
    names = {item["Key"] for item in listed}
    assert f"photos/{key}" in names and len(names) == 2  # the photo and its annotated page
    buttons = reading["reply_markup"]["inline_keyboard"][0]
    _post(client, tu.callback_update(
        9502, USER, buttons[0]["callback_data"], reading["message_id"], reading["caption"]))
    drain(redis_conn)
    with session_scope() as session:
        submission = session.scalars(select(Submission)).one()
        assert submission.status == "confirmed"
        submission_id, inbound_id = submission.id, submission.inbound_id

    page = client.get(f"/tps/{TPS}")
    link = f"/tps/{TPS}/photo/{submission_id}/0"
    html = page.get_data(as_text=True)
    assert f'src="{link}/upright"' in html and f'href="{link}"' in html
    upright = client.get(f"{link}/upright")  # rendered by the web process from S3's bytes
    assert upright.status_code == 200 and upright.data[:3] == b"\xff\xd8\xff"
    assert f"img-src 'self' data: {server.url};" in page.headers["Content-Security-Policy"]
    shown = client.get(link)
    assert shown.status_code == 302 and shown.headers["Location"].startswith(server.url)
    assert requests.get(shown.headers["Location"], timeout=10).content == CLEAN

    logged_in(client)
    console = client.get(f"/console/media/{inbound_id}/0")
    assert console.status_code == 302 and console.headers["Location"].startswith(server.url)
    assert console.headers["Cache-Control"] == "no-store"
    assert requests.get(console.headers["Location"], timeout=10).content == CLEAN


def test_store_down_leaves_the_photo_to_fetch_again(
    client, redis_conn, telegram, s3_media, monkeypatch
) -> None:
    """Stored before the ack, never lost: while the store is down the fetch job fails (RQ
    and the sweeper retry it) and the message still waits for its media. Once the store
    answers, the same job keeps the photo."""
    from jobs.media import fetch_media

    down = MotoServer()  # a port nothing listens on, until started
    monkeypatch.setenv("S3_ENDPOINT_URL", down.url)
    _post(client, tu.contact_update(9600, USER, PHONE))
    drain(redis_conn)  # registered
    file_id = telegram.add_file(CLEAN, "photos/store-down.jpg")
    _post(client, tu.photo_update(9601, USER, file_id=file_id, file_size=len(CLEAN)))
    with session_scope() as session:
        inbound_id = session.scalars(
            select(InboundMessage.id).where(InboundMessage.provider_id == "9601")
        ).one()
    from jobs.inbound import process_inbound

    process_inbound(inbound_id)  # the conversation hands the photo to the media stage
    with pytest.raises(media.MediaUnavailable, match="Could not connect"):
        fetch_media(inbound_id)
    with session_scope() as session:
        message = session.get_one(InboundMessage, inbound_id)
        assert message.follow_up == "media" and "key" not in message.media[0]

    with down.start():
        down.new_bucket(s3_media[1])
        # This process has no reader (jobs.reader_process): the reading is queued.
        assert fetch_media(inbound_id) == "fetched, reading queued"
        with session_scope() as session:
            message = session.get_one(InboundMessage, inbound_id)
            assert message.media[0]["key"] == media.key_for(CLEAN, "image/jpeg")
            assert message.follow_up == "photo"
        assert media.load(message.media[0]["key"]) == CLEAN


def test_simulator_photo_is_refused_while_the_store_is_down(
    client, redis_conn, s3_media, monkeypatch
) -> None:
    """Nothing is acknowledged that was not kept: the operator is told to send it again."""
    import io

    from tests.web_support import csrf_from

    logged_in(client)
    token = csrf_from(client.get("/simulator/").data)
    monkeypatch.setenv("S3_ENDPOINT_URL", MotoServer().url)  # nothing listens there
    response = client.post(
        "/simulator/photo",
        data={"phone": "081234567801", "photo": (io.BytesIO(CLEAN), "c.jpg", "image/jpeg")},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("Foto tidak tersimpan: penyimpanan foto")
    with session_scope() as session:
        assert session.scalars(select(InboundMessage)).all() == []


def test_the_local_store_is_kept_per_directory_and_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIA_URL", raising=False)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "one"))
    monkeypatch.setenv("SECRET_KEY", "first-secret")
    first = media.store()
    assert media.store() is first  # not built (nor the settings read) again per call
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "two"))
    moved = media.store()
    assert isinstance(moved, LocalStore) and moved.directory == tmp_path / "two"
    monkeypatch.setenv("SECRET_KEY", "second-secret")
    resigned = media.store()
    assert resigned is not moved and resigned.directory == tmp_path / "two"
    assert resigned.signed_url("k", 60) != moved.signed_url("k", 60)
