"""Phone numbers never reach a log: the masking (relay/logs.py) on real records of a
pipeline run, and its patterns as a table."""

from __future__ import annotations

import logging
import re

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy.exc import OperationalError

from jobs.queues import QUEUE_NAMES
from relay.logs import install_masking, mask_phones
from tests.support import post_gateway, post_twilio_sms

OFFICER = "+6281234567801"
STRANGER = "+6285700000042"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
# The numbers of this test in any form (+62…, 62…, 0…): their national digits, unmasked.
RAW_NUMBER = re.compile(r"81234567801|81234567802|85700000042")

# (text as logged, as written)
MASKED = [
    (
        "inbound 7 from twilio/+6281234567801: processed",
        "inbound 7 from twilio/+62812****7801: processed",
    ),
    ("whatsapp:+6281234567801", "whatsapp:+62812****7801"),
    ("roster line 3: 081234567801", "roster line 3: 0812****7801"),
    ("from 6281234567801.", "from 62812****7801."),
    ("Japan +81234567806, US +12025550123", "Japan +812****7806, US +120****0123"),
    (
        "TPS 3576011001001 and 6271011001001 kode 7KQ3MD",
        "TPS 3576011001001 and 6271011001001 kode 7KQ3MD",
    ),
    (
        "inbound-12345 outbound 99 at 2024-02-14T13:05:00",
        "inbound-12345 outbound 99 at 2024-02-14T13:05:00",
    ),
]


@pytest.mark.parametrize(("logged", "written"), MASKED)
def test_phone_numbers_are_masked_and_nothing_else(logged: str, written: str) -> None:
    assert mask_phones(logged) == written


def test_no_record_of_a_pipeline_run_holds_a_phone_number(
    client, redis_conn, twilio, gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """An officer's tally, an outsider's message and a gateway message through the webhooks
    and RQ workers running in this process (so caplog sees the jobs' records), plus a
    logged exception whose text quotes a number, as a database error does."""
    install_masking()  # what create_app and the worker do (idempotent)
    caplog.set_level(logging.INFO)
    post_twilio_sms(client, OFFICER, TALLY)
    post_twilio_sms(client, STRANGER, TALLY)
    post_twilio_sms(client, "whatsapp:" + OFFICER, "STATUS")
    post_gateway(client, "gw-1", "081234567802", "STATUS")
    queues = [Queue(name, connection=redis_conn) for name in QUEUE_NAMES]
    SimpleWorker(queues, connection=redis_conn).work(burst=True)
    try:
        raise OperationalError("INSERT …", {"sender": OFFICER}, Exception("locked"))
    except OperationalError:
        logging.getLogger("jobs.inbound").exception("inbound 1 from twilio/%s failed", OFFICER)

    messages = [record.getMessage() for record in caplog.records]
    assert sum("from twilio/+62812****7801" in m for m in messages) >= 1
    assert any("+62857****0042" in m for m in messages)
    assert any("from sms-gateway/+62812****7802" in m for m in messages)
    for record in caplog.records:
        for text in (record.getMessage(), record.exc_text or ""):
            assert not RAW_NUMBER.search(text), text
    assert "+62812****7801" in caplog.text and OFFICER not in caplog.text
