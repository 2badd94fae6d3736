"""Profile the signed Twilio SMS webhook in this process, against real Redis and the database.

    .venv/bin/python bench/webhook_profile.py [--messages 3000] [--warm 300] [--top 40]
                                              [--database-url URL]

The app `web` serves (webhooks.create_app) is called as gunicorn calls it, with a WSGI
environ per signed request (built beforehand, so the building is not counted): half of the
messages without a profiler (CPU per request), the other half under cProfile (CPU time).
What gunicorn itself does per request (parsing, writing, closing) is not here: bench/workers.py
measures the whole worker against a bare Flask app.
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import runpy
import time
from urllib.parse import urlencode

from benchkit.options import add_database_url
from benchkit.profiling import cpu_profiled
from benchkit.system import (
    PUBLIC_URL,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    message_sid,
    running_system,
    tally_text,
)

from tests.fakes.twilio_signing import realistic_sms_payload, sign


def environ_for(form: dict[str, str]) -> dict[str, object]:
    """The WSGI environ gunicorn hands the app for Twilio's POST of `form`."""
    body = urlencode(form).encode()
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/webhooks/twilio",
        "QUERY_STRING": "",
        "RAW_URI": "/webhooks/twilio",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "TwilioProxy/1.1",
        "HTTP_X_TWILIO_SIGNATURE": sign(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio", form),
        "HTTP_CONNECTION": "close",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    add_database_url(parser)
    args = parser.parse_args()
    with running_system(officers=args.messages, database_url=args.database_url) as system:
        os.environ.update(system.env)
        os.environ["WEB_ACCESS_LOG"] = ""
        from relay.config import ROOT
        from webhooks import create_app

        app = create_app()
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](None)  # as gunicorn
        environs = [
            environ_for(
                realistic_sms_payload(
                    o.phone, TWILIO_NUMBER, tally_text(o, i), TWILIO_SID, message_sid(i)
                )
            )
            for i, o in enumerate(system.officers)
        ]
        statuses: list[str] = []

        def start_response(status: str, _headers: object, _exc: object = None) -> None:
            statuses.append(status)

        def one(environ: dict[str, object]) -> None:
            body = app(environ, start_response)
            for _ in body:
                pass
            getattr(body, "close", lambda: None)()

        for environ in environs[: args.warm]:
            one(environ)
        half = (len(environs) - args.warm) // 2
        plain, rest = environs[args.warm : args.warm + half], environs[args.warm + half :]
        cpu = time.process_time()
        for environ in plain:
            one(environ)
        cpu = time.process_time() - cpu
        print(f"{len(plain)} webhooks: {cpu * 1000 / len(plain):.3f} ms CPU each, no profiler")
        cpu, profile = cpu_profiled(one, rest)
        print(f"{len(rest)} webhooks: {cpu * 1000 / len(rest):.3f} ms CPU each under cProfile")
        assert set(statuses) == {"200 OK"}, set(statuses)
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
