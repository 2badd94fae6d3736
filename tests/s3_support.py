"""An S3-protocol server for the tests: moto's server mode as a subprocess on 127.0.0.1 (a
free port), like the redis-server of tests/conftest.py; boto3 talks to it over HTTP, nothing
of boto is mocked. `stop()` and `start()` keep the address, like a store going down and back
(moto keeps objects in memory: a restarted server is empty)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest
import requests

from tests.live import ChildProcess, free_port

ACCESS_KEY = "AKIATESTRELAY0000001"
SECRET_KEY = "test-secret-access-key-for-relay-tests"
REGION = "ap-southeast-3"  # Jakarta


class MotoServer(ChildProcess):
    """moto's S3 server (`python -m moto.server`) on a free port of 127.0.0.1."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                return self
            except requests.RequestException:
                if self.proc.poll() is not None:
                    error = self.proc.stderr.read() if self.proc.stderr else b""
                    raise RuntimeError(f"moto server exited: {error!r}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not answer") from None
                time.sleep(0.05)

    def client(self):  # type: ignore[no-untyped-def]
        import boto3  # only tests that use the store pay for the import

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self, name: str | None = None) -> str:
        name = name or f"relay-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name


def s3_env(server: MotoServer, bucket: str, prefix: str = "photos") -> dict[str, str]:
    """The environment that puts photos in `bucket` (README: object storage)."""
    return {
        "MEDIA_URL": f"s3://{bucket}/{prefix}",
        "S3_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
    }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3_media(
    s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[MotoServer, str]]:
    """Photos in a fresh bucket of the test's S3 server; MEDIA_DIR points at a folder that
    must stay empty (nothing may fall back to the local disk)."""
    bucket = s3_server.new_bucket()
    for name, value in s3_env(s3_server, bucket).items():
        monkeypatch.setenv(name, value)
    local = tmp_path / "local-media"
    monkeypatch.setenv("MEDIA_DIR", str(local))
    yield s3_server, bucket
    assert not local.exists() or not any(local.iterdir()), "a photo went to the local disk"
