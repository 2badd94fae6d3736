"""The audit head is published, so outsiders hold anchors without asking us: public JSON of
the head and of any entry (hashes and times, never who or what), the head in the public
pages' footer, and `bin/relay audit watch URL`, which notes the head a running server
publishes and catches, from outside, a log cut off at the end or rewritten and re-hashed
to the end; `audit verify --anchors FILE` checks the same file against the database."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from relay.audit import GENESIS, record
from relay.config import ROOT
from relay.db import session_scope
from relay.models import as_utc
from tests.fakes.http_fake import FakeHTTPServer, RecordedRequest, Reply
from tests.live import Gunicorn, process_env
from tests.test_audit_chain import entries, rehash_from, tampering, write_entries

SECRET_ACTOR = "officer:+6281234567801"
SECRET_DETAIL = "Bu Sulastri's own words"


@pytest.fixture
def web(db: str):
    from webhooks import create_app

    return create_app().test_client()


@pytest.fixture
def cli(db: str):
    from webhooks import create_app

    return create_app().test_cli_runner()


def write_secret_entries(count: int) -> None:
    for i in range(count):
        with session_scope() as session:
            record(session, SECRET_ACTOR, "tally_received", "submission", i, {"who": SECRET_DETAIL})


# --- the public JSON ---------------------------------------------------------------------------


def test_head_and_entries_are_public_hashes_and_times_only(web) -> None:
    empty = web.get("/api/v1/audit/head")
    assert empty.status_code == 200
    assert empty.get_json() == {"id": 0, "hash": GENESIS, "at": None}

    write_secret_entries(3)
    log = entries()
    head = web.get("/api/v1/audit/head")
    assert head.get_json() == {
        "id": 3,
        "hash": log[2].hash,
        "at": as_utc(log[2].at).isoformat(),
    }
    assert head.headers["Access-Control-Allow-Origin"] == "*"
    second = web.get("/api/v1/audit/entries/2").get_json()
    assert second == {
        "id": 2,
        "hash": log[1].hash,
        "prev_hash": log[0].hash,
        "at": second["at"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", second["at"])
    assert web.get("/api/v1/audit/entries/1").get_json()["prev_hash"] == GENESIS
    for path in ("/api/v1/audit/head", "/api/v1/audit/entries/1", "/api/v1/audit/entries/3"):
        body = web.get(path).get_data(as_text=True)
        for secret in (SECRET_ACTOR, "6281234567801", SECRET_DETAIL, "officer", "tally_received"):
            assert secret not in body, (path, secret)

    for missing in ("4", "0", "x", "-1", str(2**31), "9" * 30):
        absent = web.get(f"/api/v1/audit/entries/{missing}")
        assert absent.status_code == 404 and absent.get_json() == {"error": "not found"}, missing


def test_an_observer_polling_the_head_gets_304_until_an_entry_is_appended(web) -> None:
    write_entries(2)
    first = web.get("/api/v1/audit/head")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"  # no cache may answer for us
    again = web.get("/api/v1/audit/head", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    write_entries(1)
    moved = web.get("/api/v1/audit/head", headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.get_json()["id"] == 3
    assert web.get("/api/v1/audit/entries/1").headers["Cache-Control"] == "no-cache"


# --- the footer --------------------------------------------------------------------------------


def _footer(page: str) -> str:
    found = re.search(r'<footer class="audit-head">(.*?)</footer>', page, re.S)
    assert found, "no audit head in the footer"
    return found.group(1)


def test_public_pages_show_the_head_in_their_footer_in_both_languages(web) -> None:
    assert "audit-head" not in web.get("/").get_data(as_text=True)  # empty log: no footer
    write_entries(12)
    head = entries()[-1]
    indonesian = _footer(web.get("/").get_data(as_text=True))
    assert f"Catatan audit #12 · {head.hash[:8]}…" in indonesian
    assert 'href="/api/v1/audit/entries/12"' in indonesian
    english = _footer(web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert f"Audit log #12 · {head.hash[:8]}…" in english
    assert head.hash[8:] not in indonesian + english  # discreet: a prefix, the link has the rest
    search = web.get("/search?q=x").get_data(as_text=True)
    assert "Catatan audit #12" in _footer(search)
    assert "audit-head" not in web.get("/console/login").get_data(as_text=True)  # public only


def test_a_new_entry_alone_keeps_a_page_304(web) -> None:
    """The head moves with every entry anywhere; a page whose figures did not change still
    answers 304 (keeping the older head it showed, as good an anchor)."""
    write_entries(1)
    first = web.get("/")
    etag = first.headers["ETag"]
    write_entries(1)
    again = web.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    fresh = web.get("/").get_data(as_text=True)
    assert "Catatan audit #2" in _footer(fresh)


# --- an outside observer: `bin/relay audit watch` against the running web process ------------


@pytest.fixture(scope="module")
def server(database_url: str, redis_url: str, tmp_path_factory) -> Iterator[str]:
    """The Procfile's web process (gunicorn) on a local port, on the test database."""
    log_path = tmp_path_factory.mktemp("web") / "web.log"
    env = process_env(WEB_ACCESS_LOG="", WEB_CONCURRENCY="1")
    with open(log_path, "wb") as log, Gunicorn(env, log=log) as web:
        yield web.url


