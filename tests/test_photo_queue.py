"""Photo work has its own queue: a worker that takes only `inbound` answers the officer's
message and leaves the download and the reading to a photo worker (deploy/ runs them apart),
so a text never waits behind a form being read."""

from __future__ import annotations

from rq import Queue, Worker

from jobs.queues import INBOUND, INBOUND_UNKNOWN, PHOTO
from tests.fakes import telegram_updates as tu
from tests.support import drain
from tests.test_photo_flow import GOLDEN, PHONE, USER, post


def _work(redis_conn, *names: str) -> None:
    queues = [Queue(name, connection=redis_conn) for name in names]
    Worker(queues, connection=redis_conn).work(burst=True, logging_level="WARNING")


def test_text_workers_leave_photos_to_photo_workers(
    client, redis_conn, telegram, media_dir
) -> None:
    post(client, tu.contact_update(9400, USER, PHONE))
    _work(redis_conn, INBOUND, INBOUND_UNKNOWN)  # registered: the officer's number is known
    content = (GOLDEN / "ppwp_clean.jpg").read_bytes()
    file_id = telegram.add_file(content, "photos/ppwp_clean.jpg")
    post(client, tu.photo_update(9401, USER, file_id=file_id, file_size=len(content)))

    _work(redis_conn, INBOUND, INBOUND_UNKNOWN)  # a text worker: the conversation only
    photo_queue = Queue(PHOTO, connection=redis_conn)
    [waiting] = _photo_inbound_ids()
    assert photo_queue.job_ids == [f"media-{waiting}"]
    assert _readings() == 0  # the text worker read nothing

    _work(redis_conn, PHOTO)  # the photo worker: download, then read
    assert photo_queue.count == 0
    assert _readings() == 1  # the photo worker fetched and read it
    drain(redis_conn)  # the replies go out
    replies = telegram.sent_messages(USER)
    assert replies[1]["text"].startswith("Foto diterima dan disimpan")
    assert replies[2]["caption"].startswith("Dibaca dari foto PPWP TPS 3576011001001")


def _readings() -> int:
    from sqlalchemy import func, select

    from jobs.photo import READ_SEQUENCE
    from relay.db import session_scope
    from relay.models import OutboundMessage

    with session_scope() as session:
        return session.scalar(
            select(func.count()).where(OutboundMessage.sequence == READ_SEQUENCE)
        )


def _photo_inbound_ids() -> list[int]:
    from sqlalchemy import select

    from relay.db import session_scope
    from relay.models import InboundMessage

    with session_scope() as session:
        return list(
            session.scalars(
                select(InboundMessage.id).where(InboundMessage.follow_up.is_not(None))
            )
        )
