"""Public anchors of the audit log under /api/v1/audit/: the head, and any entry by id.

The audit log is a hash chain (relay.audit); what the chain alone cannot show — entries cut
off the end, or a log rewritten and re-hashed to the end — an anchor noted earlier shows
(relay.audit_verify). Publishing the head lets anyone outside (watchdogs, journalists) note
anchors without asking us, and check them later here (`bin/relay audit watch`). Only the
chain is public: ids, hashes and times, never the actor or the detail (web.public).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue

from relay.db import session_scope
from web import public

blueprint = Blueprint("audit", __name__, url_prefix="/audit")
MAX_ID = 2**31 - 1  # audit_log.id is an INTEGER


@blueprint.after_request
def _revalidated(response: Response) -> Response:
    """An ETag of the content and `no-cache`: an observer polling the head gets a 304 when
    nothing was appended, and no cache in between may answer with an entry as it was before
    a rewrite — showing the change is the point."""
    if request.method == "GET" and response.status_code == 200:
        response.add_etag()
        response.headers["Cache-Control"] = "no-cache"
        response.make_conditional(request)
    return response


@blueprint.get("/head")
def head() -> ResponseReturnValue:
    """The newest entry: {"id", "hash", "at"}; id 0 and the all-zero hash while empty."""
    with session_scope() as db:
        return jsonify(public.audit_head(db))


@blueprint.get("/entries/<int:entry_id>")
def entry(entry_id: int) -> ResponseReturnValue:
    """One entry: {"id", "hash", "prev_hash", "at"}; 404 when there is none at that id."""
    if entry_id > MAX_ID:  # the column's range: a larger id is no entry, not a driver error
        abort(404)
    with session_scope() as db:
        found = public.audit_entry(db, entry_id)
    if found is None:
        abort(404)
    return jsonify(found)
