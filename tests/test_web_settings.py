"""A gunicorn web worker reads its settings once, when it has loaded the app
(gunicorn.conf.py's post_worker_init), not on every request."""

from __future__ import annotations

import runpy

import pytest

from relay.config import ROOT, load_settings, settings_frozen


def test_a_web_worker_reads_its_settings_once(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    monkeypatch.setenv("PUBLIC_URL", "https://before.example")
    with settings_frozen():  # puts back whatever was frozen before, when done
        conf["post_worker_init"](None)
        monkeypatch.setenv("PUBLIC_URL", "https://after.example")
        assert load_settings().public_url == "https://before.example"
    assert load_settings().public_url == "https://after.example"
