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


def _photo_waiting(client, redis_conn, telegram, update_id: int) -> int:
    """A registered officer's photo, its conversation turn done: the id of the message whose
    download waits in the photo queue."""
    post(client, tu.contact_update(update_id, USER, PHONE))
    content = (GOLDEN / "ppwp_clean.jpg").read_bytes()
    file_id = telegram.add_file(content, "photos/ppwp_clean.jpg")
    post(client, tu.photo_update(update_id + 1, USER, file_id=file_id, file_size=len(content)))
    _work(redis_conn, INBOUND, INBOUND_UNKNOWN)
    [waiting] = _photo_inbound_ids()
    assert Queue(PHOTO, connection=redis_conn).job_ids == [f"media-{waiting}"]
    return waiting


def test_a_photo_worker_reads_the_photo_in_its_download_job(
    client, redis_conn, telegram, media_dir
) -> None:
    """A worker with a reader process reads the photos it has just downloaded in the same
    job: no reading job is queued for it to take next (one job less per photo)."""
    from jobs.worker import RelayWorker

    _photo_waiting(client, redis_conn, telegram, 9410)
    worker = RelayWorker([Queue(PHOTO, connection=redis_conn)], connection=redis_conn)
    worker.work(burst=True, max_jobs=1, logging_level="WARNING")  # the download job only

    assert Queue(PHOTO, connection=redis_conn).count == 0  # no reading job queued
    assert _readings() == 1 and _photo_inbound_ids() == []  # read, nothing left to do
    drain(redis_conn)
    assert telegram.sent_messages(USER)[2]["caption"].startswith("Dibaca dari foto PPWP")


def test_a_reading_that_fails_after_the_download_is_queued_as_its_own_job(
    client, redis_conn, telegram, media_dir
) -> None:
    """The reader fails while reading a photo just downloaded (here: it hangs past its
    timeout): the download is kept and the reading goes to the photo queue as its own job
    (retried by RQ and driven by the sweeper as before), which a new reader reads once."""
    import os
    import signal

    from jobs import reader_process
    from jobs.media import fetch_media
    from tests.ocr_support import demo_lookup, photo

    inbound_id = _photo_waiting(client, redis_conn, telegram, 9420)
    Queue(PHOTO, connection=redis_conn).remove(f"media-{inbound_id}")  # run here instead
    reader = reader_process.start_reader(reader_process.Limits(timeout=2.0))
    try:
        assert reader.read(photo("ppwp_clean.jpg"), demo_lookup()).error is None  # warm
        assert reader.pid is not None
        os.kill(reader.pid, signal.SIGSTOP)  # the next reading hangs until it times out
        assert fetch_media(inbound_id) == "fetched, reading queued"
    finally:
        reader_process.stop_reader()
    assert Queue(PHOTO, connection=redis_conn).job_ids == [f"photo-{inbound_id}"]
    assert _readings() == 0 and _photo_inbound_ids() == [inbound_id]  # waits at "photo"

    drain(redis_conn)
    assert _readings() == 1 and _photo_inbound_ids() == []
    assert telegram.sent_messages(USER)[2]["caption"].startswith("Dibaca dari foto PPWP")


def test_the_download_job_reads_the_bytes_it_downloaded_not_the_stores_copy(
    client, redis_conn, telegram, media_dir
) -> None:
    """The photo just downloaded is read as it came (with an S3 store, no GET of the object
    just PUT). Seen here through a store whose copy under the photo's key is damaged (put
    keeps what a content-addressed key already holds): the reading is of the download."""
    from jobs.worker import RelayWorker
    from relay import media

    _photo_waiting(client, redis_conn, telegram, 9430)
    key = media.key_for((GOLDEN / "ppwp_clean.jpg").read_bytes(), "image/jpeg")
    (media_dir / key).parent.mkdir(parents=True)
    (media_dir / key).write_bytes(b"\xff\xd8\xff damaged")
    worker = RelayWorker([Queue(PHOTO, connection=redis_conn)], connection=redis_conn)
    worker.work(burst=True, max_jobs=1, logging_level="WARNING")  # the download job only

    assert _readings() == 1 and _photo_inbound_ids() == []
    assert media.load(key) == b"\xff\xd8\xff damaged"  # the store's copy was not read
    drain(redis_conn)
    reading = telegram.sent_messages(USER)[2]
    assert reading["caption"].startswith("Dibaca dari foto PPWP"), reading


def test_a_download_job_cut_by_its_timeout_while_reading_queues_the_reading(
    client, redis_conn, telegram, media_dir
) -> None:
    """The download job keeps its short in-process timeout (jobs.worker.READS_AFTER): a
    reading it cuts is queued as a reading job of its own, which has the whole job timeout;
    the reader it interrupted is killed (the next reading starts a new one)."""
    import os
    import signal

    from rq.timeouts import UnixSignalDeathPenalty

    from jobs import reader_process
    from jobs.media import fetch_media
    from tests.ocr_support import demo_lookup, photo

    inbound_id = _photo_waiting(client, redis_conn, telegram, 9440)
    Queue(PHOTO, connection=redis_conn).remove(f"media-{inbound_id}")  # run here instead
    reader = reader_process.start_reader(reader_process.Limits(timeout=60.0))
    try:
        assert reader.read(photo("ppwp_clean.jpg"), demo_lookup()).error is None  # warm
        stopped = reader.pid
        assert stopped is not None
        os.kill(stopped, signal.SIGSTOP)  # the next reading hangs past the job's timeout
        with UnixSignalDeathPenalty(2, job_id=f"media-{inbound_id}"):
            assert fetch_media(inbound_id) == "fetched, reading queued"
        assert not os.path.exists(f"/proc/{stopped}")  # the interrupted reader was killed
    finally:
        reader_process.stop_reader()
    assert Queue(PHOTO, connection=redis_conn).job_ids == [f"photo-{inbound_id}"]
    drain(redis_conn)
    assert _readings() == 1 and _photo_inbound_ids() == []
