"""The public dashboard: progress and totals per contest and region, drill-down to each TPS.

Totals come only from the pre-aggregated tables (relay.results); a page reads a few dozen
rows whatever the size of the country. Nothing here names an officer or shows a phone number.
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay import results
from relay.ballots import PARTIES, SECTION_KEYS
from relay.db import session_scope
from relay.models import (
    AreaCandidate,
    Contest,
    InboundMessage,
    Region,
    Submission,
    TallyEvidence,
)
from web import public
from web.dashboard import tile_map
from web.dashboard.search import find, parents
from web.i18n import t
from web.photo_links import redirect_to_photo

blueprint = Blueprint("dashboard", __name__, template_folder="templates")


AUDIT_FOOTER = (b'<footer class="audit-head"', b"</footer>")


@blueprint.context_processor
def _audit_head() -> dict[str, Any]:
    """The audit log's head for the pages' footer (base.html), read only by a page that
    shows it: an anchor anyone can note (web.api.audit)."""

    def audit_head() -> dict[str, Any]:
        with session_scope() as db:
            return public.audit_head(db)

    return {"audit_head": audit_head}


def page_etag(body: bytes) -> str:
    """The page's content without its audit-head footer: the head moves with every entry
    anywhere, and a page whose figures did not change still answers 304 — keeping the
    head it showed, an older entry and as good an anchor."""
    start = body.find(AUDIT_FOOTER[0])
    if start >= 0:
        end = body.find(AUDIT_FOOTER[1], start)
        body = body[:start] + body[end + len(AUDIT_FOOTER[1]) :] if end >= 0 else body[:start]
    return hashlib.sha1(body, usedforsecurity=False).hexdigest()


@blueprint.after_request
def _conditional(response: Response) -> Response:
    """Public pages carry an ETag of their content and are revalidated on every visit
    (`no-cache`): a refresh that finds nothing new costs a 304 and no bytes. Weak: the
    footer's audit head is left out of it (page_etag)."""
    if request.method == "GET" and response.status_code == 200 and response.mimetype == "text/html":
        response.set_etag(page_etag(response.get_data()), weak=True)
        response.headers["Cache-Control"] = "no-cache"
        response.vary.update(("Accept-Language", "Cookie"))
        response.make_conditional(request)
    return response


def _contest(db: Session, code: str) -> Contest:
    contest = db.get(Contest, code.upper())
    if contest is None:
        abort(404)
    return contest


@blueprint.get("/")
def index() -> ResponseReturnValue:
    with session_scope() as db:
        overview = results.contests_overview(db)
        updated = results.last_updated(db)
        return render_template("dashboard/index.html", overview=overview, updated=updated)


@blueprint.get("/results/<contest_code>")
@blueprint.get("/results/<contest_code>/<region_code>")
def region(contest_code: str, region_code: str = "") -> ResponseReturnValue:
    with session_scope() as db:
        contest = _contest(db, contest_code)
        view = public.region_view(db, contest, region_code)
        if view is None:
            abort(404)
        chart = public.chart_points(results.timeline(db, contest.code, view["area"].code))
        updated = results.last_updated(db, contest.code, view["area"].code)
        provinces = _tile_map(view["children"]) if view["level"] == "national" else None
        return render_template(
            "dashboard/region.html",
            contest=contest,
            view=view,
            chart=chart,
            updated=updated,
            tile_map=provinces,
        )


def _tile_map(provinces: list[Any]) -> dict[str, Any]:
    width, height = tile_map.size()
    return {
        "tiles": tile_map.tiles(provinces),
        "width": width,
        "height": height,
        "tile": tile_map.TILE,
    }


