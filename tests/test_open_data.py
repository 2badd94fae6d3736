"""Open data: every TPS of a contest as one CSV row, streamed, nationally or per region, with
status, receipt code, numbers and photo link; a TPS without a confirmed tally has empty
numbers, never zeros; the columns are the ones docs/OPEN-DATA.md documents."""

from __future__ import annotations

import csv
import io
import re

from relay.config import ROOT
from relay.db import session_scope
from relay.models import Tps
from tests.test_dashboard import reported, say, web  # noqa: F401  (fixtures)


def _rows(web, path: str) -> list[dict[str, str]]:  # noqa: F811
    response = web.get(path)
    assert response.status_code == 200, response.data
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_every_tps_nationally_one_row_each(web) -> None:  # noqa: F811
    rows = _rows(web, "/export/PPWP/tps.csv")
    with session_scope() as session:
        assert [r["tps_code"] for r in rows] == sorted(c for (c,) in session.query(Tps.code))
    by_code = {r["tps_code"]: r for r in rows}
    first = by_code["3576011001001"]
    assert (first["status"], first["source"], first["sah"], first["01"]) == (
        "confirmed", "text", "255", "120"
    )
    assert re.fullmatch(r"[A-Z0-9]{6}", first["receipt_code"])
    assert first["confirmed_at"].endswith("+00:00")
    waiting = by_code["3576011002001"]  # reported, never confirmed
    assert waiting["status"] == "received" and waiting["sah"] == "" and waiting["01"] == ""
    assert sum(r["status"] == "confirmed" for r in rows) == 4
    assert {r["status"] for r in rows} == {"confirmed", "received", "missing"}


def test_a_region_and_a_regional_contest(web) -> None:  # noqa: F811
    village = _rows(web, "/export/PPWP/tps.csv?region=3576011001")
    assert village and all(r["tps_code"].startswith("3576011001") for r in village)
    # DPD is held per province: its file lists only TPS where DPD is on the ballot.
    dpd = _rows(web, "/export/DPD/tps.csv?region=35")
    assert {r["tps_code"][:2] for r in dpd} == {"35"}
    assert next(r for r in dpd if r["tps_code"] == "3576011001001")["sah"] == "250"
    assert web.get("/export/PPWP/tps.csv?region=99").status_code == 404


def test_columns_are_documented(web) -> None:  # noqa: F811
    header = web.get("/export/DPR/tps.csv").get_data(as_text=True).splitlines()[0].split(",")
    documented = (ROOT / "docs" / "OPEN-DATA.md").read_text(encoding="utf-8")
    for column in header:
        if re.fullmatch(r"\d\d", column) or column in {"DPTB", "DPK", "PHP", "PDPT", "PDPTB",
                                                      "PDPK", "SSD", "SSR", "SSTD", "SS",
                                                      "DIS", "ts"}:
            continue  # documented as families: `01`, `02`, … and `DPT` … `PDIS`, `sah`, `ts`
        assert f"`{column}`" in documented, column


def test_photo_tallies_link_their_photo(web) -> None:  # noqa: F811
    from sqlalchemy import update

    from relay.models import Submission

    with session_scope() as session:  # as the photo path stores it (tests/test_photo_flow.py)
        session.execute(
            update(Submission)
            .where(Submission.tps_code == "3576021001001", Submission.status == "confirmed")
            .values(source="photo")
        )
    row = next(r for r in _rows(web, "/export/PPWP/tps.csv?region=3576")
               if r["tps_code"] == "3576021001001")
    assert row["source"] == "photo"
    assert re.fullmatch(r"http://localhost/tps/3576021001001/photo/\d+/0", row["photo_url"])