def observe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`bin/relay audit …` as an observer runs it: no settings, no database, only HTTP."""
    return subprocess.run(
        [sys.executable, "-m", "webhooks.relay_cli", "audit", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def anchor_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_watch_notes_healthy_growth_and_names_every_anchor_a_rewrite_changed(
    server: str, owner_db: str, cli, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.txt"
    write_entries(5)
    first = observe("watch", server, "--anchors", str(anchors), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    five = entries()[-1]
    assert [line.split()[0] for line in anchor_lines(anchors)] == [f"5:{five.hash}"]
    noted = anchor_lines(anchors)[0]
    assert re.fullmatch(rf"5:{five.hash} \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ", noted)
    assert f"audit head #5 {five.hash} noted in {anchors}" in first.stdout

    write_entries(2)  # the log grows: every earlier anchor still holds, the file gains a line
    grown = observe("watch", server, "--anchors", str(anchors), cwd=tmp_path)
    assert grown.returncode == 0, grown.stdout + grown.stderr
    seven = entries()[-1]
    assert [line.split()[0] for line in anchor_lines(anchors)] == [
        f"5:{five.hash}",
        f"7:{seven.hash}",
    ]
    assert "1 earlier anchor(s) hold" in grown.stdout
    unchanged = observe("watch", server, "--anchors", str(anchors), cwd=tmp_path)
    assert unchanged.returncode == 0 and len(anchor_lines(anchors)) == 2, unchanged.stdout
    assert "already in" in unchanged.stdout

    verified = cli.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert verified.exit_code == 0, verified.output
    assert "2 anchor(s) matched" in verified.output

    rehash_from(owner_db, 3)
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0  # the chain alone: consistent
    caught = observe("watch", server, "--anchors", str(anchors), cwd=tmp_path)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    for old in (five, seven):
        assert (
            f"anchor {old.id}:{old.hash} does not hold: entry #{old.id} now has hash "
            f"{entries()[old.id - 1].hash}: the log was rewritten up to here"
        ) in caught.stdout
    assert "2 of 2 anchors no longer hold" in caught.stdout
    assert "3 of 3" not in caught.stdout  # the rewritten head it just noted holds

    local = cli.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert local.exit_code == 1 and "entry #5: edited" in local.output, local.output


def test_watch_names_an_anchor_cut_off_the_end(
    server: str, owner_db: str, cli, tmp_path: Path
) -> None:
    write_entries(5)
    assert observe("watch", server, cwd=tmp_path).returncode == 0
    port = server.rsplit(":", 1)[1]
    default = tmp_path / f"audit-anchors-127.0.0.1_{port}.txt"  # per server, where it runs
    assert default.read_text().startswith(f"# audit anchors of {server} ")
    five = entries()[-1]

    with tampering(owner_db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= 4"))
    cut = observe("watch", server, cwd=tmp_path)
    assert cut.returncode == 1, cut.stdout + cut.stderr
    assert (
        f"anchor 5:{five.hash} does not hold: entry #5 is gone (the log now ends at #3): "
        "entries were cut off"
    ) in cut.stdout

    local = cli.invoke(args=["audit", "verify", "--anchors", str(default)])
    assert local.exit_code == 1 and "entry #5: deleted" in local.output, local.output


def test_watch_of_an_empty_log_notes_nothing(server: str, db: str, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.txt"
    empty = observe("watch", server + "/", "--anchors", str(anchors), cwd=tmp_path)
    assert empty.returncode == 0, empty.stdout + empty.stderr
    assert "is empty: nothing to note yet" in empty.stdout and not anchors.exists()


# --- errors: exit 2, one line --------------------------------------------------------------------


def test_watch_reports_an_unreachable_server_or_a_bad_address_in_one_line(
    tmp_path: Path,
) -> None:
    from tests.live import free_port

    anchors = tmp_path / "anchors.txt"
    anchors.write_text("3:" + "a" * 64 + " 2026-12-04T05:00:00Z\n")
    nobody = f"http://127.0.0.1:{free_port()}"
    down = observe("watch", nobody, "--anchors", str(anchors), cwd=tmp_path)
    assert down.returncode == 2
    assert down.stderr.count("\n") == 1 and "cannot reach the server" in down.stderr, down.stderr
    assert "Traceback" not in down.stderr
    assert anchors.read_text().count("\n") == 1  # nothing noted

    bad = observe("watch", "relay.example.org", cwd=tmp_path)
    assert bad.returncode == 2 and "is not an http(s) address" in bad.stderr, bad.stderr

    anchors.write_text("# noted by a watchdog\n\n3:xyz\n")
    garbled = observe("watch", "http://127.0.0.1:1", "--anchors", str(anchors), cwd=tmp_path)
    assert garbled.returncode == 2 and f"{anchors}:3:" in garbled.stderr, garbled.stderr


class CaptivePortal(FakeHTTPServer):
    """What a hotel's Wi-Fi answers to every address: 200 and a login page."""

    def handle(self, request: RecordedRequest) -> Reply:
        return Reply(200, "<html>Login to continue</html>", {"Content-Type": "text/html"})


