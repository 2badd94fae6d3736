"""Form and photo commands: `forms render` (printable tally forms) and `ocr read` (a photo → JSON).

    forms render --contest PPWP --tps 3576011001001 --out DIR
    forms render --contest PPWP --region 3576 --out DIR [--combined] [--no-png]
    ocr read PHOTO.jpg [--contest PPWP] [--tps CODE] [--annotated OUT.jpg]
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
    """Render the form of CONTEST for one TPS or a whole region: PNG, PDF and layout.json."""
    from sqlalchemy import select

    from ocr.pdf import write_pdf
    from ocr.render import TpsInfo, render_page, write_form, write_layout
    from ocr.templates import template_for
    from relay.db import session_scope
    from relay.models import Contest, Tps

    if bool(tps_code) == bool(region):
        raise click.UsageError("give exactly one of --tps and --region")
    digits = "".join(ch for ch in (tps_code or region or "") if ch.isdigit())
    with session_scope() as session:
        contest = session.get(Contest, contest_code.upper())
        template = template_for(session, contest_code)
        if contest is None or template is None:
            raise click.BadParameter(f"no contest {contest_code!r}", param_hint="--contest")
        query = select(Tps).order_by(Tps.code)
        query = query.where(Tps.code == digits) if tps_code else query.where(
            Tps.code.startswith(digits)
        )
        stations = [
            TpsInfo(t.code, t.name, t.registered_voters)
            for t in session.scalars(query)
            if contest.applies_to(t.code)
        ]
    if not stations:
        click.echo(f"no TPS {'code ' + digits if tps_code else 'under ' + digits} "
                   f"takes part in {template.contest_code}", err=True)
        sys.exit(1)
    write_layout(template, out_dir / "layout.json", dpi)
    files = 0
    for number, tps in enumerate(stations, start=1):
        files += len(write_form(template, tps, out_dir, dpi, png=png))
        if sys.stderr.isatty() and len(stations) > 1:
            click.echo(f"\r{number}/{len(stations)} TPS", nl=False, err=True)
    if sys.stderr.isatty() and len(stations) > 1:
        click.echo("", err=True)
    if combined:
        def pages() -> Iterator:  # type: ignore[type-arg]
            for tps in stations:
                for page in range(1, template.pages + 1):
                    yield render_page(template, page, tps, dpi)

        name = out_dir / f"{digits}-{template.contest_code}-all.pdf"
        count = write_pdf(pages(), name, dpi)
        click.echo(f"{name}: {count} pages")
    click.echo(
        f"{template.template_id} v{template.version}: {len(stations)} TPS, {files} files, "
        f"layout in {out_dir / 'layout.json'}"
    )


@ocr_cli.command("read")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contest", "contest_code", default=None, help="The contest the officer chose.")
@click.option("--tps", "tps_code", default=None, help="The TPS the photo must be of.")
@click.option("--annotated", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the page with the values drawn over it (JPEG).")
@click.option("--verify-header", is_flag=True, help="Also read the printed TPS code (tesseract).")
def ocr_read(
    image: Path,
    contest_code: str | None,
    tps_code: str | None,
    annotated: Path | None,
    verify_header: bool,
) -> None:
    """Read a photo of a tally form and print the result as JSON (exit 1 if refused)."""
    from ocr.reader import read_photo
    from ocr.templates import DbLookup
    from relay.db import session_scope

    with session_scope() as session:
        result = read_photo(
            image.read_bytes(),
            DbLookup(session),
            expect_contest=contest_code,
            expect_tps={tps_code} if tps_code else None,
            annotate_page=annotated is not None,
            verify_header=verify_header,
        )
    if annotated is not None and result.annotated_jpeg:
        annotated.write_bytes(result.annotated_jpeg)
    click.echo(json.dumps(result.to_json(), indent=1, ensure_ascii=False))
    if not result.ok:
        sys.exit(1)


def register(app: Flask) -> None:
    for group in (forms_cli, ocr_cli):
        app.cli.add_command(group)