@blueprint.get("/tps/<code>")
def tps(code: str) -> ResponseReturnValue:
    with session_scope() as db:
        view = public.tps_view(db, code)
        if view is None:
            abort(404)
        decided = [e["confirmed"].decided_at for e in view["contests"] if e["confirmed"]]
        updated = max((d for d in decided if d is not None), default=None)
        viewers = {
            e["contest"].code: photos.public_viewers(db, view["tps"].code, e)
            for e in view["contests"]
        }
        return render_template("dashboard/tps.html", view=view, updated=updated, viewers=viewers)


@blueprint.get("/tps/<code>/photo/<int:submission_id>/<int:index>")
def tps_photo(code: str, submission_id: int, index: int) -> ResponseReturnValue:
    """The form photo behind a TPS's published (confirmed) tally."""
    with session_scope() as db:
        submission = db.get(Submission, submission_id)
        if (
            submission is None
            or submission.tps_code != code
            or submission.status != "confirmed"
            or submission.training
        ):
            abort(404)
        inbound = db.get(InboundMessage, submission.inbound_id)
        items = list(inbound.media or []) if inbound else []
    if index >= len(items) or not isinstance(items[index], dict) or not items[index].get("key"):
        abort(404)
    return redirect_to_photo(str(items[index]["key"]), public=True)


@blueprint.get("/tps/<code>/evidence/<int:evidence_id>")
def tps_evidence(code: str, evidence_id: int) -> ResponseReturnValue:
    """A photo kept as the evidence of a TPS's confirmed tally (bots.evidence)."""
    with session_scope() as db:
        found = db.get(TallyEvidence, evidence_id)
        submission = db.get(Submission, found.submission_id) if found else None
        if (
            found is None
            or submission is None
            or submission.tps_code != code
            or submission.status != "confirmed"
            or submission.training
        ):
            abort(404)
        key = found.media_key
    return redirect_to_photo(key, public=True)


@blueprint.get("/export/<contest_code>.csv")
def export(contest_code: str) -> ResponseReturnValue:
    """The rows of one drill-down level as CSV (?region=CODE; the country by default).

    Columns: contest … ts and one per ballot number (party contests: the party's total) as
    before, then each C.Hasil section KEY with KEY_tps (how many TPS reported it), then for
    party contests NN_own (the party's own votes) and, in a region within one dapil, NN.K
    per candidate. Regional candidate contests (DPD, pilkada) end with `area` and NN_name (the
    area's candidate of that number); a row spanning several areas leaves the numbers empty
    (never summed across areas) and each area's own row (level "area") follows the first row.
    """
    region_code = request.args.get("region", "")
    with session_scope() as db:
        contest = _contest(db, contest_code)
        view = public.region_view(db, contest, region_code)
        if view is None:
            abort(404)
        numbers = [c.ballot_number for c in contest.candidates]
        regional = view["area"].regional
        if regional:  # every number any area lists; each row's own area names them
            numbers = sorted(set(db.scalars(
                select(AreaCandidate.ballot_number).where(
                    AreaCandidate.contest_code == contest.code
                )
            )))
        party = contest.kind == PARTIES
        pairs = (
            [(p["number"], c["number"]) for p in view["parties"] for c in p["candidates"]]
            if view["area"].dapil
            else []
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["contest", "code", "name", "level", "tps_total", "tps_confirmed", "sah", "ts"]
            + [f"{n:02d}" for n in numbers]
            + [name for key in SECTION_KEYS for name in (key, f"{key}_tps")]
            + ([f"{n:02d}_own" for n in numbers] if party else [])
            + [f"{p:02d}.{k}" for p, k in pairs]
            + (["area"] + [f"{n:02d}_name" for n in numbers] if regional else [])
        )
        rows: list[Any] = [view["area"], *view["areas"], *view["children"]]
        for area in rows:
            if isinstance(area, results.Area):
                own = area.own_votes()
                # A row spanning several areas of a regional contest has no votes per number.
                summed = not regional or area.area is not None
                writer.writerow(
                    [contest.code, area.code, area.name, area.level, area.tps_total]
                    + [area.tps_confirmed, area.sah, area.ts]
                    + [area.votes.get(n, 0) if summed else "" for n in numbers]
                    + [
                        value
                        for key in SECTION_KEYS
                        for value in (
                            area.sections.get(key, ""),
                            area.sections_reported.get(key, 0),
                        )
                    ]
                    + ([own.get(n, 0) for n in numbers] if party else [])
                    + [area.candidate_votes.get(pair, 0) for pair in pairs]
                    + (_area_columns(area.area, area.names, numbers) if regional else [])
                )
                continue
            confirmed = area["confirmed"]  # a TPS row
            head = [contest.code, area["code"], area["name"], "tps", 1, 1 if confirmed else 0]
            if confirmed is None:
                width = 2 + len(numbers) + 2 * len(SECTION_KEYS)
                width += (len(numbers) if party else 0) + len(pairs)
                writer.writerow(
                    head
                    + [""] * width
                    + (_area_columns(view["area"].area, view["area"].names, numbers)
                       if regional else [])
                )
                continue
            totals, own = confirmed.votes_by_ballot(), confirmed.own_votes_by_ballot()
            candidates = confirmed.candidate_votes_by_number()
            sections = results.sections_of(confirmed)
            writer.writerow(
                head
                + [confirmed.sah, confirmed.ts]
                + [totals.get(n, 0) for n in numbers]
                + [
                    value
                    for key in SECTION_KEYS
                    for value in (sections.get(key, ""), 1 if key in sections else 0)
                ]
                + ([own.get(n, 0) for n in numbers] if party else [])
                + [candidates.get(pair, 0) for pair in pairs]
                + (_area_columns(view["area"].area, view["area"].names, numbers)
                   if regional else [])
            )
    filename = f"{contest.code}-{region_code or 'indonesia'}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blueprint.get("/export/<contest_code>/tps.csv")