def test_watch_reports_a_server_that_does_not_answer_as_a_relay(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.txt"
    with CaptivePortal() as portal:
        portal_page = observe("watch", portal.url, "--anchors", str(anchors), cwd=tmp_path)
        portal.fail_next(status=503)
        down = observe("watch", portal.url, "--anchors", str(anchors), cwd=tmp_path)
    assert portal_page.returncode == 2 and "the answer is not JSON" in portal_page.stderr
    assert down.returncode == 2 and "the server answered HTTP 503" in down.stderr, down.stderr
    assert not anchors.exists()


def test_verify_reads_an_anchors_file_and_refuses_a_garbled_one(cli, tmp_path: Path) -> None:
    write_entries(4)
    log = entries()
    anchors = tmp_path / "from-a-watchdog.txt"
    anchors.write_text(
        "# audit anchors of https://relay.example.org (bin/relay audit watch)\n"
        f"2:{log[1].hash} 2026-12-04T04:00:00Z\n\n"
        f"4:{log[3].hash[:16]} 2026-12-04T05:00:00Z\n"
    )
    held = cli.invoke(
        args=["audit", "verify", "--anchors", str(anchors), "--anchor", f"1:{log[0].hash}"]
    )
    assert held.exit_code == 0, held.output
    assert "3 anchor(s) matched" in held.output

    anchors.write_text(f"2:{log[1].hash}\n4:{'f' * 64}\n")
    wrong = cli.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert wrong.exit_code == 1 and "entry #4: edited" in wrong.output, wrong.output

    anchors.write_text("2:nothex\n")
    garbled = cli.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert garbled.exit_code == 2 and f"{anchors}:1:" in garbled.output, garbled.output
    missing = cli.invoke(args=["audit", "verify", "--anchors", str(tmp_path / "none.txt")])
    assert missing.exit_code == 2 and "does not exist" in missing.output, missing.output
