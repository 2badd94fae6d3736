"""Form and photo commands: `forms render` (printable tally forms) and `ocr read` (a photo → JSON).

    forms render --contest PPWP --tps 3576011001001 --out DIR
    forms render --contest PPWP --region 3576 --out DIR [--combined] [--no-png]
    ocr read PHOTO.jpg [PAGE2.jpg …] [--contest PPWP] [--tps CODE] [--annotated OUT.jpg]
    ocr export-digits --out FILE.npz [--since ISO] [--contest PPWP] [--include-training]
                      [--limit N]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

forms_cli = AppGroup("forms", help="Printable tally forms (C.Hasil) with QR code and markers.")
ocr_cli = AppGroup("ocr", help="Reading photos of tally forms.")


@forms_cli.command("render")
@click.option("--contest", "contest_code", required=True, help="Contest code, e.g. PPWP.")
@click.option("--tps", "tps_code", default=None, help="One TPS (13 digits).")
@click.option("--region", default=None, help="Every TPS whose code starts with this region code.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--dpi", default=300, show_default=True, help="Print resolution.")
@click.option("--png/--no-png", default=True, show_default=True, help="Also write PNG pages.")
@click.option("--combined", is_flag=True, help="Also write one PDF with every page rendered.")
def forms_render(
    contest_code: str,
    tps_code: str | None,
    region: str | None,
    out_dir: Path,
    dpi: int,
    png: bool,
    combined: bool,
) -> None:
    """Render the form of CONTEST for one TPS or a whole region: PNG, PDF and layout.json.

    Party contests with dapils print each TPS its dapil's candidate lists: one layout per dapil
    (layout-<DAPIL>.json when the region spans several)."""
    from sqlalchemy import select

    from ocr.pdf import write_pdf
    from ocr.render import TpsInfo, render_page, write_form, write_layout
    from ocr.templates import FormTemplate, template_for
    from relay.ballots import dapil_for
    from relay.db import session_scope
    from relay.models import Contest, Dapil, Tps

    if bool(tps_code) == bool(region):
        raise click.UsageError("give exactly one of --tps and --region")
    digits = "".join(ch for ch in (tps_code or region or "") if ch.isdigit())
    code = contest_code.upper()
    with session_scope() as session:
        contest = session.get(Contest, code)
        if contest is None:
            raise click.BadParameter(f"no contest {contest_code!r}", param_hint="--contest")
        dapils = list(session.scalars(select(Dapil).where(Dapil.contest_code == code)))
        query = select(Tps).order_by(Tps.code)
        query = query.where(Tps.code == digits) if tps_code else query.where(
            Tps.code.startswith(digits)
        )
        by_dapil: dict[str | None, FormTemplate | None] = {}
        stations: list[tuple[TpsInfo, FormTemplate]] = []
        for t in session.scalars(query):
            if not contest.applies_to(t.code):
                continue
            dapil = dapil_for(dapils, t.code) if dapils else None
            key = dapil.code if dapil else None
            if key not in by_dapil:
                by_dapil[key] = template_for(session, code, t.code)
            template = by_dapil[key]
            if template is not None:
                stations.append((TpsInfo(t.code, t.name, t.registered_voters), template))
    if not stations:
        click.echo(f"no TPS {'code ' + digits if tps_code else 'under ' + digits} "
                   f"takes part in {code}", err=True)
        sys.exit(1)
    templates = list(dict.fromkeys(template for _tps, template in stations))
    layouts = []
    for template in templates:
        name = "layout.json" if len(templates) == 1 else f"layout-{template.dapil}.json"
        layouts.append(write_layout(template, out_dir / name, dpi))
    files = 0
    for number, (tps, template) in enumerate(stations, start=1):
        files += len(write_form(template, tps, out_dir, dpi, png=png))
        if sys.stderr.isatty() and len(stations) > 1:
            click.echo(f"\r{number}/{len(stations)} TPS", nl=False, err=True)
    if sys.stderr.isatty() and len(stations) > 1:
        click.echo("", err=True)
    if combined:
        def pages() -> Iterator:  # type: ignore[type-arg]
            for tps, template in stations:
                for page in range(1, template.pages + 1):
                    yield render_page(template, page, tps, dpi)

        name = out_dir / f"{digits}-{code}-all.pdf"
        count = write_pdf(pages(), name, dpi)
        click.echo(f"{name}: {count} pages")
    for template in templates:
        click.echo(
            f"{template.template_id} v{template.version}"
            + (f" dapil {template.dapil}" if template.dapil else "")
            + f": {template.pages} page(s), "
            f"{sum(1 for _t, t in stations if t == template)} TPS"
        )
    click.echo(f"{len(stations)} TPS, {files} files, layout in "
               + ", ".join(str(p) for p in layouts))


@ocr_cli.command("read")
@click.argument("images", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contest", "contest_code", default=None, help="The contest the officer chose.")
@click.option("--tps", "tps_code", default=None, help="The TPS the photo must be of.")
@click.option("--annotated", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the page with the values drawn over it (JPEG; one photo only).")
@click.option("--verify-header", is_flag=True, help="Also read the printed TPS code (tesseract).")
def ocr_read(
    images: tuple[Path, ...],
    contest_code: str | None,
    tps_code: str | None,
    annotated: Path | None,
    verify_header: bool,
) -> None:
    """Read photos of a tally form and print the result as JSON (exit 1 if one is refused).

    One photo: that page's reading. Several (the pages of one form): every page, then the form
    assembled from them (values, the rules across pages, the pages still missing)."""
    from ocr.assemble import PageReading, assemble
    from ocr.reader import read_photo
    from ocr.templates import DbLookup
    from relay.db import session_scope

    with session_scope() as session:
        lookup = DbLookup(session)
        results = [
            read_photo(
                image.read_bytes(),
                lookup,
                expect_contest=contest_code,
                expect_tps={tps_code} if tps_code else None,
                annotate_page=annotated is not None and len(images) == 1,
                verify_header=verify_header,
            )
            for image in images
        ]
        forms = {}
        for result in results:
            if result.ok:
                template = lookup.template(result.contest, result.tps_code)
                pages = forms.setdefault((result.contest, result.tps_code), (template, {}))[1]
                pages[result.page] = PageReading.from_result(result)
        assembled = [
            _form_json(assemble(template, pages, lookup.registered_voters(tps)), tps)
            for (_contest, tps), (template, pages) in forms.items()
        ]
    if annotated is not None and len(results) == 1 and results[0].annotated_jpeg:
        annotated.write_bytes(results[0].annotated_jpeg)
    if len(results) == 1:
        output: object = results[0].to_json()
    else:
        output = {"pages": [r.to_json() for r in results], "forms": assembled}
    click.echo(json.dumps(output, indent=1, ensure_ascii=False))
    if not all(r.ok for r in results):
        sys.exit(1)


@ocr_cli.command("export-digits")
@click.option("--out", "out_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The .npz to write.")
@click.option("--since", default=None, callback=lambda _c, _p, v: _iso_time(v),
              help="Only tallies confirmed at or after this time: ISO 8601, e.g. "
              "2024-02-14 or 2024-02-14T20:00+07:00 (UTC when no offset is given).")
@click.option("--contest", "contest_code", default=None, help="Only this contest, e.g. PPWP.")
@click.option("--include-training", is_flag=True,
              help="Also the simulator's training tallies (a rehearsal day's practice forms).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Stop after this many tallies with photos (each photo is read again: "
              "about a second, ~60 boxes of 3 KB in memory).")
def ocr_export_digits(out_file: Path, since, contest_code: str | None,  # type: ignore[no-untyped-def]
                      include_training: bool, limit: int | None) -> None:
    """Write the digit boxes of confirmed photo tallies as training data for
    ocr/train_digits.py --officer-digits (exit 1 when there is no box to write).

    Each box is labelled with the confirmed value, and kept only where the paper agrees with
    it (the reader read it so, or the bubbles spell it): see ocr/officer_digits.py. The file
    holds glyphs, labels, TPS codes and submission ids; nothing of the officers."""
    from relay.db import session_scope
    from relay.digit_export import export
    from relay.loaders.progress import terminal_progress

    progress = terminal_progress("tallies", sys.stderr)
    with session_scope() as session:
        result = export(session, since, contest_code, include_training, progress, limit)
    if progress is not None:
        progress.close()
    click.echo(result.summary())
    if not result.labels:
        click.echo("no box to export: nothing written", err=True)
        sys.exit(1)
    result.save(out_file)
    click.echo(f"wrote {out_file}")


def _iso_time(value: str | None):  # type: ignore[no-untyped-def]
    """An ISO 8601 date or time as an aware UTC datetime (naive: taken as UTC)."""
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"not an ISO date or time: {value!r}",
                                 param_hint="--since") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _form_json(form, tps_code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "contest": form.template.contest_code,
        "tps_code": tps_code,
        "dapil": form.template.dapil,
        "pages": form.template.pages,
        "pages_read": list(form.pages_in),
        "missing_pages": list(form.missing),
        "values": form.values,
        "uncertain": sorted(form.uncertain),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in form.checks],
    }


def register(app: Flask) -> None:
    for group in (forms_cli, ocr_cli):
        app.cli.add_command(group)