def export_tps(contest_code: str) -> ResponseReturnValue:
    """Open data: one row per TPS (status, receipt code, numbers, photo link), streamed;
    ?region=CODE narrows it to a region. Columns: docs/OPEN-DATA.md."""
    from flask import stream_with_context

    from web.dashboard.open_data import stream

    region_code = "".join(ch for ch in request.args.get("region", "") if ch.isdigit())
    with session_scope() as db:
        contest = _contest(db, contest_code)
        if region_code and (
            db.get(Region, region_code) is None or not results.applies(contest, region_code)
        ):
            abort(404)
        code = contest.code
    base_url = request.host_url.rstrip("/")

    def chunks():  # type: ignore[no-untyped-def]
        with session_scope() as db:
            yield from stream(db, db.get_one(Contest, code), region_code, base_url)

    filename = f"{code}-tps-{region_code or 'indonesia'}.csv"
    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _area_columns(area: str | None, names: dict[int, str], numbers: list[int]) -> list[str]:
    """A regional contest's row: its area and the names its numbers have there."""
    return [area or ""] + [names.get(n, "") if area else "" for n in numbers]


@blueprint.get("/search")
def search() -> ResponseReturnValue:
    """A TPS or region by code, a region by name, or `TPS 001` within a village (?within=)."""
    from flask import redirect, url_for

    query, within = request.args.get("q", ""), request.args.get("within", "")
    with session_scope() as db:
        found = find(db, query, within)
        if found.tps:
            return redirect(url_for("dashboard.tps", code=found.tps))
        contest = request.args.get("contest") or db.scalar(
            select(Contest.code).order_by(Contest.position, Contest.code)
        )
        if found.region and contest:
            return redirect(
                url_for("dashboard.region", contest_code=contest, region_code=found.region)
            )
        if found.matches:
            return render_template(
                "dashboard/search.html",
                query=query,
                matches=found.matches,
                parents=parents(db, found.matches),
                contest=contest,
            )
    return render_template(
        "dashboard/not_found.html", message=t(found.reason), query=query
    ), 404


from web.dashboard import photos  # noqa: E402  (its routes: the upright photos)
