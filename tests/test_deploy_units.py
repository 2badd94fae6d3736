"""deploy/systemd runs what the Procfile runs (the processes `make run` and the tests start),
split for production: text and photo workers apart. A queue added to the code and not to a
unit would never be worked on a deployed system; this test fails first."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from jobs.queues import INBOUND, INBOUND_UNKNOWN, OUTBOUND_QUEUES, PHOTO, QUEUE_NAMES
from relay.config import ROOT

UNITS = ROOT / "deploy" / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def _command(name: str) -> list[str]:
    line = _unit(name)["Service"]["ExecStart"]
    words = shlex.split(line)
    if words[:2] == ["/bin/sh", "-c"]:  # exec … inside sh -c for $(hostname)
        words = shlex.split(words[2].removeprefix("exec "))
    return words


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    processes = dict(line.split(": ", 1) for line in lines if line.strip())
    return {name: shlex.split(command) for name, command in processes.items()}


def _queues(words: list[str]) -> list[str]:
    """The queue names at the end of an `rq worker` command line."""
    queues: list[str] = []
    for word in reversed(words):
        if word.startswith("-") or word in {".", "round_robin"} or "$" in word:
            break
        queues.insert(0, word)
    return [q for q in queues if q in QUEUE_NAMES]


def test_every_queue_is_worked_by_a_unit_as_by_the_procfile() -> None:
    procfile = _procfile()
    text, photo = _queues(_command("relay-worker@.service")), _queues(
        _command("relay-photo-worker@.service")
    )
    assert text == [INBOUND, INBOUND_UNKNOWN]  # officers first, senders on no roster last
    assert photo == [PHOTO]
    assert sorted(text + photo) == sorted(_queues(procfile["worker"]))
    sender = _queues(_command("relay-sender@.service"))
    assert sender == _queues(procfile["sender"])
    assert set(OUTBOUND_QUEUES) <= set(sender)
    assert set(text + photo + sender) == set(QUEUE_NAMES)


def test_units_run_the_procfile_commands_from_the_venv() -> None:
    procfile = _procfile()
    for unit, process in (
        ("relay-worker@.service", "worker"),
        ("relay-photo-worker@.service", "worker"),
        ("relay-sender@.service", "sender"),
        ("relay-sweeper.service", "sweeper"),
        ("relay-telegram-poll.service", "telegram-poll"),
        ("relay-web.service", "web"),
    ):
        words = _command(unit)
        expected = [w for w in procfile[process] if w not in {"env", "OPENBLAS_NUM_THREADS=1"}]
        assert Path(words[0]).name == expected[0], (unit, words)
        assert words[0].startswith("/opt/tps-relay/.venv/bin/"), unit
        if expected[0] == "rq":  # same worker class and options
            assert words[words.index("-w") + 1] == expected[expected.index("-w") + 1], unit
        else:
            assert words[1:] == expected[1:], unit
        service = _unit(unit)["Service"]
        assert service["Restart"] == "always", unit
        assert service["User"] == "relay" and service["NoNewPrivileges"] == "yes", unit
        assert service["EnvironmentFile"] == "/etc/tps-relay/relay.env", unit
