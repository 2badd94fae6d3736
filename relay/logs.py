"""Logging for every process (web, worker, sweeper, poller, CLI): one format, to stdout, and
no phone number in any record.

Officers' numbers are personal data and logs travel further than the database (terminals,
log shippers, bug reports), so every record is masked when it is made: the message with its
arguments, and the traceback of an exception (a database error quotes its parameters).
`+6281234567801` is logged as `+62812****7801`, `081234567801` as `0812****7801`,
`whatsapp:+62…` likewise.

Rotation: the processes write to stdout/stderr only; under honcho (`make run`) that is the
terminal, in production the process manager keeps and rotates it (journald, supervisor's
`stdout_logfile_maxbytes`, Docker's log driver). The one file the system writes itself,
`var/redis.log` of `make run`'s private Redis, is rotated by scripts/run.sh.
"""

from __future__ import annotations

import logging
import re
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# E.164 (+ and 8-15 digits, also after "whatsapp:"), and Indonesian numbers as typed:
# 08… and 628… (a 13-digit TPS code of province 62 never has 8 as its fourth digit).
_PHONE = re.compile(r"\+\d{8,15}(?!\d)|(?<![\d+])(?:08\d{7,11}|628\d{7,11})(?!\d)")
_SHOWN_END = 4


def mask_phones(text: str) -> str:
    """Every phone number in `text` with its middle digits starred."""
    return _PHONE.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    """Country and operator prefix (at most 5 digits) and the last 4 stay, at least 4 go."""
    number = match.group()
    plus = number.startswith("+")
    digits = number[1:] if plus else number
    shown = min(5, len(digits) - _SHOWN_END - 4)
    return ("+" if plus else "") + digits[:shown] + "****" + digits[-_SHOWN_END:]


class MaskPhones(logging.Filter):
    """Masks phone numbers in a record's message and traceback (changes the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad arguments: logging reports that when the record is written
            return True
        record.msg, record.args = mask_phones(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        return True


_MASK = MaskPhones()
_installed = False


def install_masking() -> None:
    """Mask every record this process makes, whichever library logs it and whichever
    handler (ours, RQ's, gunicorn's, pytest's) writes it: a record factory, not a filter
    on one handler that another handler would bypass. Idempotent."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _MASK.filter(record)
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True


def configure(level: int = logging.INFO) -> None:
    """The process's logging: INFO and up to stdout (unless configured already), masked."""
    install_masking()
    logging.basicConfig(level=level, format=FORMAT)
    # Alembic announces every plugin and migration step at INFO: operators see only its warnings.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # Twilio's client logs each request's method, URL, headers and response in 12 INFO lines
    # per send (~1 ms of a sender's CPU); jobs.outbound logs the send's outcome in one.
    logging.getLogger("twilio.http_client").setLevel(max(level, logging.WARNING))
