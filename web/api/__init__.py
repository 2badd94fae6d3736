"""Public JSON under /api/v1/: contests, results per region, TPS, the confirmation timeline,
and the audit log's head and entries as anchors (web.api.audit).

Read-only, public, and free of personal data (see web.public). CSV: /export/<contest>.csv.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from relay import results
from relay.ballots import PARTIES, area_candidates, contest_dapils
from relay.db import session_scope
from relay.models import Contest, Region
from web import public
from web.api import audit

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
blueprint.register_blueprint(audit.blueprint)


@blueprint.after_request
def _cors(response):  # type: ignore[no-untyped-def]
    """Public data: any site may read it (no cookies are involved)."""
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def _candidates(contest: Contest) -> list[dict[str, Any]]:
    return [{"number": f"{c.ballot_number:02d}", "name": c.name} for c in contest.candidates]


def _listed(candidates: list[Any]) -> list[dict[str, Any]]:
    return [{"number": f"{c.ballot_number:02d}", "name": c.name} for c in candidates]


def _areas(db: Session, contest: Contest) -> list[dict[str, Any]]:
    """A regional candidate contest's areas, each with its own list (empty: one list)."""
    if contest.kind == PARTIES:
        return []
    out = []
    for dapil in contest_dapils(db, contest.code):
        names = area_candidates(db, contest.code, dapil.code)
        out.append(
            {
                "code": dapil.code,
                "name": dapil.name,
                "regions": list(dapil.regions or []),
                "candidates": [
                    {"number": f"{n:02d}", "name": name} for n, name in sorted(names.items())
                ],
            }
        )
    return out


@blueprint.get("/contests")
def contests() -> ResponseReturnValue:
    with session_scope() as db:
        overview = results.contests_overview(db)
        return jsonify(
            contests=[
                {
                    "code": contest.code,
                    "name": contest.name,
                    "regions": list(contest.region_scope or []),
                    "candidates": _candidates(contest),
                    # Regional contests (DPD, pilkada): each area's own candidate list.
                    "areas": _areas(db, contest),
                    "national": area.as_dict(),
                }
                for contest, area in overview
            ]
        )


@blueprint.get("/results/<contest_code>")
@blueprint.get("/results/<contest_code>/<region_code>")
def region_results(contest_code: str, region_code: str = "") -> ResponseReturnValue:
    with session_scope() as db:
        contest = db.get(Contest, contest_code.upper())
        if contest is None:
            abort(404)
        view = public.region_view(db, contest, region_code)
        if view is None:
            abort(404)
        children: list[dict[str, Any]] = []
        for child in view["children"]:
            if isinstance(child, results.Area):
                children.append(child.as_dict())
            else:
                confirmed = child["confirmed"]
                children.append(
                    {
                        "code": child["code"],
                        "name": child["name"],
                        "level": "tps",
                        "registered_voters": child["registered_voters"],
                        "status": child["status"],
                        "tally": public.submission_json(confirmed) if confirmed else None,
                    }
                )
        return jsonify(
            contest=contest.code,
            kind=contest.kind,
            # Regional contests: the candidates of the area the region lies in (`area`);
            # none for a region spanning several areas (`region.areas`: each one's results).
            candidates=_listed(view["candidates"]),
            area=view["area"].area,
            # Party contests, a region within one dapil: that dapil's candidates by "NN.K".
            party_candidates={
                f"{party['number']:02d}.{c['number']}": c["name"]
                for party in view["parties"]
                for c in party["candidates"]
                if c["name"]
            },
            region=view["area"].as_dict(),
            breadcrumbs=[{"code": r.code, "name": r.name} for r in view["breadcrumbs"]],
            children=children,
        )


@blueprint.get("/tps/<code>")
def tps(code: str) -> ResponseReturnValue:
    with session_scope() as db:
        view = public.tps_view(db, code)
        if view is None:
            abort(404)
        station = view["tps"]
        return jsonify(
            code=station.code,
            name=station.name,
            registered_voters=station.registered_voters,
            breadcrumbs=[{"code": r.code, "name": r.name} for r in view["breadcrumbs"]],
            contests=[
                {
                    "contest": entry["contest"].code,
                    "area": entry["area"],
                    "candidates": _listed(entry["candidates"]),
                    "status": entry["status"],
                    "tally": public.submission_json(entry["confirmed"])
                    if entry["confirmed"]
                    else None,
                    "parties": entry["detail"]["parties"] if entry["detail"] else [],
                    "checks": entry["checks"],
                    "photos": public.photos_json(station.code, entry),
                    # Every tally, each with `published`; the numbers of one nobody
                    # confirmed are null (web.public.is_published).
                    "history": [
                        public.submission_json(h["submission"], h["published"])
                        for h in entry["history"]
                    ],
                }
                for entry in view["contests"]
            ],
        )


@blueprint.get("/timeline/<contest_code>")
def timeline(contest_code: str) -> ResponseReturnValue:
    with session_scope() as db:
        contest = db.get(Contest, contest_code.upper())
        if contest is None:
            abort(404)
        region_code = request.args.get("region", "")
        if region_code and db.get(Region, region_code) is None:
            abort(404)
        points = results.timeline(db, contest.code, region_code)
    return jsonify(
        contest=contest.code,
        region=region_code or None,
        confirmed_per_hour=[{"hour": hour.isoformat(), "confirmed": n} for hour, n in points],
    )


@blueprint.errorhandler(404)
def _not_found(_error: Exception) -> ResponseReturnValue:
    return jsonify(error="not found"), 404
