"""The ceiling for bench/ingest.py: a bare Flask app that answers every webhook 200 with the
same empty TwiML, served by gunicorn with the same settings as the real `web` process."""

from __future__ import annotations

from flask import Flask, Response

app = Flask(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@app.post("/webhooks/<name>")
def receive(name: str) -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
